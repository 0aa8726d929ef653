// Random identifiers from the platform CSPRNG (Web Crypto in browsers and Node alike).
import { base64url } from 'jose';

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** `length` random bytes as unpadded base64url. */
export function randomToken(length: number): string {
  return base64url.encode(randomBytes(length));
}

/** Unpadded base64url of 16..512 characters: the shape of every BSSO token. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;
