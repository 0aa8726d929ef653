// Random identifiers from the platform CSPRNG (Web Crypto in browsers, Node's crypto in Node).
import { base64url } from 'jose';

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export interface RandomTokenOptions {
  /**
   * `auto` (default) takes the bytes from Node's crypto where it exists and `webcrypto`
   * forces `crypto.getRandomValues` and jose's base64url, as in browsers. Both give
   * `length` CSPRNG bytes as unpadded base64url.
   */
  implementation?: 'auto' | 'webcrypto';
}

/** `length` random bytes as unpadded base64url. */
export function randomToken(length: number, options: RandomTokenOptions = {}): string {
  if (
    node !== undefined &&
    options.implementation !== 'webcrypto' &&
    Number.isInteger(length) &&
    length > 0 &&
    length <= POOL_BYTES
  ) {
    return node.token(length);
  }
  return base64url.encode(randomBytes(length));
}

/** Unpadded base64url of 16..512 characters: the shape of every BSSO token. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;

// A session id, nonce or jti per request: WebCrypto's getRandomValues runs a RandomBytesJob
// per call and jose's base64url goes through btoa and three replaces in Node, 5 to 6 % of a
// site's sign-in (bench/README.md, section 2). In Node the bytes come from a pool filled by
// one randomFillSync per 4 KiB (as Node pools randomUUID's), each byte handed out once and
// then zeroed, and Buffer encodes them.
const POOL_BYTES = 4096;
type NodeCrypto = typeof import('node:crypto');
type NodeBuffer = typeof import('node:buffer');
const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
  .process;
const node = nodeProcess?.getBuiltinModule === undefined ? undefined : nodePool();

function nodePool() {
  const getModule = nodeProcess?.getBuiltinModule as (id: string) => unknown;
  const { randomFillSync } = getModule('node:crypto') as NodeCrypto;
  const pool = (getModule('node:buffer') as NodeBuffer).Buffer.allocUnsafeSlow(POOL_BYTES);
  let used = POOL_BYTES;
  return {
    token(length: number): string {
      if (used + length > POOL_BYTES) {
        randomFillSync(pool);
        used = 0;
      }
      const token = pool.toString('base64url', used, used + length);
      pool.fill(0, used, used + length); // a handed-out id does not stay in the pool
      used += length;
      return token;
    },
  };
}
