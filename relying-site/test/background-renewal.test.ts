// Issue 17 item 2: associations are renewed and discovery records refreshed in the background,
// never inside a user's sign-in. A challenge that finds a live association (or an unexpired
// discovery record) answers at once; the renewal (refresh) happens after it, one per issuer
// (domain) at a time, and a failed one keeps the good key (record). Gates hold the background
// work at a known point, so "no request before the answer" is checked without sleeps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BssoError } from '@bsso/protocol';
import { createDiscovery } from '../src/core/discovery.ts';
import { createMemoryDiscoveryCache } from '../src/core/memory-stores.ts';
import { createOutbound, type Outbound } from '../src/core/outbound.ts';
import type { DiscoveryCache } from '../src/core/stores.ts';
import { ALICE, ENDPOINT, type Fixture, startFixture } from './helpers/fixture.ts';
import { gate, lockableAssociations } from './helpers/gates.ts';

const HOUR_MS = 3600_000;
const ISSUER = 'https://mail.test';

describe('association renewal in the background', () => {
  // A test on the old behaviour (renewal inside the challenge) hangs on the held lock.
  test('a challenge inside the renewal window answers with the live handle and no association request; the renewal follows', {
    timeout: 20_000,
  }, async () => {
    let fx: Fixture | undefined;
    const now = () => fx?.clock.now ?? 0;
    const associations = lockableAssociations(now);
    // Discovery records kept a day: no refresh of theirs runs beside these challenges.
    fx = await startFixture({
      stores: { associations: associations.cache },
      discovery: { cacheTtlSeconds: 86_400 },
    });
    try {
      const b = fx.browser();
      const first = await b.challenge();
      assert.ok(first.handle);
      assert.equal(fx.standIn.count('/bsso/associate'), 1);

      fx.clock.now += 3300_000; // 300 s of 3600 left: under 10%, renewal due
      const held = gate();
      associations.hold(held.opened);
      const second = await b.challenge();
      assert.equal(second.handle, first.handle, 'answered with the live association');
      assert.equal(fx.standIn.count('/bsso/associate'), 1, 'no association request yet');

      // More challenges meanwhile: still the live handle, still one renewal.
      const more = await Promise.all([b.challenge(), b.challenge(), fx.browser().challenge()]);
      assert.deepEqual(
        more.map((c) => c.handle),
        [first.handle, first.handle, first.handle],
      );
      assert.equal(associations.locks(), 2, 'one renewal for the issuer');

      held.open();
      await fx.core.associations.settled();
      assert.equal(fx.standIn.count('/bsso/associate'), 2, 'renewed in the background');

      const third = await b.challenge();
      assert.ok(third.handle);
      assert.notEqual(third.handle, first.handle, 'the next challenge gets the new handle');
      assert.equal(fx.standIn.count('/bsso/associate'), 2);

      // The replaced key still verifies an assertion on its way (the `previous` key).
      const token = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: third.nonce,
        handle: first.handle,
      });
      const calls = fx.standIn.requests.length;
      assert.equal((await b.deliver({ assertion: token })).status, 303);
      assert.equal(fx.standIn.requests.length, calls, 'verified locally, no call');
    } finally {
      await fx.close();
    }
  });

  test('without a live association the challenge waits for the first one', async () => {
    const fx = await startFixture();
    try {
      const first = await fx.browser().challenge();
      assert.ok(first.handle);
      assert.equal(fx.standIn.count('/bsso/associate'), 1);
      fx.clock.now += HOUR_MS + 1000; // expired: never offered
      const second = await fx.browser().challenge();
      assert.ok(second.handle);
      assert.notEqual(second.handle, first.handle);
      assert.equal(fx.standIn.count('/bsso/associate'), 2);
    } finally {
      await fx.close();
    }
  });

  test('a failed renewal keeps the live key until it expires, and is tried again', async () => {
    const fx = await startFixture({ discovery: { cacheTtlSeconds: 86_400 } });
    try {
      const b = fx.browser();
      const first = await b.challenge();
      assert.ok(first.handle);
      fx.clock.now += 3300_000;
      // The provider now answers an association out of range: provider_error, no new key.
      fx.standIn.behaviour.associationLifetime = 1;
      assert.equal((await b.challenge()).handle, first.handle);
      await fx.core.associations.settled();
      assert.equal(fx.standIn.count('/bsso/associate'), 2);
      const kept = await fx.core.stores.associations.get(ISSUER);
      assert.equal(kept?.handle, first.handle, 'the failure replaced nothing');

      // Still usable for sign-ins, and the next challenge in the window tries again.
      const again = await b.challenge();
      assert.equal(again.handle, first.handle);
      await fx.core.associations.settled();
      assert.equal(fx.standIn.count('/bsso/associate'), 3);
      const token = await fx.standIn.assertionFor({
        email: ALICE,
        audience: ENDPOINT,
        nonce: again.nonce,
        handle: first.handle,
      });
      assert.equal((await b.deliver({ assertion: token })).status, 303);

      // The provider recovers: the renewal succeeds and the new handle is offered.
      fx.standIn.behaviour.associationLifetime = 3600;
      await b.challenge();
      await fx.core.associations.settled();
      const renewed = await b.challenge();
      assert.ok(renewed.handle);
      assert.notEqual(renewed.handle, first.handle);
    } finally {
      await fx.close();
    }
  });
});

/** The fixture's discovery cache, whose reads from the n-th on a test can hold. */
function holdableDiscovery(now: () => number) {
  const inner = createMemoryDiscoveryCache(now);
  let reads = 0;
  let holdFrom = Number.POSITIVE_INFINITY;
  let held: Promise<void> = Promise.resolve();
  const cache: DiscoveryCache = {
    async get(domain) {
      reads++;
      if (reads >= holdFrom) await held;
      return inner.get(domain);
    },
    set: (domain, record) => inner.set(domain, record),
  };
  return {
    cache,
    inner,
    /** Holds every read after the next one until `until` resolves. */
    holdAfterNext(until: Promise<void>) {
      holdFrom = reads + 2;
      held = until;
    },
  };
}

describe('discovery refresh in the background', () => {
  test('a challenge in the last tenth of the record answers from the cache; the refresh follows', async () => {
    let fx: Fixture | undefined;
    const now = () => fx?.clock.now ?? 0;
    const discovery = holdableDiscovery(now);
    fx = await startFixture({ stores: { discovery: discovery.cache } });
    const looked = () => fx?.standIn.count('/.well-known/webfinger') ?? 0;
    try {
      fx.standIn.behaviour.associationLifetime = 86_400; // the association is not due
      const b = fx.browser();
      const first = await b.challenge();
      assert.equal(looked(), 1);

      fx.clock.now += 3300_000; // 300 s of the hour left: refresh due
      const held = gate();
      discovery.holdAfterNext(held.opened);
      const second = await b.challenge();
      assert.equal(second.handle, first.handle);
      assert.equal(looked(), 1, 'answered from the cache, no look-up before the answer');

      held.open();
      await fx.core.discovery.settled();
      assert.equal(looked(), 2, 'refreshed in the background');
      const record = await discovery.inner.get('mail.test');
      assert.equal(record?.expiresAt, fx.clock.now + HOUR_MS, 'a fresh hour');

      await b.challenge();
      await fx.core.discovery.settled();
      assert.equal(looked(), 2, 'the next challenge uses the new record');
    } finally {
      await fx.close();
    }
  });

  test('one refresh per domain; a failure keeps the good record and is not remembered; an expired record is never served', async () => {
    const fx = await startFixture();
    const real = createOutbound({ network: fx.network });
    let failing = false;
    let held: Promise<void> = Promise.resolve();
    const outbound: Outbound = {
      ...real,
      async limit(task, kind) {
        await held;
        if (failing) throw new BssoError('provider_unavailable', 'The test cut the network.');
        return real.limit(task, kind);
      },
    };
    const now = () => fx.clock.now;
    const cache = createMemoryDiscoveryCache(now);
    const discovery = createDiscovery(cache, outbound, {}, now);
    const looked = () => fx.standIn.count('/.well-known/webfinger');
    try {
      assert.equal((await discovery.forDomain('mail.test')).issuer, ISSUER);
      assert.equal(looked(), 1);
      // Not yet in the last tenth: no refresh.
      fx.clock.now += 3000_000;
      await discovery.forDomain('mail.test');
      await discovery.settled();
      assert.equal(looked(), 1);

      // Due, and the network fails: answered from the cache, the record stays.
      fx.clock.now += 300_000; // 300 s left
      failing = true;
      const wait = gate();
      held = wait.opened;
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => discovery.forDomain('mail.test')),
      );
      assert.deepEqual(
        answers.map((c) => c.issuer),
        Array(5).fill(ISSUER),
      );
      wait.open();
      await discovery.settled();
      const kept = await cache.get('mail.test');
      assert.equal(kept?.config.issuer, ISSUER, 'the failure replaced nothing');

      // Not remembered as a failure: the next call still answers, and refreshes again.
      failing = false;
      assert.equal((await discovery.forDomain('mail.test')).issuer, ISSUER);
      await discovery.settled();
      assert.equal(looked(), 2, 'one refresh at a time, then one more after the failure');
      const fresh = await cache.get('mail.test');
      assert.equal(fresh?.expiresAt, fx.clock.now + HOUR_MS);

      // An expired record is never served: the caller waits for the look-up, and its
      // failure is the caller's.
      fx.clock.now += HOUR_MS;
      failing = true;
      await assert.rejects(discovery.forDomain('mail.test'), { code: 'provider_unavailable' });
    } finally {
      await real.close();
      await fx.close();
    }
  });
});
