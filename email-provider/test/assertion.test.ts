import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeAssertion,
  parseAssertionAnswer,
  parseAssociationAnswer,
  verifyAssociationSignature,
} from '@bsso/protocol';
import {
  AUDIENCE,
  Browser,
  EXTENSION_ORIGIN,
  errorCode,
  ISSUER,
  nonce,
  PASSWORD,
  postJson,
  type Running,
  removeDir,
  startProvider,
} from './helpers.ts';

const ALICE = 'alice@mail.test';

async function associate(p: Running, site: string) {
  const res = await postJson(p.base, '/bsso/association', { site });
  assert.equal(res.status, 200);
  return parseAssociationAnswer(await res.json());
}

async function assertionOf(res: Response): Promise<string> {
  assert.equal(res.status, 200);
  const answer = parseAssertionAnswer(res.status, await res.json(), ISSUER);
  assert.equal(answer.kind, 'assertion');
  return answer.kind === 'assertion' ? answer.assertion : '';
}

describe('assertion endpoint', () => {
  let p: Running;
  let alice: Browser;
  before(async () => {
    p = await startProvider();
    await p.provider.accounts.create(ALICE, PASSWORD);
    alice = new Browser(p.base);
    assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
  });
  after(async () => {
    await p.stop();
    await removeDir(p.dataDir);
  });

  const request = (extra: Record<string, unknown> = {}) => ({
    email: ALICE,
    audience: AUDIENCE,
    nonce: nonce(),
    ...extra,
  });

  it('refuses web origins, a null origin and no origin, without CORS headers', async () => {
    for (const origin of ['https://evil.test', 'https://mail.test', 'null', null]) {
      const res = await alice.askAssertion(request(), origin);
      assert.equal(res.status, 403, String(origin));
      assert.equal(await errorCode(res), 'origin_not_allowed');
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
    }
  });

  it('sends no CORS headers on success either, nor on a preflight', async () => {
    const res = await alice.askAssertion(request());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const preflight = await fetch(`${p.base}/bsso/assertion`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });

  it('honours an extension allow-list', async () => {
    const listed = await startProvider({ allowedExtensionOrigins: [EXTENSION_ORIGIN] });
    try {
      const b = new Browser(listed.base);
      const other = await b.askAssertion(request(), 'moz-extension://1234-abcd');
      assert.equal(await errorCode(other), 'origin_not_allowed');
      const ok = await b.askAssertion(request());
      assert.equal(await errorCode(ok), 'login_required');
    } finally {
      await listed.stop();
      await removeDir(listed.dataDir);
    }
  });

  it('answers 415, 413 and 400 for bad bodies, never 500', async () => {
    const send = (body: string, type = 'application/json') =>
      alice.fetch('/bsso/assertion', {
        method: 'POST',
        headers: { origin: EXTENSION_ORIGIN, 'content-type': type },
        body,
      });
    assert.equal(await errorCode(await send('{}', 'text/plain')), 'unsupported_media_type');
    assert.equal(
      await errorCode(await send(JSON.stringify(request()), 'application/x-www-form-urlencoded')),
      'unsupported_media_type',
    );
    const huge = await send(JSON.stringify(request({ pad: 'x'.repeat(1_000_000) })));
    assert.equal(huge.status, 413);
    assert.equal(await errorCode(huge), 'payload_too_large');
    for (const body of [
      '{bad json',
      '"string"',
      '[]',
      'null',
      JSON.stringify(request({ extra: 1 })),
      JSON.stringify(request({ email: 7 })),
      JSON.stringify(request({ nonce: 'short' })),
      JSON.stringify({ email: ALICE }),
    ]) {
      const res = await send(body);
      assert.equal(res.status, 400, body);
    }
    const insecure = await alice.askAssertion(request({ audience: 'http://site.test/bsso' }));
    assert.equal(await errorCode(insecure), 'insecure_url');
    const badEmail = await alice.askAssertion(request({ email: 'a@b@mail.test' }));
    assert.equal(await errorCode(badEmail), 'invalid_email');
  });

  it('answers 404 unknown_domain for domains it does not serve', async () => {
    const res = await alice.askAssertion(request({ email: 'alice@other.test' }));
    assert.equal(res.status, 404);
    assert.equal(await errorCode(res), 'unknown_domain');
  });

  it('answers login_required the same way whether or not the account exists', async () => {
    const stranger = new Browser(p.base);
    const known = await stranger.askAssertion(request());
    const unknown = await stranger.askAssertion(request({ email: 'nobody@mail.test' }));
    assert.equal(known.status, 401);
    assert.equal(unknown.status, 401);
    const a = (await known.json()) as Record<string, string>;
    const b = (await unknown.json()) as Record<string, string>;
    assert.equal(a.signin_url, `${ISSUER}/signin?login_hint=alice%40mail.test&popup=1`);
    assert.deepEqual(
      { ...a, signin_url: '' },
      { ...b, signin_url: '' },
      'only the login hint differs',
    );
    const parsed = parseAssertionAnswer(401, a, ISSUER);
    assert.equal(parsed.kind, 'login_required');
  });

  it('answers wrong_account when signed in as another address', async () => {
    const res = await alice.askAssertion(request({ email: 'bob@mail.test' }));
    assert.equal(res.status, 403);
    assert.equal(await errorCode(res), 'wrong_account');
  });

  it('signs with the provider key when no handle is given', async () => {
    const token = await assertionOf(
      await alice.askAssertion(request({ email: 'ALICE@mail.test' })),
    );
    const { header, claims } = decodeAssertion(token);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.sub, ALICE);
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.nonce, nonce());
    assert.equal(claims.exp - claims.iat, 120);
    assert.equal(claims.iat, Math.floor(p.clock.ms / 1000));
    assert.equal(claims.invalidate_handle, undefined);
  });

  it('signs with the association key for a live handle of the same site', async () => {
    const assoc = await associate(p, 'https://site.test');
    const token = await assertionOf(await alice.askAssertion(request({ handle: assoc.handle })));
    const { header, claims } = decodeAssertion(token);
    assert.equal(header.alg, 'HS256');
    assert.equal(header.kid, assoc.handle);
    assert.equal(claims.invalidate_handle, undefined);
    await verifyAssociationSignature(token, assoc.secret);
  });

  it('uses the provider key for a handle of another site, and says to drop it', async () => {
    const assoc = await associate(p, 'https://other-site.test');
    const token = await assertionOf(await alice.askAssertion(request({ handle: assoc.handle })));
    const { header, claims } = decodeAssertion(token);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(claims.invalidate_handle, assoc.handle);
  });

  it('uses the provider key for unknown, invalidated and expired handles', async () => {
    const unknown = decodeAssertion(
      await assertionOf(await alice.askAssertion(request({ handle: 'u'.repeat(22) }))),
    );
    assert.equal(unknown.header.alg, 'EdDSA');
    assert.equal(unknown.claims.invalidate_handle, 'u'.repeat(22));

    const invalidated = await associate(p, 'https://site.test');
    assert.equal(await p.provider.associations.invalidate(invalidated.handle), true);
    const afterInvalidation = decodeAssertion(
      await assertionOf(await alice.askAssertion(request({ handle: invalidated.handle }))),
    );
    assert.equal(afterInvalidation.header.alg, 'EdDSA');
    assert.equal(afterInvalidation.claims.invalidate_handle, invalidated.handle);

    const expiring = await associate(p, 'https://site.test');
    p.clock.ms += expiring.expiresIn * 1000;
    const afterExpiry = decodeAssertion(
      await assertionOf(await alice.askAssertion(request({ handle: expiring.handle }))),
    );
    assert.equal(afterExpiry.header.alg, 'EdDSA');
    assert.equal(afterExpiry.claims.invalidate_handle, expiring.handle);
  });
});
