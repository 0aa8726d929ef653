// Compact JWS signing with Node's own crypto, for the provider's assertions
// (protocol-spec.md#assertion). jose's CompactSign imports a WebCrypto key from the raw
// association secret for every HS256 signature and runs each signature as a WebCrypto job;
// Node's createHmac with a KeyObject is about 20x cheaper (bench/README.md, section 3). The
// token is byte-identical to jose's: the same JSON header and claims, unpadded base64url, and
// the same signature (HMAC-SHA256, and Ed25519, which is deterministic). Browsers have no
// `node:crypto`: there `signCompactWithNode` answers undefined and jose signs.
import type { CryptoKey } from 'jose';

type NodeCrypto = typeof import('node:crypto');
type NodeBuffer = typeof import('node:buffer');
type KeyObject = ReturnType<NodeCrypto['createSecretKey']>;

const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
  .process;
const node =
  nodeProcess?.getBuiltinModule === undefined
    ? undefined
    : {
        crypto: nodeProcess.getBuiltinModule('node:crypto') as NodeCrypto,
        Buffer: (nodeProcess.getBuiltinModule('node:buffer') as NodeBuffer).Buffer,
      };

/** The key of a compact JWS that Node may sign: HS256 with a secret, EdDSA with a CryptoKey. */
export type NodeSigningKey =
  | { alg: 'HS256'; secret: Uint8Array }
  | { alg: 'EdDSA'; privateKey: CryptoKey };

/**
 * `header` and `payload` (JSON text) as a compact JWS signed with Node's crypto, or undefined
 * where Node's crypto is missing or the key is one it would not treat as jose does (an empty
 * secret, a CryptoKey that is not a private Ed25519 signing key): the caller then signs with
 * jose, which signs or refuses exactly as before.
 */
export function signCompactWithNode(
  header: Record<string, unknown>,
  payload: string,
  key: NodeSigningKey,
): string | undefined {
  if (node === undefined) return undefined;
  const { crypto, Buffer } = node;
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  if (key.alg === 'HS256') {
    if (key.secret.byteLength === 0) return undefined;
    const signature = crypto.createHmac('sha256', hmacKey(key.secret)).update(input).digest();
    return `${input}.${signature.toString('base64url')}`;
  }
  const privateKey = ed25519Key(key.privateKey);
  if (privateKey === undefined) return undefined;
  return `${input}.${crypto.sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
}

/** How many association secrets keep a KeyObject (least recently used dropped first). */
export const HMAC_KEY_CACHE_SIZE = 1024;
// A provider reads the association for every assertion, so the same secret arrives as a new
// Uint8Array each time: the cache is keyed by the secret's bytes. It holds at most
// HMAC_KEY_CACHE_SIZE secrets that are in the association store anyway.
const hmacKeys = new Map<string, KeyObject>();

function hmacKey(secret: Uint8Array): KeyObject {
  const { crypto, Buffer } = node as NonNullable<typeof node>;
  const id = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('base64');
  let key = hmacKeys.get(id);
  if (key === undefined) {
    key = crypto.createSecretKey(secret);
    if (hmacKeys.size >= HMAC_KEY_CACHE_SIZE) {
      const oldest = hmacKeys.keys().next().value;
      if (oldest !== undefined) hmacKeys.delete(oldest);
    }
  } else {
    hmacKeys.delete(id);
  }
  hmacKeys.set(id, key);
  return key;
}

/** How many secrets the HS256 key cache holds now (tests). */
export function hmacKeyCacheSize(): number {
  return hmacKeys.size;
}

// The provider's key is one CryptoKey for as long as the key file is not reloaded; it is
// imported extractable for this (email-provider/src/keys.ts).
const ed25519Keys = new WeakMap<CryptoKey, KeyObject>();

/**
 * The KeyObject of a private Ed25519 signing key; undefined for anything jose would refuse,
 * and for a non-extractable key (Node deprecates making a KeyObject of one: jose signs).
 */
function ed25519Key(privateKey: CryptoKey): KeyObject | undefined {
  let key = ed25519Keys.get(privateKey);
  if (key !== undefined) return key;
  const { crypto } = node as NonNullable<typeof node>;
  if (
    privateKey?.extractable !== true ||
    privateKey.type !== 'private' ||
    privateKey.algorithm?.name !== 'Ed25519' ||
    !privateKey.usages?.includes('sign')
  ) {
    return undefined;
  }
  try {
    key = crypto.KeyObject.from(privateKey);
  } catch {
    return undefined; // not a real CryptoKey: jose refuses it
  }
  ed25519Keys.set(privateKey, key);
  return key;
}
