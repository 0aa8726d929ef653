// Association handles the extension may reuse with a page challenge
// (protocol-spec.md#page-challenge): learned from a site's challenge answer, kept per endpoint
// and issuer in storage.local, used only on a page of that endpoint naming the same handle set
// and while the site said it keeps the handle. Written once per challenge, never per page.
import { type ChallengeAnswer, limits } from '@bsso/protocol';
import type { StorageAreaLike } from '../shared/storage.ts';

export interface RememberedHandle {
  handle: string;
  handleSet: string;
  expiresAt: number;
}

export interface HandleCache {
  /** A handle for this endpoint and issuer under `handleSet`, alive for the margin; or null. */
  usable(endpoint: string, issuer: string, handleSet: string): Promise<string | null>;
  /** Remembers the handle of a challenge answer that says how long it may be reused (else nothing). */
  learn(endpoint: string, issuer: string, challenge: ChallengeAnswer): Promise<void>;
  /** Forgets the handle (the provider no longer signed with it). */
  forget(endpoint: string, issuer: string): Promise<void>;
}

const PREFIX = 'handle:';

export function handleKey(endpoint: string, issuer: string): string {
  return `${PREFIX}${endpoint} ${issuer}`;
}

function read(value: unknown): RememberedHandle | null {
  if (typeof value !== 'object' || value === null) return null;
  const { handle, handleSet, expiresAt } = value as Record<string, unknown>;
  if (typeof handle !== 'string' || typeof handleSet !== 'string') return null;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return null;
  return { handle, handleSet, expiresAt };
}

export function createHandleCache(area: StorageAreaLike, now: () => number): HandleCache {
  const margin = limits.pageChallengeMarginSeconds * 1000;
  return {
    async usable(endpoint, issuer, handleSet) {
      const key = handleKey(endpoint, issuer);
      const remembered = read((await area.get(key))[key]);
      if (!remembered || remembered.handleSet !== handleSet) return null;
      return remembered.expiresAt - now() >= margin ? remembered.handle : null;
    },
    async learn(endpoint, issuer, challenge) {
      const { handle, handle_set: handleSet, handle_expires_in: seconds } = challenge;
      const key = handleKey(endpoint, issuer);
      // An answer without a reusable handle changes nothing: a remembered handle is used only
      // under its own handle set, which a site that lost it no longer names.
      if (handle === undefined || handleSet === undefined || seconds === undefined) return;
      const entry: RememberedHandle = { handle, handleSet, expiresAt: now() + seconds * 1000 };
      await area.set({ [key]: entry });
    },
    forget: (endpoint, issuer) => area.remove(handleKey(endpoint, issuer)),
  };
}
