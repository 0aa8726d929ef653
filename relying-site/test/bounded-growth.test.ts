// Bounded growth under abuse (threat 49): the site's memory stores have count caps, the site
// keeps an association at most a day whatever the provider asks, and an honest sign-in
// still works while an attacker floods with domains and challenges.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createProviderConfig } from '@bsso/protocol';
import {
  createMemoryAssociationCache,
  createMemoryDiscoveryCache,
  createMemoryNonceStore,
  createMemorySessionStore,
  type DiscoveryCache,
  SITE_MAX_ASSOCIATION_LIFETIME_SECONDS,
} from '../src/core/index.ts';
import {
  ALICE,
  ENDPOINT,
  type Fixture,
  hasSessionCookie,
  startFixture,
} from './helpers/fixture.ts';

const DAY_MS = 86_400_000;
const record = (expiresAt: number) => ({ browserId: 'b', expiresAt });

describe('memory stores stay bounded', () => {
  test('nonces: at the cap the oldest challenge goes, new ones are still accepted', async () => {
    const clock = { now: 1_000_000 };
    const nonces = createMemoryNonceStore(() => clock.now, { maxEntries: 100 });
    for (let i = 0; i < 1000; i++) {
      await nonces.put(`n${i}`, record(clock.now + 300_000));
      clock.now += 1;
    }
    assert.equal(nonces.size, 100);
    assert.equal(await nonces.consume('n0'), null, 'the oldest went');
    assert.equal(await nonces.consume('n899'), null);
    assert.ok(await nonces.consume('n900'));
    assert.ok(await nonces.consume('n999'), 'the newest challenge still works');
  });

  test('sessions: at the cap the least recently used ends, an active one stays', async () => {
    const clock = { now: 1_000_000 };
    const sessions = createMemorySessionStore(() => clock.now, { maxEntries: 50 });
    const session = () => ({
      email: 'x@y.example',
      createdAt: clock.now,
      expiresAt: clock.now + DAY_MS,
    });
    await sessions.create('honest', session());
    for (let i = 0; i < 500; i++) {
      await sessions.create(`flood${i}`, session());
      clock.now += 1;
      // The honest user keeps using the site.
      if (i % 10 === 0) assert.ok(await sessions.get('honest'));
    }
    assert.equal(sessions.size, 50);
    assert.equal(await sessions.get('flood0'), null, 'the least recently used went');
    assert.ok(await sessions.get('honest'), 'the active session stays');
  });

  test('associations: the least recently used goes, one in use is kept', async () => {
    const clock = { now: 1_000_000 };
    const cache = createMemoryAssociationCache(() => clock.now, {
      maxEntries: 3,
      keepUsedWithinMs: 1000,
    });
    const assoc = (issuer: string) => ({
      issuer,
      handle: `h-${issuer}`,
      secret: new Uint8Array(32),
      createdAt: clock.now,
      expiresAt: clock.now + DAY_MS,
    });
    for (const issuer of ['https://a', 'https://b', 'https://c']) {
      await cache.set(issuer, assoc(issuer));
    }
    // All three were used just now: a fourth is not stored rather than dropping one in use.
    await cache.set('https://d', assoc('https://d'));
    assert.equal(await cache.get('https://d'), null);
    assert.equal(cache.size, 3);
    clock.now += 1001;
    assert.ok(await cache.get('https://a')); // used again: now the most recent
    await cache.set('https://d', assoc('https://d'));
    assert.ok(await cache.get('https://d'));
    assert.equal(await cache.get('https://b'), null, 'the least recently used went');
    assert.ok(await cache.get('https://a'));
    assert.equal(cache.size, 3);
    // Replacing an issuer's record never needs a free place.
    await cache.set('https://a', { ...assoc('https://a'), handle: 'h-a2' });
    assert.equal((await cache.get('https://a'))?.handle, 'h-a2');
  });

  test('discovery records: at most the cap', async () => {
    const clock = { now: 1_000_000 };
    const cache = createMemoryDiscoveryCache(() => clock.now, { maxEntries: 10 });
    for (let i = 0; i < 100; i++) {
      const config = createProviderConfig(`https://p${i}.test`, {
        assertion_endpoint: '/a',
        association_endpoint: '/b',
        verification_endpoint: '/v',
        signin_endpoint: '/s',
      });
      await cache.set(`d${i}.test`, { config, expiresAt: clock.now + 3_600_000 });
    }
    assert.equal(cache.size, 10);
    assert.ok(await cache.get('d99.test'));
  });
});

/**
 * Discovery for the attacker's domains evil-<n>.test: each names its own issuer, whose
 * association endpoint is the stand-in's (the only provider the tests reach), so every
 * domain costs the site one association record. Other domains use the memory cache.
 */
function attackerDiscovery(now: () => number): DiscoveryCache {
  const honest = createMemoryDiscoveryCache(now);
  return {
    async get(domain) {
      if (!/^evil-\d+\.test$/.test(domain)) return honest.get(domain);
      const config = createProviderConfig(`https://${domain}`, {
        assertion_endpoint: '/a',
        association_endpoint: 'https://mail.test/bsso/associate',
        verification_endpoint: '/v',
        signin_endpoint: '/s',
      });
      return { config, expiresAt: now() + 3_600_000 };
    },
    set: (domain, record) => honest.set(domain, record),
  };
}

describe('an attacker floods the site', () => {
  test('keeps an association at most a day, whatever the provider asks', async () => {
    const fx = await startFixture();
    try {
      fx.standIn.behaviour.associationLifetime = 7 * 86_400;
      const b = fx.browser();
      const { handle } = await b.challenge();
      const kept = await fx.core.stores.associations.get('https://mail.test');
      assert.equal(kept?.handle, handle);
      assert.equal((kept?.expiresAt ?? 0) - (kept?.createdAt ?? 0), DAY_MS);
      assert.equal(SITE_MAX_ASSOCIATION_LIFETIME_SECONDS * 1000, DAY_MS);
      // A day later the site has dropped it and associates again.
      fx.clock.now += DAY_MS + 1000;
      const { handle: renewed } = await b.challenge();
      assert.notEqual(renewed, handle);
      assert.equal(fx.standIn.count('/bsso/associate'), 2);
    } finally {
      await fx.close();
    }
  });

  test('many domains and challenges: record counts stay bounded, an honest sign-in works', async () => {
    let fx: Fixture | undefined;
    const now = () => fx?.clock.now ?? 0;
    const nonces = createMemoryNonceStore(now, { maxEntries: 200 });
    const associations = createMemoryAssociationCache(now, { maxEntries: 20 });
    fx = await startFixture({
      stores: { nonces, associations, discovery: attackerDiscovery(now) },
      rateLimiter: false,
    });
    try {
      fx.standIn.behaviour.associationLifetime = 7 * 86_400;
      // A flood of challenges first: more than the nonce cap.
      for (let i = 0; i < 1000; i++) {
        await fx.core.challenge({ browserId: `attacker-${i}`, domain: 'mail.test' });
      }
      assert.equal(nonces.size, 200);
      // The honest user asks for a challenge, then the attacker names 100 new domains while
      // the user signs in at the provider.
      const honest = fx.browser();
      const { nonce, handle } = await honest.challenge();
      assert.ok(handle);
      const associated = fx.standIn.count('/bsso/associate');
      const answers = [];
      for (let i = 0; i < 100; i++) {
        answers.push(
          await fx.core.challenge({ browserId: `attacker-${i}`, domain: `evil-${i}.test` }),
        );
      }
      assert.ok(associations.size <= 20, `${associations.size} association records`);
      assert.ok(nonces.size <= 200, `${nonces.size} nonces`);
      // Each domain asked once; no handle is offered that the cache does not hold.
      assert.equal(fx.standIn.count('/bsso/associate') - associated, 100);
      // Once the cache is full of records in use, new domains get no handle (their
      // sign-ins verify directly); every handle offered is one the cache holds.
      const offered = answers.flatMap((answer, i) => (answer.handle ? [{ answer, i }] : []));
      assert.equal(offered.length, 19);
      for (const { answer, i } of offered) {
        const held = await associations.get(`https://evil-${i}.test`);
        assert.equal(held?.handle, answer.handle);
        assert.equal((held?.expiresAt ?? 0) - (held?.createdAt ?? 0), DAY_MS);
      }
      // The honest user's association was in use, so it stayed: the sign-in verifies locally.
      const a = await fx.standIn.assertionFor({ email: ALICE, audience: ENDPOINT, nonce, handle });
      const calls = fx.standIn.requests.length;
      const d = await honest.deliver({ assertion: a });
      assert.equal(d.status, 303);
      assert.equal(hasSessionCookie(d), true);
      assert.equal(await honest.me(), ALICE);
      assert.equal(fx.standIn.requests.length, calls, 'verified locally');
    } finally {
      await fx.close();
    }
  });
});
