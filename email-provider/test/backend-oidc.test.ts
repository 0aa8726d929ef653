// The upstream OpenID Connect account back-end against a real local OpenID provider
// (oidc-provider over HTTPS with a throwaway certificate): the sign-in page shows the
// company's button; the round trip (code flow, PKCE, state, nonce) signs in only a verified
// email of a served domain. Unverified, foreign, tampered, replayed or unbound callbacks
// get the generic page and no session; an upstream that is away gives "try again later".
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CookieJar,
  createTestIdp,
  freePort,
  hasOpenssl,
  makeTestPki,
  skipUnlessCi,
  type TestIdp,
} from '@bsso/protocol/testing';
import { Agent, fetch as undiciFetch } from 'undici';
import { createJsonLogger, SESSION_COOKIE } from '../src/index.ts';
import { UPSTREAM_COOKIE } from '../src/pages/signin-upstream.ts';
import { Browser, type Running, removeDir, startProvider, tempDir } from './helpers.ts';

const CLIENT_ID = 'bsso-provider';
const CALLBACK = 'https://mail.test/signin/upstream/callback';
const LABEL = 'Mail Corp';
const FAILED = /role="alert"[^>]*>The sign-in did not succeed\. Please try again\.</;
const LATER = /role="alert"[^>]*>Sign-in is not available right now\. Please try again later\.</;

/** The company's users as its identity provider knows them. */
const USERS: Record<string, { email: string; email_verified: boolean }> = {
  alice: { email: 'Alice@Mail.Test', email_verified: true },
  eve: { email: 'eve@mail.test', email_verified: false },
  mallory: { email: 'mallory@other.test', email_verified: true },
};

const skip = skipUnlessCi(!hasOpenssl() && 'openssl is missing (throwaway certificates)');

describe('OpenID Connect upstream account back-end (real oidc-provider)', { skip }, () => {
  let dir: string;
  let op: Server;
  let issuer: string;
  let agent: Agent;
  let p: Running;
  /** Who the upstream signs in at its next login interaction. */
  let idp: TestIdp;
  const running: Running[] = [];
  /** Why the provider refused, from its log (the user sees one message for all). */
  const events: { event: string; reason?: string }[] = [];
  const reasons = () => events.filter((e) => e.event === 'signin_failed').map((e) => e.reason);

  before(async () => {
    dir = await tempDir();
    const pki = makeTestPki(['localhost']);
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    agent = new Agent({ connect: { ca: pki.caPem } });
    const secret = randomBytes(32).toString('base64url');
    await writeFile(join(dir, 'secret'), secret);
    op = createServer({ cert: pki.certPem, key: pki.keyPem });
    await new Promise<void>((resolve) => op.listen(0, '127.0.0.1', resolve));
    issuer = `https://localhost:${(op.address() as AddressInfo).port}`;
    idp = createTestIdp({
      issuer,
      users: USERS,
      redirectUris: [CALLBACK],
      clientId: CLIENT_ID,
      clientSecret: secret,
      nextUser: 'alice',
    });
    op.on('request', idp.handler);
    p = await startProvider({
      logger: createJsonLogger((line) => {
        events.push(JSON.parse(line) as { event: string; reason?: string });
      }),
      accountBackend: {
        type: 'oidc',
        issuer,
        clientId: CLIENT_ID,
        clientSecret: secret,
        label: LABEL,
        caFile: join(dir, 'ca.pem'),
        timeoutMs: 5000,
      },
    });
    running.push(p);
  });

  after(async () => {
    for (const r of running) await r.stop();
    for (const r of running) await removeDir(r.dataDir);
    op?.closeAllConnections();
    await new Promise<void>((resolve) => (op ? op.close(() => resolve()) : resolve()));
    await agent?.close();
    await removeDir(dir);
  });

  /** The browser at the upstream: follows its redirects until it sends us back. */
  async function atUpstream(start: string, jar = new CookieJar()): Promise<URL> {
    let url = start;
    for (let i = 0; i < 10; i++) {
      if (url.startsWith(CALLBACK)) return new URL(url);
      const res = await undiciFetch(url, {
        dispatcher: agent,
        redirect: 'manual',
        headers: { cookie: jar.header() },
      });
      jar.keep(res as unknown as Response);
      const location = res.headers.get('location');
      assert.ok(location, `the upstream answered ${res.status} at ${url}`);
      url = new URL(location, url).href;
    }
    throw new Error('too many redirects at the upstream');
  }

  /** Button, upstream round trip, back at the callback: the callback's answer. */
  async function roundTrip(b: Browser, user: string, extra: Record<string, string> = {}) {
    idp.nextUser = user;
    const csrf_token = await b.csrf();
    const started = await b.postForm('/signin/upstream', { csrf_token, ...extra });
    assert.equal(started.status, 303);
    const back = await atUpstream(started.headers.get('location') ?? '');
    return { back, answer: () => b.fetch(back.pathname + back.search) };
  }

  async function assertNoSession(b: Browser) {
    assert.ok(!b.cookies.has(SESSION_COOKIE));
    assert.equal((await b.fetch('/account')).status, 303);
  }

  it('shows the button instead of the password form, and lets it lead to the issuer only', async () => {
    const res = await new Browser(p.base).fetch('/signin?popup=1');
    // Browsers apply form-action to the form's redirect too: the issuer's origin is allowed.
    assert.match(
      res.headers.get('content-security-policy') ?? '',
      new RegExp(`form-action 'self' ${issuer};`),
    );
    const page = await res.text();
    assert.match(page, /<form method="post" action="\/signin\/upstream">/);
    assert.match(page, /<button type="submit" autofocus>Sign in with Mail Corp<\/button>/);
    assert.doesNotMatch(page, /type="password"/);
  });

  it('signs alice in with her verified company address, PKCE, state and nonce', async () => {
    const b = new Browser(p.base);
    const csrf_token = await b.csrf();
    const started = await b.postForm('/signin/upstream', { csrf_token, popup: '1' });
    const authorize = new URL(started.headers.get('location') ?? '');
    assert.equal(authorize.origin, issuer);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    for (const name of ['state', 'nonce', 'code_challenge']) {
      assert.ok((authorize.searchParams.get(name) ?? '').length >= 43, name);
    }
    const set = started.headers.getSetCookie().find((c) => c.startsWith(UPSTREAM_COOKIE));
    assert.match(set ?? '', /; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=600/);
    idp.nextUser = 'alice';
    const back = await atUpstream(authorize.href);
    const res = await b.fetch(back.pathname + back.search);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/signin/done?bsso_popup=done');
    const account = await (await b.fetch('/account')).text();
    assert.match(account, /Signed in as <strong>alice@mail.test<\/strong>/);
  });

  it('goes on to the provider own web endpoint after the round trip, and nowhere else (web flow)', async () => {
    const web = `/bsso/web?${new URLSearchParams({
      audience: 'https://site.test/bsso',
      nonce: 'n'.repeat(43),
      login_hint: 'alice@mail.test',
    })}`;
    const b = new Browser(p.base);
    const page = await (await b.fetch(`/signin?continue=${encodeURIComponent(web)}`)).text();
    assert.match(page, /name="continue" value="\/bsso\/web\?audience=/);
    const res = await (await roundTrip(b, 'alice', { continue: web })).answer();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), web);
    for (const target of ['https://evil.test/bsso/web?x=1', '//evil.test/x', '/account?x=1']) {
      const other = new Browser(p.base);
      const answer = await (await roundTrip(other, 'alice', { continue: target })).answer();
      assert.equal(answer.headers.get('location'), '/account', target);
    }
  });

  it('refuses an address the upstream has not verified, and one of a domain not served', async () => {
    events.length = 0;
    for (const user of ['eve', 'mallory']) {
      const b = new Browser(p.base);
      const res = await (await roundTrip(b, user)).answer();
      assert.equal(res.status, 401);
      assert.match(await res.text(), FAILED);
      await assertNoSession(b);
    }
    assert.deepEqual(reasons(), ['rejected', 'domain_not_served']);
  });

  it('refuses a callback without this browser’s transaction, a tampered state and a replay', async () => {
    events.length = 0;
    // Login CSRF: the attacker's own round trip, delivered to the victim's browser.
    const attacker = new Browser(p.base);
    const { back } = await roundTrip(attacker, 'alice');
    const victim = new Browser(p.base);
    await victim.csrf();
    const res = await victim.fetch(back.pathname + back.search);
    assert.equal(res.status, 401);
    assert.match(await res.text(), FAILED);
    await assertNoSession(victim);

    const b = new Browser(p.base);
    const trip = await roundTrip(b, 'alice');
    const tampered = new URL(trip.back);
    tampered.searchParams.set('state', 'x'.repeat(43));
    const bad = await b.fetch(tampered.pathname + tampered.search);
    assert.equal(bad.status, 401);
    await assertNoSession(b);
    // The transaction is gone after one callback: the genuine one now fails too.
    const replay = await trip.answer();
    assert.equal(replay.status, 401);
    await assertNoSession(b);
    assert.deepEqual(reasons(), ['no_transaction', 'rejected', 'no_transaction']);
  });

  it('refuses an error answer from the upstream', async () => {
    const b = new Browser(p.base);
    const trip = await roundTrip(b, 'alice');
    const denied = new URL(CALLBACK);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('state', trip.back.searchParams.get('state') ?? '');
    denied.searchParams.set('iss', issuer);
    const res = await b.fetch(denied.pathname + denied.search);
    assert.equal(res.status, 401);
    assert.match(await res.text(), FAILED);
    await assertNoSession(b);
  });

  it('has no password sign-in: a posted password is never checked', async () => {
    const b = new Browser(p.base);
    const res = await b.signIn('alice@mail.test', 'anything');
    assert.equal(res.status, 400);
    await assertNoSession(b);
  });

  it('gives "try again later" within its time budget when the upstream never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentProvider = await startProvider({
        accountBackend: {
          type: 'oidc',
          issuer: `https://localhost:${(silent.address() as AddressInfo).port}`,
          clientId: CLIENT_ID,
          clientSecret: 'secret',
          label: LABEL,
          caFile: join(dir, 'ca.pem'),
          timeoutMs: 1000,
        },
      });
      running.push(silentProvider);
      const b = new Browser(silentProvider.base);
      const csrf_token = await b.csrf();
      const started = Date.now();
      const res = await b.postForm('/signin/upstream', { csrf_token });
      assert.equal(res.status, 503);
      assert.match(await res.text(), LATER);
      assert.ok(Date.now() - started < 4000);
      await assertNoSession(b);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('gives "try again later" when the upstream is away, and signs in no one', async () => {
    const away = await startProvider({
      accountBackend: {
        type: 'oidc',
        issuer: `https://localhost:${await freePort()}`,
        clientId: CLIENT_ID,
        clientSecret: 'secret',
        label: LABEL,
        caFile: join(dir, 'ca.pem'),
        timeoutMs: 2000,
      },
    });
    running.push(away);
    const b = new Browser(away.base);
    const csrf_token = await b.csrf();
    const res = await b.postForm('/signin/upstream', { csrf_token });
    assert.equal(res.status, 503);
    assert.match(await res.text(), LATER);
    await assertNoSession(b);
  });
});
