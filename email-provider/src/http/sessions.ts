// Server-side sessions: a random 256-bit id in the `__Host-bsso_provider` cookie, stored
// hashed, with idle and absolute expiry. Sign-in always makes a new id (no fixation).
import { createHash } from 'node:crypto';
import { randomToken } from '@bsso/protocol';
import type { Request, Response } from 'express';
import type { ResolvedProviderOptions } from '../config.ts';
import type { SessionStore } from '../storage/types.ts';
import { clearHostCookie, readCookie, setHostCookie } from './cookies.ts';

export const SESSION_COOKIE = '__Host-bsso_provider';
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
// Writing last-seen at most once a minute keeps reads cheap.
const TOUCH_AFTER_MS = 60_000;

export interface Session {
  email: string;
  idHash: string;
}

export interface SessionManager {
  current(req: Request): Promise<Session | undefined>;
  start(req: Request, res: Response, email: string): Promise<void>;
  end(req: Request, res: Response): Promise<void>;
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export function createSessionManager(
  store: SessionStore,
  config: Pick<ResolvedProviderOptions, 'sessionIdleMs' | 'sessionAbsoluteMs' | 'now'>,
): SessionManager {
  const lookup = async (req: Request): Promise<Session | undefined> => {
    const id = readCookie(req, SESSION_COOKIE);
    if (!id || !COOKIE_VALUE.test(id)) return undefined;
    const idHash = hashId(id);
    const record = await store.find(idHash);
    if (!record) return undefined;
    const now = config.now();
    if (
      now - record.lastSeenAt >= config.sessionIdleMs ||
      now - record.createdAt >= config.sessionAbsoluteMs
    ) {
      await store.remove(idHash);
      return undefined;
    }
    if (now - record.lastSeenAt >= TOUCH_AFTER_MS) await store.touch(idHash, now);
    return { email: record.email, idHash };
  };
  return {
    current: lookup,
    async start(req, res, email) {
      const previous = await lookup(req);
      if (previous) await store.remove(previous.idHash);
      const id = randomToken(32);
      const now = config.now();
      await store.insert({ idHash: hashId(id), email, createdAt: now, lastSeenAt: now });
      setHostCookie(res, SESSION_COOKIE, id, {
        sameSite: 'Lax',
        maxAge: Math.floor(config.sessionAbsoluteMs / 1000),
      });
    },
    async end(req, res) {
      const id = readCookie(req, SESSION_COOKIE);
      if (id && COOKIE_VALUE.test(id)) await store.remove(hashId(id));
      clearHostCookie(res, SESSION_COOKIE);
    },
  };
}
