import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../src/index.ts';
import {
  AUDIENCE,
  Browser,
  nonce,
  PASSWORD,
  type Running,
  removeDir,
  START,
  startProvider,
} from './helpers.ts';

const ALICE = 'alice@mail.test';

describe('sign-in pages', () => {
  let p: Running;
  before(async () => {
    p = await startProvider({ signinFailuresPerAccount: 3, signinFailuresPerIp: 6 });
    await p.provider.accounts.create(ALICE, PASSWORD);
    await p.provider.accounts.create('bob@mail.test', PASSWORD);
  });
  beforeEach(() => {
    // Each test starts far enough after the last one that earlier failures have expired.
    p.clock.ms += 3_600_000;
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  it('serves an accessible, unframeable form with a strict CSP', async () => {
    const b = new Browser(p.base);
    const res = await b.fetch('/signin?login_hint=alice%40mail.test&popup=1');
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const part of ["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(part), part);
    }
    assert.match(csp, /script-src 'nonce-[^']+'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const page = await res.text();
    assert.match(page, /<label for="email">/);
    assert.match(page, /<label for="password">/);
    assert.match(page, /value="alice@mail.test"/);
    assert.match(page, /name="popup" value="1"/);
    assert.match(page, /autocomplete="current-password" required\s+maxlength="1024" autofocus>/);
    assert.ok(b.cookies.has('__Host-bsso_csrf'));
    const cookie = res.headers.getSetCookie()[0] ?? '';
    assert.match(cookie, /^__Host-bsso_csrf=.*; Path=\/; Secure; HttpOnly; SameSite=Lax/);
  });

  it('escapes the login hint', async () => {
    const b = new Browser(p.base);
    const hint = encodeURIComponent('"><script>alert(1)</script>');
    const page = await (await b.fetch(`/signin?login_hint=${hint}`)).text();
    assert.ok(!page.includes('<script>alert(1)'));
    assert.ok(page.includes('&quot;&gt;&lt;script&gt;'));
  });

  it('signs in with a new session and redirects to the account page', async () => {
    const b = new Browser(p.base);
    const res = await b.signIn('Alice@Mail.Test', PASSWORD);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/account');
    const set = res.headers.getSetCookie().find((c) => c.startsWith(SESSION_COOKIE));
    assert.match(set ?? '', /; Path=\/; Secure; HttpOnly; SameSite=Lax/);
    assert.doesNotMatch(set ?? '', /Domain=/i);
    const account = await b.fetch('/account');
    assert.equal(account.status, 200);
    assert.match(await account.text(), /Signed in as <strong>alice@mail.test<\/strong>/);
  });

  it('in a popup, lands on a page that closes itself', async () => {
    const b = new Browser(p.base);
    const res = await b.signIn(ALICE, PASSWORD, { popup: '1' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/signin/done?bsso_popup=done');
    const done = await b.fetch('/signin/done?bsso_popup=done');
    const nonceValue = /script-src 'nonce-([^']+)'/.exec(
      done.headers.get('content-security-policy') ?? '',
    )?.[1];
    const page = await done.text();
    assert.ok(page.includes(`<script nonce="${nonceValue}">window.close();</script>`));
    assert.match(page, /You can close this window/);
  });

  it('gives one message for a wrong password and an unknown account, with no session', async () => {
    const pages: string[] = [];
    for (const [email, password] of [
      [ALICE, 'wrong password'],
      ['nobody@mail.test', PASSWORD],
      ['nobody@other.test', PASSWORD],
      ['not an address', PASSWORD],
    ] as const) {
      const b = new Browser(p.base);
      const res = await b.signIn(email, password);
      assert.equal(res.status, 401);
      assert.ok(!b.cookies.has(SESSION_COOKIE));
      const page = await res.text();
      assert.match(page, /role="alert"[^>]*>Email or password is wrong\.</);
      pages.push(page.replace(/value="[^"]*"/g, '').replace(/nonce="[^"]*"/g, ''));
    }
    assert.equal(new Set(pages).size, 1);
  });

  it('refuses a form without or with a foreign CSRF token', async () => {
    const b = new Browser(p.base);
    await b.csrf();
    const missing = await b.postForm('/signin', { email: ALICE, password: PASSWORD });
    assert.equal(missing.status, 403);
    const foreign = await b.postForm('/signin', {
      csrf_token: 'x'.repeat(43),
      email: ALICE,
      password: PASSWORD,
    });
    assert.equal(foreign.status, 403);
    const noCookie = new Browser(p.base);
    const token = await b.csrf();
    const res = await noCookie.postForm('/signin', {
      csrf_token: token,
      email: ALICE,
      password: PASSWORD,
    });
    assert.equal(res.status, 403);
    assert.ok(!b.cookies.has(SESSION_COOKIE) && !noCookie.cookies.has(SESSION_COOKIE));
  });

  it('throttles repeated failures per account, even with the right password', async () => {
    const b = new Browser(p.base);
    for (let i = 0; i < 3; i++) assert.equal((await b.signIn(ALICE, 'nope nope')).status, 401);
    const blocked = await b.signIn(ALICE, PASSWORD);
    assert.equal(blocked.status, 429);
    assert.ok(!b.cookies.has(SESSION_COOKIE));
    // Another account from the same address is not blocked by alice's counter.
    assert.equal((await b.signIn('bob@mail.test', PASSWORD)).status, 303);
    p.clock.ms += 16 * 60_000;
    assert.equal((await new Browser(p.base).signIn(ALICE, PASSWORD)).status, 303);
  });

  it('throttles repeated failures per client address across accounts', async () => {
    const b = new Browser(p.base);
    for (let i = 0; i < 6; i++) {
      assert.equal((await b.signIn(`user${i}@mail.test`, 'nope nope')).status, 401);
    }
    assert.equal((await b.signIn(ALICE, PASSWORD)).status, 429);
    assert.ok(!b.cookies.has(SESSION_COOKIE));
  });

  it('makes a new session id on every sign-in (no fixation)', async () => {
    const b = new Browser(p.base);
    await b.signIn(ALICE, PASSWORD);
    const first = b.cookies.get(SESSION_COOKIE);
    await b.signIn(ALICE, PASSWORD);
    const second = b.cookies.get(SESSION_COOKIE);
    assert.ok(first && second && first !== second);
    const stale = await b.fetch('/account', { headers: { cookie: `${SESSION_COOKIE}=${first}` } });
    assert.equal(stale.status, 303);
  });

  it('signs out with a CSRF token only, and the session is gone', async () => {
    const b = new Browser(p.base);
    await b.signIn(ALICE, PASSWORD);
    const session = b.cookies.get(SESSION_COOKIE);
    assert.equal((await b.postForm('/signout', {})).status, 403);
    assert.equal((await b.fetch('/account')).status, 200);
    const token = b.cookies.get('__Host-bsso_csrf') ?? '';
    const res = await b.postForm('/signout', { csrf_token: token });
    assert.equal(res.status, 303);
    assert.ok(!b.cookies.has(SESSION_COOKIE));
    const replay = await b.fetch('/account', {
      headers: { cookie: `${SESSION_COOKIE}=${session}` },
    });
    assert.equal(replay.status, 303);
    assert.equal(replay.headers.get('location'), '/signin');
  });

  it('expires sessions when idle and after the absolute lifetime', async () => {
    const idle = await startProvider({ sessionIdleSeconds: 600, sessionAbsoluteSeconds: 1800 });
    try {
      await idle.provider.accounts.create(ALICE, PASSWORD);
      const b = new Browser(idle.base);
      await b.signIn(ALICE, PASSWORD);
      idle.clock.ms += 599_000;
      assert.equal((await b.fetch('/account')).status, 200);
      idle.clock.ms += 599_000;
      assert.equal((await b.fetch('/account')).status, 200);
      idle.clock.ms += 601_000;
      assert.equal((await b.fetch('/account')).status, 303, 'idle expiry');
      await b.signIn(ALICE, PASSWORD);
      for (let i = 0; i < 3; i++) {
        idle.clock.ms += 590_000;
        assert.equal((await b.fetch('/account')).status, 200);
      }
      idle.clock.ms += 590_000;
      assert.equal((await b.fetch('/account')).status, 303, 'absolute expiry');
    } finally {
      await idle.stop();
      await removeDir(idle.dataDir);
    }
  });

  it('lists the sites signed in to on the account page', async () => {
    const b = new Browser(p.base);
    await b.signIn(ALICE, PASSWORD);
    const res = await b.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
    assert.equal(res.status, 200);
    const page = await (await b.fetch('/account')).text();
    assert.match(page, /<td>https:\/\/site.test<\/td>/);
    assert.ok(p.clock.ms > START);
  });

  it('ends sessions when the password changes', async () => {
    const b = new Browser(p.base);
    await b.signIn('bob@mail.test', PASSWORD);
    await p.provider.accounts.setPassword('bob@mail.test', 'a new password');
    assert.equal((await b.fetch('/account')).status, 303);
    assert.equal((await b.signIn('bob@mail.test', 'a new password')).status, 303);
  });

  it('has no sign-up unless enabled', async () => {
    assert.equal((await new Browser(p.base).fetch('/signup')).status, 404);
  });
});
