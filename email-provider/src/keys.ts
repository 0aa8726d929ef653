// The provider's Ed25519 signing keys. Generated on first start and kept in
// `<dataDir>/signing-keys.json` (mode 0600): the current key with its private half, and the
// public halves of retired keys so assertions signed before a rotation still verify.
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVIDER_KEY_ALG } from '@bsso/protocol';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

export const SIGNING_KEYS_FILE = 'signing-keys.json';

interface StoredKey {
  kid: string;
  created_at: number;
  public_jwk: JWK;
  /** Present for the current key only. */
  private_jwk?: JWK;
}

interface KeyFile {
  version: 1;
  keys: StoredKey[];
}

export interface SigningKeys {
  current: { kid: string; privateKey: CryptoKey };
  /** The public key for a key id, current or retired. */
  publicKey(kid: string): CryptoKey | undefined;
  kids(): string[];
}

async function newKey(now: number): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(PROVIDER_KEY_ALG, {
    crv: 'Ed25519',
    extractable: true,
  });
  const privateJwk = await exportJWK(privateKey);
  const { d: _d, ...publicJwk } = privateJwk;
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    kid,
    created_at: now,
    public_jwk: { ...publicJwk, kid, alg: PROVIDER_KEY_ALG, use: 'sig' },
    private_jwk: { ...privateJwk, kid, alg: PROVIDER_KEY_ALG },
  };
}

async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  // Written beside and renamed so a crash never leaves a half-written key file.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

async function readKeyFile(path: string): Promise<KeyFile | undefined> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new Error(`${path} is readable by others; run chmod 600 on it.`);
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const file = JSON.parse(text) as KeyFile;
  if (file.version !== 1 || !Array.isArray(file.keys) || !file.keys[0]?.private_jwk) {
    throw new Error(`${path} is not a BSSO signing key file.`);
  }
  return file;
}

async function toSigningKeys(file: KeyFile): Promise<SigningKeys> {
  const [first] = file.keys;
  if (!first?.private_jwk) throw new Error('no current signing key');
  const privateKey = await importJWK(first.private_jwk, PROVIDER_KEY_ALG);
  const publics = new Map<string, CryptoKey>();
  for (const k of file.keys) {
    const key = await importJWK(k.public_jwk, PROVIDER_KEY_ALG);
    if (!(key instanceof Uint8Array)) publics.set(k.kid, key);
  }
  if (privateKey instanceof Uint8Array) throw new Error('the signing key is not an Ed25519 key');
  return {
    current: { kid: first.kid, privateKey },
    publicKey: (kid) => publics.get(kid),
    kids: () => [...publics.keys()],
  };
}

/** Loads the signing keys from `dataDir`, creating the first one when there is none. */
export async function loadSigningKeys(dataDir: string, now: number): Promise<SigningKeys> {
  const path = join(dataDir, SIGNING_KEYS_FILE);
  let file = await readKeyFile(path);
  if (!file) {
    file = { version: 1, keys: [await newKey(now)] };
    await writeKeyFile(path, file);
  }
  return toSigningKeys(file);
}

/**
 * Makes a new current key and retires the old one (its private half is dropped). Running
 * providers pick it up on restart. `keep` bounds how many retired public keys are kept.
 */
export async function rotateSigningKey(dataDir: string, now: number, keep = 3): Promise<string> {
  const path = join(dataDir, SIGNING_KEYS_FILE);
  const file = (await readKeyFile(path)) ?? { version: 1, keys: [] };
  const retired = file.keys.map(({ private_jwk: _p, ...rest }) => rest).slice(0, keep);
  const fresh = await newKey(now);
  await writeKeyFile(path, { version: 1, keys: [fresh, ...retired] });
  return fresh.kid;
}
