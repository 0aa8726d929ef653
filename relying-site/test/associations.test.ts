// Associations and direct verification: single-flight, renewal, expiry, invalidation,
// provider faults (threats 19, 30, 32-35, 38, 39).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALICE, ENDPOINT, hasSessionCookie, startFixture } from './helpers/fixture.ts';

describe('associations', () => {
  test('20 concurrent challenges create exactly one association', async () => {
    const fx = await startFixture();
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fx.browser().challenge()));
      assert.equal(fx.standIn.count('/bsso/associate'), 1);
      assert.equal(fx.standIn.count('/.well-known/webfinger'), 1);
      assert.equal(new Set(answers.map((a) => a.handle)).size, 1);
      assert.equal(new Set(answers.map((a) => a.nonce)).size, 20);
    } finally {
      await fx.close();
    }
  });

  test('renewed when less than 10% of the lifetime is left; the old key still verifies', async () => {
    // Discovery records kept a day: no refresh of theirs runs beside the delivery.
    const fx = await startFixture({ discovery: { cacheTtlSeconds: 86_400 } });
    try {
      const b = fx.browser();
      const first = await b.challenge();
      fx.clock.now += 3300_000; // 300 s of 3600 left: under 10%
      // The challenge answers with the live handle; the renewal runs in the background.
      assert.equal((await b.challenge()).handle, first.handle);
      await fx.core.associations.settled();
      assert.equal(fx.standIn.count('/bsso/associate'), 2);
      const second = await b.challenge();
      assert.notEqual(second.handle, first.handle);
      // An assertion made with the replaced key, still in flight, is accepted.
      const a = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: second.nonce,
        ...(first.handle ? { handle: first.handle } : {}),
      });
      const calls = fx.standIn.requests.length;
      assert.equal((await b.deliver({ assertion: a })).status, 303);
      assert.equal(fx.standIn.requests.length, calls);
    } finally {
      await fx.close();
    }
  });

  test('an expired association is never used', async () => {
    const fx = await startFixture();
    try {
      const b = fx.browser();
      const { handle } = await b.challenge();
      const secret = fx.standIn.associations.get(handle ?? '')?.secret;
      assert.ok(handle && secret);
      fx.clock.now += 3601_000;
      // The site renews at the challenge, but the expired key must not verify anything.
      const { nonce } = await b.challenge();
      const iat = Math.floor(fx.clock.now / 1000);
      const token = await fx.standIn.sign(
        {
          iss: 'https://mail.test',
          sub: ALICE,
          aud: ENDPOINT,
          nonce,
          iat,
          exp: iat + 60,
          jti: 'j'.repeat(22),
        },
        { handle, secret },
      );
      const calls = fx.standIn.requests.length;
      const d = await b.deliver({ assertion: token });
      assert.equal(d.body.error, 'unknown_association');
      assert.equal(hasSessionCookie(d), false);
      assert.equal(fx.standIn.requests.length, calls);
    } finally {
      await fx.close();
    }
  });

  test('a handle of another site is unknown here', async () => {
    const fx = await startFixture();
    try {
      // Another site associates with the same provider.
      const other = await fetch('https://mail.test/bsso/associate', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ site: 'https://other.test' }),
      });
      const { handle: otherHandle } = (await other.json()) as { handle: string };
      const b = fx.browser();
      const { nonce } = await b.challenge();
      const secret = fx.standIn.associations.get(otherHandle)?.secret;
      assert.ok(secret);
      const iat = Math.floor(fx.clock.now / 1000);
      const token = await fx.standIn.sign(
        {
          iss: 'https://mail.test',
          sub: ALICE,
          aud: ENDPOINT,
          nonce,
          iat,
          exp: iat + 60,
          jti: 'k'.repeat(22),
        },
        { handle: otherHandle, secret },
      );
      const calls = fx.standIn.requests.length;
      const d = await b.deliver({ assertion: token });
      assert.equal(d.body.error, 'unknown_association');
      assert.equal(hasSessionCookie(d), false);
      assert.equal(fx.standIn.requests.length, calls);
    } finally {
      await fx.close();
    }
  });

  test('invalidate_handle purges the association; the next sign-in re-associates', async () => {
    const fx = await startFixture();
    try {
      const b = fx.browser();
      const first = await b.challenge();
      assert.ok(first.handle);
      fx.standIn.associations.delete(first.handle); // the provider forgets it
      const a = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: first.nonce,
        handle: first.handle,
      });
      const d = await b.deliver({ assertion: a });
      assert.equal(d.status, 303, d.text);
      assert.equal(fx.standIn.count('/bsso/verify'), 1);
      assert.equal(await fx.core.stores.associations.get('https://mail.test'), null);
      const next = await b.challenge();
      assert.ok(next.handle);
      assert.notEqual(next.handle, first.handle);
      assert.equal(fx.standIn.count('/bsso/associate'), 2);
    } finally {
      await fx.close();
    }
  });

  test('a lost site cache still signs in (re-associates)', async () => {
    const fx = await startFixture();
    try {
      const b = fx.browser();
      await b.challenge();
      await fx.core.stores.associations.delete('https://mail.test');
      const c = await b.challenge();
      const a = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: c.nonce,
        ...(c.handle ? { handle: c.handle } : {}),
      });
      assert.equal((await b.deliver({ assertion: a })).status, 303);
      assert.equal(fx.standIn.count('/bsso/associate'), 2);
    } finally {
      await fx.close();
    }
  });
});

describe('direct verification', () => {
  test("verification: 'direct' signs in with one verification call and no association", async () => {
    const fx = await startFixture({ verification: 'direct' });
    try {
      const b = fx.browser();
      const c = await b.challenge();
      assert.equal(c.handle, undefined);
      const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce: c.nonce });
      const d = await b.deliver({ assertion: a });
      assert.equal(d.status, 303, d.text);
      assert.ok(hasSessionCookie(d));
      assert.equal(await b.me(), ALICE);
      assert.equal(fx.standIn.count('/bsso/verify'), 1);
      assert.equal(fx.standIn.count('/bsso/associate'), 0);
    } finally {
      await fx.close();
    }
  });

  test('provider faults: 500 -> provider_error 502, hang -> provider_timeout 504', async () => {
    const fx = await startFixture({ verification: 'direct', outbound: { timeoutMs: 300 } });
    try {
      const b = fx.browser();
      await b.challenge(); // warms nothing in direct mode; discovery happens at delivery
      fx.standIn.behaviour.verify = 'error500';
      let c = await b.challenge();
      let a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce: c.nonce });
      let d = await b.deliver({ assertion: a });
      assert.equal(d.status, 502);
      assert.equal(d.body.error, 'provider_error');
      assert.equal(hasSessionCookie(d), false);
      assert.equal(fx.standIn.count('/bsso/verify'), 1, 'no retry after an answer');

      fx.standIn.behaviour.verify = 'hang';
      c = await b.challenge();
      a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce: c.nonce });
      d = await b.deliver({ assertion: a });
      assert.equal(d.status, 504);
      assert.equal(d.body.error, 'provider_timeout');
      assert.equal(hasSessionCookie(d), false);
    } finally {
      await fx.close();
    }
  });

  test('provider down: provider_unavailable 503 after bounded retries', async () => {
    const fx = await startFixture({ verification: 'direct', outbound: { retries: 2 } });
    const b = fx.browser();
    const c = await b.challenge();
    const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce: c.nonce });
    // Discovery is cached, then the provider goes away.
    await fx.core.discovery.forDomain('mail.test');
    await fx.standIn.close();
    const d = await b.deliver({ assertion: a });
    assert.equal(d.status, 503);
    assert.equal(d.body.error, 'provider_unavailable');
    assert.equal(hasSessionCookie(d), false);
    await fx.close().catch(() => {});
  });

  test('a directly verified assertion is accepted once', async () => {
    const fx = await startFixture({ verification: 'direct' });
    try {
      const b = fx.browser();
      const c = await b.challenge();
      const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce: c.nonce });
      assert.equal((await b.deliver({ assertion: a })).status, 303);
      const again = await b.deliver({ assertion: a });
      assert.equal(again.body.error, 'invalid_nonce');
    } finally {
      await fx.close();
    }
  });
});
