// Threats 17-31 at the site endpoint: each rejection names its code, creates no session and
// makes no server-to-server call (the provider was warmed up by the challenge).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ASSERTION_TYP, randomBytes, randomToken } from '@bsso/protocol';
import { base64url } from 'jose';
import {
  ALICE,
  type Browser,
  type Delivered,
  ENDPOINT,
  type Fixture,
  hasSessionCookie,
  startFixture,
} from './helpers/fixture.ts';

const enc = (value: unknown) => base64url.encode(JSON.stringify(value));

describe('the endpoint rejects bad deliveries', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(() => fx.close());

  /** A browser that has a challenge (discovery and association warm). */
  async function ready(): Promise<{ browser: Browser; nonce: string; handle: string }> {
    const browser = fx.browser();
    const { nonce, handle } = await browser.challenge();
    assert.ok(handle);
    return { browser, nonce, handle };
  }

  function claims(nonce: string, over: Record<string, unknown> = {}) {
    const iat = Math.floor(fx.clock.now / 1000);
    return {
      iss: 'https://mail.test',
      sub: ALICE,
      aud: ENDPOINT,
      nonce,
      iat,
      exp: iat + 120,
      jti: randomToken(16),
      ...over,
    };
  }

  async function rejected(
    send: () => Promise<Delivered>,
    code: string,
    status = 400,
  ): Promise<Delivered> {
    const calls = fx.standIn.requests.length;
    const d = await send();
    assert.equal(d.body.error, code, d.text);
    assert.equal(d.status, status);
    assert.equal(hasSessionCookie(d), false, 'no session cookie');
    assert.equal(fx.standIn.requests.length, calls, 'no S2S call');
    return d;
  }

  test('alg none / unsigned token', async () => {
    const { browser, nonce, handle } = await ready();
    const header = { alg: 'none', typ: ASSERTION_TYP, kid: handle };
    const token = `${enc(header)}.${enc(claims(nonce))}.`;
    await rejected(() => browser.deliver({ assertion: token }), 'invalid_assertion');
    await rejected(
      () => browser.deliver({ assertion: `${enc(header)}.${enc(claims(nonce))}.AAAA` }),
      'invalid_assertion',
    );
  });

  test('HMAC with a foreign key', async () => {
    const { browser, nonce, handle } = await ready();
    const token = await fx.standIn.sign(claims(nonce), { handle, secret: randomBytes(32) });
    await rejected(() => browser.deliver({ assertion: token }), 'invalid_signature');
  });

  test('unknown handle is rejected and never sent to the provider', async () => {
    const { browser, nonce } = await ready();
    const token = await fx.standIn.sign(claims(nonce), {
      handle: randomToken(16),
      secret: randomBytes(32),
    });
    await rejected(() => browser.deliver({ assertion: token }), 'unknown_association');
  });

  test('aud of another site, or missing', async () => {
    const { browser, nonce, handle } = await ready();
    const a = await fx.standIn.assertionFor({
      email: ALICE,
      audience: 'https://other.test/bsso',
      nonce,
      handle,
    });
    await rejected(() => browser.deliver({ assertion: a }), 'invalid_audience');
    const b = await ready();
    const { aud: _aud, ...noAud } = claims(b.nonce);
    const secret = fx.standIn.associations.get(b.handle)?.secret ?? randomBytes(32);
    const token = await fx.standIn.sign(noAud as never, { handle: b.handle, secret });
    await rejected(() => b.browser.deliver({ assertion: token }), 'invalid_assertion');
  });

  test('exp past and iat in the future (injected clock, skew code)', async () => {
    const past = await ready();
    const old = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: past.nonce,
      handle: past.handle,
      now: fx.clock.now - 200_000,
    });
    await rejected(() => past.browser.deliver({ assertion: old }), 'assertion_expired');

    const future = await ready();
    const early = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: future.nonce,
      handle: future.handle,
      now: fx.clock.now + 120_000,
    });
    await rejected(() => future.browser.deliver({ assertion: early }), 'clock_skew');

    // Inside the tolerance: accepted.
    const near = await ready();
    const ok = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: near.nonce,
      handle: near.handle,
      now: fx.clock.now + 30_000,
    });
    assert.equal((await near.browser.deliver({ assertion: ok })).status, 303);
  });

  test('exp too far ahead', async () => {
    const { browser, nonce, handle } = await ready();
    const secret = fx.standIn.associations.get(handle)?.secret ?? randomBytes(32);
    const c = claims(nonce);
    const token = await fx.standIn.sign({ ...c, exp: c.iat + 3600 }, { handle, secret });
    await rejected(() => browser.deliver({ assertion: token }), 'invalid_assertion');
  });

  test('nonce unknown, reused, bound to another browser, or missing', async () => {
    const { browser, handle } = await ready();
    const unknown = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: randomToken(32),
      handle,
    });
    await rejected(() => browser.deliver({ assertion: unknown }), 'invalid_nonce');

    const good = await ready();
    const a = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce: good.nonce,
      handle: good.handle,
    });
    assert.equal((await good.browser.deliver({ assertion: a })).status, 303);
    await rejected(() => good.browser.deliver({ assertion: a }), 'invalid_nonce');

    // Login CSRF: the attacker's valid assertion for the attacker's nonce, in the victim's browser.
    const attacker = await ready();
    const victim = await ready();
    const forged = await fx.standIn.assertionFor({
      email: 'mallory@mail.test',
      audience: ENDPOINT,
      nonce: attacker.nonce,
      handle: attacker.handle,
    });
    await rejected(() => victim.browser.deliver({ assertion: forged }), 'invalid_nonce');
    // The same with no browser cookie at all (a cross-site POST drops the Strict cookie).
    const stray = await ready();
    const forged2 = await fx.standIn.assertionFor({
      email: 'mallory@mail.test',
      audience: ENDPOINT,
      nonce: stray.nonce,
      handle: stray.handle,
    });
    stray.browser.cookies.clear();
    await rejected(() => stray.browser.deliver({ assertion: forged2 }), 'invalid_nonce');

    const missing = await ready();
    const { nonce: _n, ...noNonce } = claims(missing.nonce);
    const secret = fx.standIn.associations.get(missing.handle)?.secret ?? randomBytes(32);
    const t = await fx.standIn.sign(noNonce as never, { handle: missing.handle, secret });
    await rejected(() => missing.browser.deliver({ assertion: t }), 'invalid_assertion');
  });

  test('a provider not authoritative for the domain', async () => {
    const { browser, nonce, handle } = await ready();
    const a = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce,
      handle,
      issuer: 'https://evil.test',
    });
    await rejected(() => browser.deliver({ assertion: a }), 'invalid_issuer');
  });

  test('an email in the POST body is ignored', async () => {
    const { browser, nonce, handle } = await ready();
    const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce, handle });
    const d = await browser.deliver({ email: 'mallory@mail.test', assertion: a });
    assert.equal(d.status, 303);
    assert.equal(await browser.me(), ALICE);
  });

  test('wrong typ, crit, JWS JSON serialization, JWE', async () => {
    const { browser, nonce, handle } = await ready();
    const secret = fx.standIn.associations.get(handle)?.secret ?? randomBytes(32);
    const good = await fx.standIn.sign(claims(nonce), { handle, secret });
    const [, payload, sig] = good.split('.');
    const wrongTyp = `${enc({ alg: 'HS256', typ: 'JWT', kid: handle })}.${payload}.${sig}`;
    await rejected(() => browser.deliver({ assertion: wrongTyp }), 'invalid_assertion');
    const crit = `${enc({ alg: 'HS256', typ: ASSERTION_TYP, kid: handle, crit: ['x'], x: 1 })}.${payload}.${sig}`;
    await rejected(() => browser.deliver({ assertion: crit }), 'invalid_assertion');
    const [protectedHeader] = good.split('.');
    const json = JSON.stringify({ protected: protectedHeader, payload, signature: sig });
    await rejected(() => browser.deliver({ assertion: json }), 'invalid_assertion');
    const jwe = `${enc({ alg: 'dir', enc: 'A256GCM', typ: ASSERTION_TYP })}..AAAA.BBBB.CCCC`;
    await rejected(() => browser.deliver({ assertion: jwe }), 'invalid_assertion');
  });

  test('bad base64url, 1 MB body, wrong content type, no assertion: before any S2S call', async () => {
    const { browser } = await ready();
    await rejected(() => browser.deliver({ assertion: 'a$b.c%d.e' }), 'invalid_assertion');
    await rejected(() => browser.deliver({ assertion: 'e30.e30.!!' }), 'invalid_assertion');
    await rejected(
      () => browser.deliver(`assertion=${'a'.repeat(1024 * 1024)}`),
      'payload_too_large',
      413,
    );
    await rejected(
      () =>
        browser.deliver(JSON.stringify({ assertion: 'x' }), { contentType: 'application/json' }),
      'unsupported_media_type',
      415,
    );
    await rejected(() => browser.deliver({ return_to: '/' }), 'invalid_request');
    await rejected(() => browser.deliver('assertion=a&assertion=b'), 'invalid_request');
  });

  test('HTML error page is generic and never echoes the token', async () => {
    const { browser, nonce } = await ready();
    const token = await fx.standIn.sign(claims(nonce), {
      handle: randomToken(16),
      secret: randomBytes(32),
    });
    const calls = fx.standIn.requests.length;
    const page = await browser.deliver({ assertion: token }, { accept: 'text/html' });
    assert.equal(page.status, 400);
    assert.match(page.text, /Sign-in failed/);
    assert.equal(page.text.includes(token.split('.')[1] ?? '#'), false);
    assert.equal(page.text.includes(token.split('.')[2] ?? '#'), false);
    assert.equal(hasSessionCookie(page), false);
    assert.equal(fx.standIn.requests.length, calls);
  });

  test('return_to off-site is ignored', async () => {
    for (const target of ['https://evil.test/', '//evil.test/x', '/\\evil.test', 'javascript:x']) {
      const { browser, nonce, handle } = await ready();
      const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce, handle });
      const d = await browser.deliver({ assertion: a, return_to: target });
      assert.equal(d.status, 303);
      assert.equal(d.location, '/');
    }
  });

  test('return_to that normalises to another origin is ignored', async () => {
    for (const target of ['/.//evil.test/x', '/a/..//evil.test', '/%2e//evil.test', '/%2E%2e//x']) {
      const { browser, nonce, handle } = await ready();
      const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce, handle });
      const d = await browser.deliver({ assertion: a, return_to: target });
      assert.equal(d.status, 303);
      assert.equal(d.location, '/', target);
    }
  });

  test('challenge validates the domain', async () => {
    for (const domain of ['', '127.0.0.1', 'a..b', 'x']) {
      const calls = fx.standIn.requests.length;
      const res = await fetch(`${fx.siteUrl}/bsso?bsso=challenge&domain=${domain}`);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_email');
      assert.equal(fx.standIn.requests.length, calls);
    }
  });
});
