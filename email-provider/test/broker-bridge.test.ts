// Bridging in broker mode (protocol-spec.md#fallback, duty 2): for a bridged domain that
// names no provider, the broker signs the user in through the domain's OpenID provider (a
// real local oidc-provider over HTTPS) and accepts only an ID token whose email is the
// address asked for, verified, in the bridged domain. No mail is sent for it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BssoError, decodeAssertion } from '@bsso/protocol';
import {
  CookieJar,
  createTestIdp,
  jsonListener,
  makeTestPki,
  type TestIdp,
  testNetwork,
} from '@bsso/protocol/testing';
import { Agent, fetch as undiciFetch } from 'undici';
import { BROKER_MESSAGES, brokerPaths, SESSION_COOKIE } from '../src/index.ts';
import { AUDIENCE, Browser, nonce, type Running, removeDir, startProvider } from './helpers.ts';

const BROKER = 'https://broker.test';
const CALLBACK = `${BROKER}/broker/bridge/callback`;
const CLIENT_ID = 'bsso-broker';

/** The company's users as its OpenID provider knows them. */
const USERS: Record<string, { email: string; email_verified: boolean }> = {
  bob: { email: 'Bob@Corp.Test', email_verified: true },
  eve: { email: 'eve@corp.test', email_verified: false },
  carol: { email: 'carol@corp.test', email_verified: true },
  mallory: { email: 'bob@other.test', email_verified: true },
};

describe('broker bridging through a real OpenID provider', () => {
  const pki = makeTestPki(['localhost', 'corp.test']);
  const agent = new Agent({ connect: { ca: pki.caPem } });
  let op: Server;
  let domains: Server;
  let p: Running;
  let idp: TestIdp;

  before(async () => {
    const secret = randomBytes(32).toString('base64url');
    op = createServer({ cert: pki.certPem, key: pki.keyPem });
    await new Promise<void>((resolve) => op.listen(0, '127.0.0.1', resolve));
    const issuer = `https://localhost:${(op.address() as AddressInfo).port}`;
    idp = createTestIdp({
      issuer,
      users: USERS,
      redirectUris: [CALLBACK],
      clientId: CLIENT_ID,
      clientSecret: secret,
      nextUser: 'bob',
    });
    op.on('request', idp.handler);
    // corp.test names no provider: its WebFinger answers 404.
    domains = createServer(
      { cert: pki.certPem, key: pki.keyPem },
      jsonListener('https://corp.test', async () => {
        throw new BssoError('not_found');
      }, []),
    );
    await new Promise<void>((resolve) => domains.listen(0, '127.0.0.1', resolve));
    p = await startProvider({
      issuer: BROKER,
      domains: ['broker.test'],
      broker: {
        // Never used: bridged domains get no mail (a closed port would fail loudly).
        smtp: { host: '127.0.0.1', port: 1 },
        from: 'no-reply@broker.test',
        network: testNetwork({
          ca: pki.caPem,
          hosts: { 'corp.test': (domains.address() as AddressInfo).port },
        }),
        bridges: {
          'corp.test': { issuer, clientId: CLIENT_ID, clientSecret: secret, ca: pki.caPem },
        },
      },
    });
  });

  after(async () => {
    await p?.stop();
    if (p) await removeDir(p.dataDir);
    for (const s of [op, domains]) {
      s?.closeAllConnections();
      await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
    }
    await agent.close();
  });

  /** The browser at the upstream: follows its redirects until it is sent back to the broker. */
  async function atUpstream(start: string): Promise<URL> {
    const jar = new CookieJar();
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

  async function roundTrip(b: Browser, email: string, user: string) {
    idp.nextUser = user;
    const csrf_token = await b.csrf(`/signin?login_hint=${encodeURIComponent(email)}`);
    const started = await b.postForm(brokerPaths.code, { csrf_token, email, popup: '1' });
    assert.equal(started.status, 303);
    const authorize = new URL(started.headers.get('location') ?? '');
    assert.equal(authorize.searchParams.get('login_hint'), email);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    const back = await atUpstream(authorize.href);
    return b.fetch(back.pathname + back.search);
  }

  it('signs bob in through the domain provider, then issues assertions for him', async () => {
    const b = new Browser(p.base);
    const page = await b.fetch('/signin?login_hint=bob%40corp.test');
    assert.match(
      page.headers.get('content-security-policy') ?? '',
      /form-action 'self' https:\/\/localhost:\d+;/,
    );
    const res = await roundTrip(b, 'bob@corp.test', 'bob');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/signin/done?bsso_popup=done');
    assert.ok(b.cookies.has(SESSION_COOKIE));
    const answer = await b.askAssertion({
      email: 'bob@corp.test',
      audience: AUDIENCE,
      nonce: nonce(),
    });
    assert.equal(answer.status, 200);
    const { assertion } = (await answer.json()) as { assertion: string };
    assert.equal(decodeAssertion(assertion).claims.iss, BROKER);
  });

  for (const [user, why] of [
    ['eve', 'an address the provider has not verified'],
    ['carol', 'another address of the domain than the one asked for'],
    ['mallory', 'an address of another domain'],
  ] as const) {
    it(`refuses ${why}, with no session`, async () => {
      const b = new Browser(p.base);
      const asked = user === 'eve' ? 'eve@corp.test' : 'bob@corp.test';
      const res = await roundTrip(b, asked, user);
      assert.equal(res.status, 401);
      assert.ok((await res.text()).includes(BROKER_MESSAGES.bridgeFailed));
      assert.equal(b.cookies.has(SESSION_COOKIE), false);
    });
  }

  it('refuses a callback in a browser that did not start the round trip', async () => {
    idp.nextUser = 'bob';
    const starter = new Browser(p.base);
    const csrf_token = await starter.csrf();
    const started = await starter.postForm(brokerPaths.code, {
      csrf_token,
      email: 'bob@corp.test',
    });
    const back = await atUpstream(started.headers.get('location') ?? '');
    const other = new Browser(p.base);
    const res = await other.fetch(back.pathname + back.search);
    assert.equal(res.status, 401);
    assert.equal(other.cookies.has(SESSION_COOKIE), false);
  });
});
