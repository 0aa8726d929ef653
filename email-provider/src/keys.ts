// The provider's Ed25519 signing keys. Generated on first start and kept in
// `<dataDir>/signing-keys.json` (mode 0600): the current key with its private half, and the
// public halves of retired keys so assertions signed before a rotation still verify
// (protocol-spec.md#direct-verification, step 4). A rotation (rotateSigningKey, the users
// CLI's rotate-keys) rewrites the file; a running provider reloads it without a restart
// (createKeyRing's reload, on SIGHUP in main.ts).
import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { limits, PROVIDER_KEY_ALG } from '@bsso/protocol';
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
  /** When a rotation retired it (ms); absent for the current key. */
  retired_at?: number;
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
  // Extractable, so the assertion signer can make one Node KeyObject of it and sign with
  // node:crypto (Node deprecates that for a non-extractable key, and jose, about twice as
  // slow, would sign instead). The key was just read from this file in this process: keeping
  // the CryptoKey non-extractable would hide nothing.
  const privateKey = await importJWK(first.private_jwk, PROVIDER_KEY_ALG, { extractable: true });
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

/** Signing keys that follow the key file: `reload` reads it again (after a rotation). */
export interface KeyRing extends SigningKeys {
  /** Reads the key file again; on any error the keys in use stay. Returns the current kid. */
  reload(): Promise<string>;
}

/** Loads the keys of `dataDir` (creating the first one) into a ring that can reload them. */
export async function createKeyRing(dataDir: string, now: number): Promise<KeyRing> {
  let keys = await loadSigningKeys(dataDir, now);
  return {
    get current() {
      return keys.current;
    },
    publicKey: (kid) => keys.publicKey(kid),
    kids: () => keys.kids(),
    async reload() {
      const file = await readKeyFile(join(dataDir, SIGNING_KEYS_FILE));
      if (!file) throw new Error(`${SIGNING_KEYS_FILE} is missing from the data directory.`);
      keys = await toSigningKeys(file);
      return keys.current.kid;
    },
  };
}

/**
 * How long a retired key's public half is kept whatever `keep` says: an assertion it signed
 * just before the rotation must verify until it expires (plus the clock skew allowed).
 */
const RETIRED_KEY_MIN_MS = (limits.maxAssertionLifetimeSeconds + limits.clockSkewSeconds) * 1000;

/**
 * Makes a new current key and retires the old one (its private half is dropped). A running
 * provider signs with the new key after its reload (SIGHUP) and keeps verifying the retired
 * ones. Retired public keys are kept while an assertion they signed can still be valid, and
 * beyond that the `keep` most recent.
 */
export async function rotateSigningKey(dataDir: string, now: number, keep = 3): Promise<string> {
  const path = join(dataDir, SIGNING_KEYS_FILE);
  const file = (await readKeyFile(path)) ?? { version: 1, keys: [] };
  const retired = file.keys
    .map(({ private_jwk: _p, ...rest }) => ({ ...rest, retired_at: rest.retired_at ?? now }))
    .filter((k, i) => i < keep || now - k.retired_at < RETIRED_KEY_MIN_MS);
  const fresh = await newKey(now);
  await writeKeyFile(path, { version: 1, keys: [fresh, ...retired] });
  return fresh.kid;
}
