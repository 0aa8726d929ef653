// CSRF protection for the provider's forms: double submit of a random token held in the
// `__Host-bsso_csrf` cookie (the prefix stops sibling hosts from planting one) and echoed
// in a hidden form field, compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import { randomToken } from '@bsso/protocol';
import type { Request, Response } from 'express';
import { readCookie, setHostCookie } from './cookies.ts';

export const CSRF_COOKIE = '__Host-bsso_csrf';
export const CSRF_FIELD = 'csrf_token';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The browser's CSRF token, set as a cookie when it has none yet. */
export function csrfToken(req: Request, res: Response): string {
  const existing = readCookie(req, CSRF_COOKIE);
  if (existing && TOKEN.test(existing)) return existing;
  const token = randomToken(32);
  setHostCookie(res, CSRF_COOKIE, token, { sameSite: 'Lax' });
  return token;
}

/** Whether a form POST carries the token of its browser's cookie. */
export function csrfValid(req: Request): boolean {
  const cookie = readCookie(req, CSRF_COOKIE);
  const body: unknown = req.body;
  const field =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[CSRF_FIELD] : '';
  if (!cookie || typeof field !== 'string' || !TOKEN.test(cookie) || !TOKEN.test(field)) {
    return false;
  }
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(field));
}
