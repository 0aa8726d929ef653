// One-time codes (protocol-spec.md#fallback, duty 3; threat 47): 6 random digits from the
// cryptographic generator, kept hashed under a random id that only the asking browser holds
// (its cookie), valid for a bounded time, void after a few wrong attempts, used once.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { randomToken } from '@bsso/protocol';

export interface PendingCode {
  email: string;
  codeHash: Buffer;
  expiresAt: number;
  attempts: number;
}

export type CodeCheck =
  | { ok: true; email: string }
  | { ok: false; reason: 'unknown' | 'wrong' | 'spent' };

// Pending codes kept at most; at the cap the oldest goes (memory stays bounded).
const MAX_PENDING = 100_000;

function hash(id: string, code: string): Buffer {
  return createHash('sha256').update(`${id}:${code}`).digest();
}

export function newCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export interface CodeStore {
  /** A new code for `email`; returns the browser's id and the code to mail. */
  issue(email: string, now: number, ttlMs: number): { id: string; code: string };
  check(id: string | undefined, code: string, now: number, maxAttempts: number): CodeCheck;
  drop(id: string): void;
}

export function createCodeStore(): CodeStore {
  const pending = new Map<string, PendingCode>();
  return {
    issue(email, now, ttlMs) {
      const id = randomToken(32);
      const code = newCode();
      pending.set(id, { email, codeHash: hash(id, code), expiresAt: now + ttlMs, attempts: 0 });
      while (pending.size > MAX_PENDING) {
        const oldest = pending.keys().next().value;
        if (oldest === undefined) break;
        pending.delete(oldest);
      }
      return { id, code };
    },
    check(id, code, now, maxAttempts) {
      const record = id === undefined ? undefined : pending.get(id);
      if (id === undefined || !record || record.expiresAt <= now) {
        if (id !== undefined) pending.delete(id);
        return { ok: false, reason: 'unknown' };
      }
      const given = hash(id, code.trim());
      if (timingSafeEqual(given, record.codeHash)) {
        pending.delete(id); // single use
        return { ok: true, email: record.email };
      }
      record.attempts += 1;
      if (record.attempts >= maxAttempts) {
        pending.delete(id);
        return { ok: false, reason: 'spent' };
      }
      return { ok: false, reason: 'wrong' };
    },
    drop(id) {
      pending.delete(id);
    },
  };
}

/** A fixed-window counter per key, in memory and bounded. */
export interface Window {
  take(key: string, now: number): boolean;
  refund(key: string): void;
}

export function createWindow(max: number, windowMs: number, maxKeys = 100_000): Window {
  const counts = new Map<string, { n: number; until: number }>();
  return {
    take(key, now) {
      let entry = counts.get(key);
      if (!entry || entry.until <= now) {
        entry = { n: 0, until: now + windowMs };
        counts.delete(key);
        counts.set(key, entry);
        while (counts.size > maxKeys) {
          const oldest = counts.keys().next().value;
          if (oldest === undefined) break;
          counts.delete(oldest);
        }
      }
      if (entry.n >= max) return false;
      entry.n += 1;
      return true;
    },
    refund(key) {
      const entry = counts.get(key);
      if (entry && entry.n > 0) entry.n -= 1;
    },
  };
}
