// Password hashing with scrypt (node:crypto). Encoded as
// `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>` so parameters can be raised later.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_BYTES = 16;
// scrypt needs 128 * N * r bytes (32 MiB here); the default cap is exactly that, so raise it.
const MAX_MEM = 128 * N * R * 2;

/** Longest password accepted, in characters: bounds the work per attempt. */
export const MAX_PASSWORD_LENGTH = 1024;
export const MIN_PASSWORD_LENGTH = 8;

function derive(
  password: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
  len: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, len, { N: n, r, p, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, N, R, P, KEY_LENGTH);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time comparison against an encoded hash; false for any malformed encoding. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isSafeInteger(x) && x > 0) || n > N || r > R || p > P) {
    return false;
  }
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length === 0 || expected.length === 0) return false;
  const actual = await derive(password, salt, n, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * Checks a password for a possibly unknown account. Unknown accounts are checked against a
 * dummy hash so that the answer takes as long either way (no enumeration by timing).
 */
export function createPasswordChecker(): (
  password: string,
  encoded: string | undefined,
) => Promise<boolean> {
  let dummy: Promise<string> | undefined;
  return async (password, encoded) => {
    if (encoded !== undefined) return verifyPassword(password, encoded);
    dummy ??= hashPassword(randomBytes(16).toString('base64url'));
    await verifyPassword(password, await dummy);
    return false;
  };
}
