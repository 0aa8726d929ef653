// One suite for every adapter (Express, node:http, the web-standard handler on node:http,
// Hono, Fastify, Passport): the same challenge, delivery, rejection, rate-limit, sign-out and
// method cases against a real app, with the stand-in provider at mail.test and an injected
// clock. Each rejection asserts its code, that no session was made and that the site made no
// further outbound call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ErrorCode, errorCodes, parseWebSignInRequest, randomToken } from '@bsso/protocol';
import { createMemoryRequestRateLimiter } from '../../src/core/index.ts';
import type { Adapter, AdapterSite, SiteOptions } from './adapters.ts';
import { ALICE, Browser, type Delivered, ENDPOINT, type Fixture, startFixture } from './fixture.ts';

const REFUSED = 'refused@mail.test';

export function adapterSuite(adapter: Adapter): void {
  describe(`adapter: ${adapter.name}`, () => {
    let fx: Fixture;
    let site: AdapterSite;
    let limited: AdapterSite;
    const signIns: { email: string; req: unknown }[] = [];
    const options = (extra: Partial<SiteOptions> = {}): SiteOptions => ({
      endpoint: ENDPOINT,
      now: () => fx.clock.now,
      outbound: { network: fx.network },
      ...extra,
    });

    before(async () => {
      fx = await startFixture();
      site = await adapter.start(
        options({
          onSignIn: (email, req) => {
            signIns.push({ email, req });
            if (email === REFUSED) throw new Error('no account for this address');
          },
        }),
      );
      limited = await adapter.start(
        options({ rateLimiter: createMemoryRequestRateLimiter({ max: 2 }) }),
      );
    });
    after(async () => {
      await site.close();
      await limited.close();
      await fx.close();
    });

    /** A browser signed in through the adapter; returns the session cookie's value. */
    async function signIn(browser: Browser, returnTo?: string, email = ALICE): Promise<Delivered> {
      const { nonce, handle } = await browser.challenge();
      const assertion = await fx.standIn.assertionFor({
        email,
        audience: ENDPOINT,
        nonce,
        ...(handle ? { handle } : {}),
      });
      return browser.deliver(returnTo ? { assertion, return_to: returnTo } : { assertion });
    }

    /** Who the site says is signed in for a given session cookie value. */
    async function meWith(sessionValue: string | undefined): Promise<string | null> {
      const res = await fetch(`${site.url}/me`, {
        headers: { cookie: `${adapter.session.cookie}=${sessionValue}` },
      });
      return ((await res.json()) as { email: string | null }).email;
    }

    async function rejected(
      browser: Browser,
      send: () => Promise<Delivered>,
      code: ErrorCode,
    ): Promise<void> {
      const calls = fx.standIn.requests.length;
      const d = await send();
      if (adapter.rejection === 'answer') {
        assert.equal(d.body.error, code, d.text);
        assert.equal(d.status, errorCodes[code].status);
      } else {
        // Passport: a failure redirect; failureMessage keeps the code's fixed text.
        assert.equal(d.status, 302);
        assert.equal(d.location, adapter.rejection.failureRedirect);
        const page = await fetch(new URL(adapter.rejection.failureRedirect, browser.siteUrl), {
          headers: { cookie: browser.cookieHeader() },
        });
        const { messages } = (await page.json()) as { messages: string[] };
        assert.equal(messages.at(-1), errorCodes[code].description);
      }
      const sessionSet = d.setCookies.some(
        (c) => c.startsWith('__Host-bsso_session=') && !/Max-Age=0/.test(c),
      );
      assert.equal(sessionSet, false, 'no session cookie');
      assert.equal(await browser.me(), null, 'nobody signed in');
      assert.equal(fx.standIn.requests.length, calls, 'no further outbound call');
    }

    test('challenge: JSON nonce and handle, the browser cookie set once', async () => {
      const res = await fetch(`${site.url}/bsso?bsso=challenge&domain=mail.test`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), [
        'expires_in',
        'handle',
        'handle_expires_in',
        'handle_set',
        'nonce',
      ]);
      assert.match(String(body.nonce), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(body.expires_in, 300);
      const [binding, ...more] = res.headers.getSetCookie();
      assert.equal(more.length, 0);
      assert.match(binding ?? '', /^__Host-bsso_browser=[A-Za-z0-9_-]{40,};/);
      for (const attr of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Strict']) {
        assert.ok(binding?.split('; ').includes(attr), attr);
      }
      assert.equal(/Domain/i.test(binding ?? ''), false);

      const browser = new Browser(site.url);
      await browser.challenge();
      const again = await fetch(`${site.url}/bsso?bsso=challenge&domain=mail.test`, {
        headers: { cookie: browser.cookieHeader() },
      });
      assert.equal(again.status, 200);
      assert.deepEqual(again.headers.getSetCookie(), [], 'the binding cookie is kept');

      const calls = fx.standIn.requests.length;
      const wrong = await fetch(`${site.url}/bsso?domain=mail.test`);
      assert.equal(wrong.status, 400);
      assert.equal(((await wrong.json()) as { error: string }).error, 'invalid_request');
      const bad = await fetch(`${site.url}/bsso?bsso=challenge&domain=a..b`);
      assert.equal(((await bad.json()) as { error: string }).error, 'invalid_email');
      assert.equal(fx.standIn.requests.length, calls);
    });

    test('delivery: redirect to the return path, a new session id, the old one ended', async () => {
      const browser = new Browser(site.url);
      const first = await signIn(browser, '/members?x=1');
      assert.equal(first.status, adapter.successStatus, first.text);
      assert.equal(first.location, '/members?x=1');
      const line = first.setCookies.find((c) => c.startsWith(`${adapter.session.cookie}=`));
      assert.ok(line, 'a session cookie');
      for (const attr of adapter.session.attributes) {
        assert.ok(line.split('; ').includes(attr), attr);
      }
      assert.equal(await browser.me(), ALICE);
      const firstId = browser.cookies.get(adapter.session.cookie);

      const second = await signIn(browser, 'https://evil.test/');
      assert.equal(second.status, adapter.successStatus);
      assert.equal(second.location, '/', 'an off-site return path is dropped');
      const secondId = browser.cookies.get(adapter.session.cookie);
      assert.notEqual(secondId, firstId, 'a new session id');
      assert.equal(await meWith(secondId), ALICE);
      assert.equal(await meWith(firstId), null, 'the old session ended');
    });

    test('onSignIn: gets the address and the request; throwing refuses the sign-in', {
      skip: adapter.rejection !== 'answer' && 'Passport: its verify callback instead',
    }, async () => {
      const browser = new Browser(site.url);
      assert.equal((await signIn(browser)).status, adapter.successStatus);
      const last = signIns.at(-1);
      assert.equal(last?.email, ALICE);
      assert.ok(typeof last?.req === 'object' && last.req !== null && 'headers' in last.req);
      const calls = fx.standIn.requests.length;
      const other = new Browser(site.url);
      const refused = await signIn(other, undefined, REFUSED);
      assert.equal(refused.status, 500);
      assert.equal(refused.body.error, 'server_error');
      assert.equal(refused.body.error_description, errorCodes.server_error.description);
      assert.equal(
        refused.setCookies.some((c) => c.startsWith('__Host-bsso_session=')),
        false,
      );
      assert.equal(await other.me(), null, 'nobody signed in');
      assert.equal(fx.standIn.requests.length, calls, 'no further outbound call (warm)');
    });

    test('rejected: wrong content type 415, body too large 413', async () => {
      const browser = new Browser(site.url);
      await browser.challenge();
      await rejected(
        browser,
        () =>
          browser.deliver(JSON.stringify({ assertion: 'x' }), { contentType: 'application/json' }),
        'unsupported_media_type',
      );
      await rejected(
        browser,
        () => browser.deliver(`assertion=${'a'.repeat(1024 * 1024)}`),
        'payload_too_large',
      );
      await rejected(browser, () => browser.deliver({ return_to: '/' }), 'invalid_request');
    });

    test('web flow: the start page, its redirect to the provider, and the cross-site delivery signs in', async () => {
      const form = await fetch(`${site.url}/bsso?bsso=start`);
      assert.equal(form.status, 200);
      assert.match(await form.text(), /<form method="post" action="\/bsso\?bsso=start">/);
      const browser = new Browser(site.url);
      const start = await fetch(`${site.url}/bsso?bsso=start`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'sec-fetch-site': 'same-origin',
        },
        body: new URLSearchParams({ email: ALICE, return_to: '/members' }).toString(),
      });
      assert.equal(start.status, 303, await start.text());
      browser.keep(start);
      const location = new URL(start.headers.get('location') ?? '');
      assert.equal(`${location.origin}${location.pathname}`, 'https://mail.test/bsso/web');
      const request = parseWebSignInRequest(location.searchParams);
      const assertion = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: request.nonce,
        ...(request.handle ? { handle: request.handle } : {}),
      });
      // The provider's page POSTs cross-site: only the SameSite=None cookie comes along.
      const crossSite = new Browser(site.url);
      crossSite.cookies.set('__Host-bsso_web', browser.cookies.get('__Host-bsso_web') ?? '');
      const delivered = await crossSite.deliver({ assertion, return_to: '/members' });
      assert.equal(delivered.status, adapter.successStatus, delivered.text);
      assert.ok(delivered.setCookies.some((c) => c.startsWith(`${adapter.session.cookie}=`)));
      assert.equal(await crossSite.me(), ALICE);
    });

    test('rejected: an unknown nonce, a replayed assertion', async () => {
      const browser = new Browser(site.url);
      const { handle } = await browser.challenge();
      const unknown = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: randomToken(32),
        ...(handle ? { handle } : {}),
      });
      await rejected(browser, () => browser.deliver({ assertion: unknown }), 'invalid_nonce');

      const victim = new Browser(site.url);
      const c = await victim.challenge();
      const assertion = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: c.nonce,
        ...(c.handle ? { handle: c.handle } : {}),
      });
      assert.equal((await victim.deliver({ assertion })).status, adapter.successStatus);
      const replayer = new Browser(site.url);
      replayer.cookies.set('__Host-bsso_browser', victim.cookies.get('__Host-bsso_browser') ?? '');
      await rejected(replayer, () => replayer.deliver({ assertion }), 'invalid_nonce');
    });

    test('rate limit: 429 rate_limited past the per-client limit', async () => {
      const browser = new Browser(limited.url);
      await browser.challenge();
      await browser.challenge();
      const calls = fx.standIn.requests.length;
      const res = await fetch(`${limited.url}/bsso?bsso=challenge&domain=mail.test`);
      assert.equal(res.status, 429);
      assert.equal(((await res.json()) as { error: string }).error, 'rate_limited');
      assert.equal(fx.standIn.requests.length, calls);
      await rejected(browser, () => browser.deliver({ assertion: 'a.b.c' }), 'rate_limited');
    });

    test('sign-out: same origin only', async () => {
      const browser = new Browser(site.url);
      await signIn(browser);
      const before = browser.cookies.get(adapter.session.cookie);
      const signOut = (headers: Record<string, string>) =>
        fetch(`${site.url}/bsso/signout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: browser.cookieHeader(), accept: 'application/json', ...headers },
        });
      const foreign = await signOut({ 'sec-fetch-site': 'cross-site' });
      assert.equal(foreign.status, 403);
      assert.equal(((await foreign.json()) as { error: string }).error, 'origin_not_allowed');
      const noMetadata = await signOut({ origin: 'https://evil.test' });
      assert.equal(noMetadata.status, 403);
      assert.equal(await browser.me(), ALICE, 'still signed in');

      const own = await signOut({ 'sec-fetch-site': 'same-origin' });
      assert.equal(own.status, 303);
      assert.equal(own.headers.get('location'), '/');
      browser.keep(own);
      assert.equal(await browser.me(), null);
      assert.equal(await meWith(before), null, 'the session ended');
    });

    test('other methods: 405 method_not_allowed', async () => {
      for (const [method, path] of [
        ['PUT', '/bsso'],
        ['DELETE', '/bsso'],
        ['GET', '/bsso/signout'],
        ['PATCH', '/bsso/signout'],
      ] as const) {
        const res = await fetch(`${site.url}${path}`, { method });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(((await res.json()) as { error: string }).error, 'method_not_allowed');
      }
    });
  });
}
