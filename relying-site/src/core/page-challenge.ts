// Page challenges (protocol-spec.md#page-challenge): a nonce the site puts into its page, so
// that a warm sign-in needs no challenge request. Nothing is stored per page view: the nonce
// carries its expiry and a MAC over it and the browser id, and is recorded only when a
// delivery uses it (single use). The format is this site's own; only this site reads it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { limits, type PageChallenge, pageChallengeAttributes, randomToken } from '@bsso/protocol';
import { base64url } from 'jose';
import type { NonceRecord, NonceStore } from './stores.ts';

const VERSION = 1;
const RANDOM_BYTES = 16;
const MAC_BYTES = 16;
/** Version (1 byte), expiry in Unix seconds (4 bytes), random, MAC. */
const NONCE_BYTES = 1 + 4 + RANDOM_BYTES + MAC_BYTES;
/** Its base64url length: never that of a challenge nonce (limits.nonceBytes, 43 characters). */
const NONCE_LENGTH = Math.ceil((NONCE_BYTES * 4) / 3);
const MAC_LABEL = 'bsso page nonce v1\0';

/** The secret a page nonce's MAC is made with, and the site's handle set. */
export interface PageChallengeKeys {
  key: Uint8Array;
  /**
   * Names the association cache the handles of this site's challenges come from: an
   * extension reuses a handle only on pages naming the same set, so a cache that was lost
   * (a restarted process's memory) never gets a handle it no longer holds.
   */
  handleSet: string;
}

/** Where the keys live: in memory for one process, in the shared store for several. */
export type PageChallengeKeySource = () => Promise<PageChallengeKeys>;

export function newPageChallengeKeys(): PageChallengeKeys {
  return { key: randomBytes(32), handleSet: randomToken(limits.idBytes) };
}

export function memoryPageChallengeKeys(): PageChallengeKeySource {
  const keys = newPageChallengeKeys();
  return async () => keys;
}

export function isPageNonce(nonce: string): boolean {
  return nonce.length === NONCE_LENGTH;
}

function mac(key: Uint8Array, browserId: string, body: Uint8Array): Buffer {
  return createHmac('sha256', key)
    .update(MAC_LABEL)
    .update(browserId)
    .update('\0')
    .update(body)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** A new page nonce for `browserId`, valid until `expiresAt` (ms since the epoch). */
export function createPageNonce(key: Uint8Array, browserId: string, expiresAt: number): string {
  const bytes = new Uint8Array(NONCE_BYTES);
  bytes[0] = VERSION;
  new DataView(bytes.buffer).setUint32(1, Math.floor(expiresAt / 1000));
  bytes.set(randomBytes(RANDOM_BYTES), 5);
  bytes.set(mac(key, browserId, bytes.subarray(0, 5 + RANDOM_BYTES)), 5 + RANDOM_BYTES);
  return base64url.encode(bytes);
}

/**
 * The page nonce's expiry (ms since the epoch) when its MAC holds for `browserId`, else null.
 * Expiry is the caller's to check.
 */
export function readPageNonce(key: Uint8Array, browserId: string, nonce: string): number | null {
  if (!isPageNonce(nonce)) return null;
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(nonce);
  } catch {
    return null;
  }
  if (bytes.length !== NONCE_BYTES || bytes[0] !== VERSION) return null;
  const body = bytes.subarray(0, 5 + RANDOM_BYTES);
  const expected = mac(key, browserId, body);
  if (!timingSafeEqual(expected, bytes.subarray(5 + RANDOM_BYTES))) return null;
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(1) * 1000;
}

/**
 * The nonce store the verification consumes from, for one delivery: a challenge nonce as
 * before; a page nonce when its MAC holds for this browser, it has not expired and it was
 * never used (recorded in the store until it expires, atomically across instances).
 */
export function nonceConsumer(
  nonces: NonceStore,
  keys: PageChallengeKeySource,
  browserId: string | undefined,
  now: () => number,
): NonceStore {
  return {
    put: (nonce, record) => nonces.put(nonce, record),
    async consume(nonce): Promise<NonceRecord | null> {
      if (!isPageNonce(nonce)) return nonces.consume(nonce);
      if (browserId === undefined || nonces.claim === undefined) return null;
      const expiresAt = readPageNonce((await keys()).key, browserId, nonce);
      if (expiresAt === null || expiresAt <= now()) return null;
      if (!(await nonces.claim(nonce, expiresAt))) return null;
      return { browserId, expiresAt };
    },
  };
}

/**
 * The endpoint link's page challenge attributes as HTML (a leading space, then each
 * `name="value"`), or '' without a challenge:
 * `<link rel="bsso_end_point" href="…"${pageChallengeHtml(c)}>`.
 */
export function pageChallengeHtml(challenge: PageChallenge | undefined | null): string {
  if (!challenge) return '';
  return Object.entries(pageChallengeAttributes(challenge))
    .map(
      ([name, value]) => ` ${name}="${value.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`)}"`,
    )
    .join('');
}
