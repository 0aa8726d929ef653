// What a user sees at sign-in whichever account back-end answers: signed in (a session and
// the account page), the one generic failure, or "try again later", never a session then.
import assert from 'node:assert/strict';
import { SESSION_COOKIE } from '../src/index.ts';
import { Browser } from './helpers.ts';

export const GENERIC_FAILURE = /role="alert"[^>]*>Email or password is wrong\.</;
export const TRY_AGAIN_LATER =
  /role="alert"[^>]*>Sign-in is not available right now\. Please try again later\.</;

/** The page without what differs per request (CSRF token, CSP nonce, the typed address). */
export function comparable(page: string): string {
  return page.replace(/value="[^"]*"/g, '').replace(/nonce="[^"]*"/g, '');
}

export async function assertSignedIn(base: string, email: string, password: string) {
  const b = new Browser(base);
  const res = await b.signIn(email, password);
  assert.equal(res.status, 303, await res.text());
  assert.equal(res.headers.get('location'), '/account');
  assert.ok(b.cookies.has(SESSION_COOKIE));
  const account = await b.fetch('/account');
  assert.equal(account.status, 200);
  return account.text();
}

/** The generic failure and no session; returns the page for comparison. */
export async function assertRefused(base: string, email: string, password: string) {
  const b = new Browser(base);
  const res = await b.signIn(email, password);
  const page = await res.text();
  assert.equal(res.status, 401, page);
  assert.match(page, GENERIC_FAILURE);
  assert.ok(!b.cookies.has(SESSION_COOKIE));
  assert.equal((await b.fetch('/account')).status, 303);
  return comparable(page);
}

/** "Try again later" (503, never a 500) and no session. */
export async function assertUnavailable(base: string, email: string, password: string) {
  const b = new Browser(base);
  const res = await b.signIn(email, password);
  const page = await res.text();
  assert.equal(res.status, 503, page);
  assert.match(page, TRY_AGAIN_LATER);
  assert.ok(!b.cookies.has(SESSION_COOKIE));
  assert.equal((await b.fetch('/account')).status, 303);
}
