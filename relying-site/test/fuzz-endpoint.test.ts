// Property tests over real HTTP: hostile challenges, deliveries and sign-outs at the site
// endpoint never get a 500, never hang, never create a session and never make the site call
// the provider (threats 24-26, 29, 40). Long run:
//   FUZZ_RUNS=100000 npm run fuzz -w @bsso/relying-site
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ASSERTION_TYP, isErrorCode, randomToken } from '@bsso/protocol';
import fc from 'fast-check';
import { base64url } from 'jose';
import { ALICE, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';

const numRuns = Number(process.env.FUZZ_RUNS ?? 40);

const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.domain(),
  fc.webUrl(),
);
const enc = (v: unknown) => base64url.encode(JSON.stringify(v) ?? 'null');
const jws = fc
  .tuple(
    fc.record(
      { alg: fc.constantFrom('HS256', 'EdDSA', 'none', 'RS256'), typ: fc.constant(ASSERTION_TYP) },
      { requiredKeys: [] },
    ),
    fc.record(
      { iss: text, sub: fc.constantFrom(ALICE, 'x@y'), aud: fc.constant(ENDPOINT) },
      { requiredKeys: [] },
    ),
    fc.string({ maxLength: 90 }),
  )
  .map(([h, c, s]) => {
    const iat = Math.floor(Date.UTC(2030, 0, 1) / 1000);
    const claims = { nonce: randomToken(32), jti: randomToken(16), iat, exp: iat + 60, ...c };
    return `${enc({ kid: randomToken(16), ...h })}.${enc(claims)}.${base64url.encode(s)}`;
  });
const assertion = fc.oneof(text, jws);

// Return paths as an attacker writes them (threat 45): dot segments, plain and encoded,
// encoded slashes and backslashes, raw backslashes and control characters; weighted so that
// most pass the input checks and reach the normalisation.
const returnPath = fc
  .array(
    fc.tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2e'), weight: 2 },
        fc.constantFrom('', 'evil.test', '%2f', '%5c', '%09', '\\', '\t', '\u0000'),
      ),
      fc.oneof(
        { arbitrary: fc.constantFrom('/', '//'), weight: 4 },
        fc.constantFrom('\\', '%2f', '/\t'),
      ),
    ),
    { maxLength: 5 },
  )
  .map((parts) => `/${parts.map(([p, sep]) => p + sep).join('')}`);

describe('the site endpoint under hostile requests', () => {
  let fx: Fixture;
  before(async () => {
    // The fixture's test network resolves only mail.test: a fuzzed domain never leaves the
    // machine.
    fx = await startFixture({ rateLimiter: false });
    await fx.browser().challenge(); // warm: discovery and association
  });
  after(() => fx.close());

  async function send(path: string, init: RequestInit) {
    const calls = fx.standIn.requests.length;
    const res = await fetch(`${fx.siteUrl}${path}`, {
      redirect: 'manual',
      ...init,
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.text();
    assert.ok(res.status < 500, `${res.status} ${body}`);
    assert.equal(
      res.headers.getSetCookie().some((c) => /^__Host-bsso_session=[^;]/.test(c)),
      false,
      'no session',
    );
    return { status: res.status, body, calls: fx.standIn.requests.length - calls };
  }

  it('POST deliveries: refused with a code, no provider call', async () => {
    const browser = fx.browser();
    await browser.challenge();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          assertion.map((a) => new URLSearchParams({ assertion: a }).toString()),
          fc
            .dictionary(fc.constantFrom('assertion', 'return_to', 'email'), assertion)
            .map((d) => new URLSearchParams(d).toString()),
          text,
        ),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
        fc.constantFrom('application/json', 'text/html', '*/*'),
        async (body, type, accept) => {
          const a = await send('/bsso', {
            method: 'POST',
            headers: { 'content-type': type, accept, cookie: browser.cookieHeader() },
            body,
          });
          assert.ok(a.status >= 400, String(a.status));
          if (accept === 'application/json') {
            assert.ok(isErrorCode((JSON.parse(a.body) as { error?: unknown }).error));
          }
          assert.equal(a.calls, 0, 'no server-to-server call');
        },
      ),
      { numRuns },
    );
  });

  it('sign-ins with hostile return paths redirect only on the site', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: returnPath, weight: 4 }, text), async (returnTo) => {
        const browser = fx.browser();
        const { nonce, handle } = await browser.challenge();
        const a = await fx.standIn.assertionFor({
          email: ALICE,
          audience: ENDPOINT,
          nonce,
          ...(handle ? { handle } : {}),
        });
        const d = await browser.deliver({ assertion: a, return_to: returnTo });
        assert.equal(d.status, 303);
        const location = d.location ?? '';
        assert.ok(location.startsWith('/') && !location.startsWith('//'), location);
        // Printable ASCII only: no space, backslash or control character.
        assert.match(location, /^[!-[\]-~]+$/, location);
        assert.equal(new URL(location, 'https://site.test').origin, 'https://site.test');
      }),
      { numRuns },
    );
  });

  it('GET challenges with hostile queries and cookies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('bsso', 'domain', 'x'), text), { maxLength: 4 }),
        fc.string({ maxLength: 100 }),
        async (params, cookie) => {
          const query = new URLSearchParams(params).toString();
          const a = await send(`/bsso?${query}`, {
            headers: { cookie: cookie.replace(/[^\x20-\x7e]/g, '') },
          });
          assert.ok(a.status === 200 || a.status === 400 || a.status === 502, String(a.status));
          // Only mail.test names a provider; it is cached, so nothing reaches it.
          assert.equal(a.calls, 0);
        },
      ),
      { numRuns },
    );
  });

  it('POST sign-out and other methods', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH'),
        fc.constantFrom('/bsso/signout', '/bsso'),
        fc.constantFrom('same-origin', 'cross-site', 'none', ''),
        fc.constantFrom('https://site.test', 'https://evil.test', 'null', ''),
        text,
        async (method, path, site, origin, body) => {
          const headers: Record<string, string> = { 'content-type': 'text/plain' };
          if (site) headers['sec-fetch-site'] = site;
          if (origin) headers.origin = origin;
          const a = await send(path, { method, headers, body });
          assert.ok(a.status < 500);
          assert.equal(a.calls, 0);
        },
      ),
      { numRuns },
    );
  });
});
