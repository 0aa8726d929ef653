// One contract for every provider store and rate limiter implementation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureThrottle } from '../src/rate-limit.ts';
import type { Stores } from '../src/storage/types.ts';

/** The store contract: stores.test.ts runs it against SQLite, PostgreSQL and PostgreSQL + Redis. */
export function storeContract(
  name: string,
  open: () => Promise<{ stores: Stores; done(): Promise<void> }>,
) {
  describe(`${name} stores`, () => {
    it('accounts: insert once, update, list, remove', async () => {
      const { stores, done } = await open();
      try {
        const r = { email: 'a@x.test', passwordHash: 'h', createdAt: 1, updatedAt: 1 };
        assert.equal(await stores.accounts.insert(r), true);
        assert.equal(await stores.accounts.insert(r), false);
        assert.equal(await stores.accounts.updatePassword('a@x.test', 'h2', 2), true);
        assert.equal((await stores.accounts.find('a@x.test'))?.passwordHash, 'h2');
        assert.deepEqual(await stores.accounts.list(), ['a@x.test']);
        assert.equal(await stores.accounts.remove('a@x.test'), true);
        assert.equal(await stores.accounts.find('a@x.test'), undefined);
      } finally {
        await done();
      }
    });

    it('used assertions: each id once, kept until expiry', async () => {
      const { stores, done } = await open();
      try {
        const results = await Promise.all(
          Array.from({ length: 10 }, () => stores.usedAssertions.markUsed('jti-1', 100)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await stores.usedAssertions.removeExpired(99), 0);
        assert.equal(await stores.usedAssertions.removeExpired(100), 1);
        assert.equal(await stores.usedAssertions.markUsed('jti-1', 200), true);
      } finally {
        await done();
      }
    });

    it('associations: secret round-trips, invalidate, expire', async () => {
      const { stores, done } = await open();
      try {
        const secret = crypto.getRandomValues(new Uint8Array(32));
        await stores.associations.insert({
          handle: 'h1',
          secret,
          site: 'https://site.test',
          createdAt: 0,
          expiresAt: 10,
          invalidated: false,
        });
        const found = await stores.associations.find('h1');
        assert.deepEqual(found?.secret, secret);
        assert.equal(await stores.associations.invalidate('h1'), true);
        assert.equal((await stores.associations.find('h1'))?.invalidated, true);
        assert.equal(await stores.associations.removeExpired(10), 1);
      } finally {
        await done();
      }
    });

    it('consents: once per account and site origin, listed newest first, revocable', async () => {
      const { stores, done } = await open();
      try {
        const c = stores.consents;
        assert.equal(await c.has('a@x.test', 'https://a.test'), false);
        await c.grant({ email: 'a@x.test', siteOrigin: 'https://a.test', grantedAt: 1 });
        await c.grant({ email: 'a@x.test', siteOrigin: 'https://b.test', grantedAt: 2 });
        await c.grant({ email: 'a@x.test', siteOrigin: 'https://a.test', grantedAt: 3 });
        await c.grant({ email: 'b@x.test', siteOrigin: 'https://a.test', grantedAt: 4 });
        assert.equal(await c.has('a@x.test', 'https://a.test'), true);
        assert.equal(await c.has('a@x.test', 'https://c.test'), false);
        assert.deepEqual(await c.list('a@x.test'), [
          { email: 'a@x.test', siteOrigin: 'https://a.test', grantedAt: 3 },
          { email: 'a@x.test', siteOrigin: 'https://b.test', grantedAt: 2 },
        ]);
        assert.equal(await c.revoke('a@x.test', 'https://a.test'), true);
        assert.equal(await c.revoke('a@x.test', 'https://a.test'), false);
        assert.equal(await c.has('a@x.test', 'https://a.test'), false);
        assert.equal(await c.has('b@x.test', 'https://a.test'), true);
        assert.equal(await c.removeForAccount('a@x.test'), 1);
        assert.deepEqual(await c.list('a@x.test'), []);
      } finally {
        await done();
      }
    });

    it('passkeys: one per credential id, counters move in one step, removed per account', async () => {
      const { stores, done } = await open();
      try {
        const p = stores.passkeys;
        const publicKey = crypto.getRandomValues(new Uint8Array(77));
        const first = {
          id: 'cred-1',
          email: 'a@x.test',
          publicKey,
          counter: 0,
          transports: ['internal', 'hybrid'],
          createdAt: 1,
        };
        assert.equal(await p.insert(first), true);
        assert.equal(await p.insert({ ...first, email: 'b@x.test' }), false);
        await p.insert({ ...first, id: 'cred-2', transports: [], createdAt: 2 });
        await p.insert({ ...first, id: 'cred-3', email: 'b@x.test', createdAt: 3 });
        assert.deepEqual(await p.find('cred-1'), first);
        assert.equal(await p.find('cred-9'), undefined);
        assert.deepEqual(
          (await p.listForAccount('a@x.test')).map((k) => [k.id, k.transports]),
          [
            ['cred-1', ['internal', 'hybrid']],
            ['cred-2', []],
          ],
        );
        const moves = await Promise.all([
          p.updateCounter('cred-1', 0, 5),
          p.updateCounter('cred-1', 0, 5),
        ]);
        assert.deepEqual(moves.sort(), [false, true]);
        assert.equal((await p.find('cred-1'))?.counter, 5);
        assert.equal(await p.remove('b@x.test', 'cred-1'), false, 'only the owner removes it');
        assert.equal(await p.remove('a@x.test', 'cred-1'), true);
        assert.equal(await p.removeForAccount('a@x.test'), 1);
        assert.deepEqual(await p.listForAccount('a@x.test'), []);
        assert.equal((await p.listForAccount('b@x.test')).length, 1);
      } finally {
        await done();
      }
    });

    it('WebAuthn ceremonies: taken once, never after expiry', async () => {
      const { stores, done } = await open();
      try {
        const c = stores.ceremonies;
        await c.put('k1', 'v1', 100);
        const takes = await Promise.all([c.take('k1', 50), c.take('k1', 50)]);
        assert.deepEqual(takes.sort(), ['v1', undefined]);
        await c.put('k2', 'v2', 100);
        assert.equal(await c.take('k2', 100), undefined, 'expired at its expiry');
        assert.equal(await c.take('k2', 0), undefined, 'and gone');
        await c.put('k3', 'old', 100);
        await c.put('k3', 'new', 300);
        await c.put('k4', 'v4', 200);
        assert.equal(await c.removeExpired(200), 1);
        assert.equal(await c.take('k3', 250), 'new');
      } finally {
        await done();
      }
    });

    it('sessions and the issued-assertion log', async () => {
      const { stores, done } = await open();
      try {
        await stores.sessions.insert({
          idHash: 's',
          email: 'a@x.test',
          createdAt: 0,
          lastSeenAt: 0,
        });
        await stores.sessions.touch('s', 50);
        assert.equal((await stores.sessions.find('s'))?.lastSeenAt, 50);
        assert.equal(await stores.sessions.removeExpired(40, 0), 0);
        assert.equal(await stores.sessions.removeExpired(60, 0), 1);
        for (const [site, at] of [
          ['https://a.test', 1],
          ['https://b.test', 5],
          ['https://a.test', 9],
        ] as const) {
          await stores.issuedLog.record({ email: 'a@x.test', siteOrigin: site, issuedAt: at });
        }
        assert.deepEqual(await stores.issuedLog.recentSites('a@x.test', 0, 10), [
          { siteOrigin: 'https://a.test', lastIssuedAt: 9, count: 2 },
          { siteOrigin: 'https://b.test', lastIssuedAt: 5, count: 1 },
        ]);
        assert.equal(await stores.issuedLog.removeOlderThan(5), 1);
      } finally {
        await done();
      }
    });

    it('issued-assertion log: many entries in one write, counted with the others', async () => {
      const { stores, done } = await open();
      try {
        await stores.issuedLog.recordMany([]);
        const many = Array.from({ length: 150 }, (_, i) => ({
          email: i % 3 === 0 ? 'b@x.test' : 'a@x.test',
          siteOrigin: i % 2 === 0 ? 'https://a.test' : "https://o'brien.test",
          issuedAt: 1_000 + i,
        }));
        await stores.issuedLog.recordMany(many);
        assert.deepEqual(await stores.issuedLog.recentSites('a@x.test', 0, 10), [
          { siteOrigin: "https://o'brien.test", lastIssuedAt: 1_149, count: 50 },
          { siteOrigin: 'https://a.test', lastIssuedAt: 1_148, count: 50 },
        ]);
        assert.equal(await stores.issuedLog.removeForAccount('b@x.test'), 50);
        assert.equal(await stores.issuedLog.removeOlderThan(2_000), 100);
      } finally {
        await done();
      }
    });

    it("sessions: an account's list, most recently seen first, and ending them", async () => {
      const { stores, done } = await open();
      try {
        const session = (idHash: string, email: string, lastSeenAt: number) =>
          stores.sessions.insert({ idHash, email, createdAt: 1, lastSeenAt });
        await session('s1', 'a@x.test', 10);
        await session('s2', 'a@x.test', 30);
        await session('s3', 'b@x.test', 20);
        const listed = await stores.sessions.listForAccount('a@x.test');
        assert.deepEqual(
          listed.map((r) => [r.idHash, r.email, r.createdAt, r.lastSeenAt]),
          [
            ['s2', 'a@x.test', 1, 30],
            ['s1', 'a@x.test', 1, 10],
          ],
        );
        assert.deepEqual(await stores.sessions.listForAccount('c@x.test'), []);
        assert.equal(await stores.sessions.removeForAccount('a@x.test'), 2);
        assert.deepEqual(await stores.sessions.listForAccount('a@x.test'), []);
        assert.equal((await stores.sessions.listForAccount('b@x.test')).length, 1);
      } finally {
        await done();
      }
    });

    it('check: every back-end store answers', async () => {
      const { stores, done } = await open();
      try {
        const checks = await stores.check();
        assert.ok(checks.length > 0);
        assert.ok(checks.every((c) => c.ok));
      } finally {
        await done();
      }
    });
  });
}

/** The rate limiter contract: memory and Redis. */
export function failureThrottleContract(
  name: string,
  open: (options: { maxFailures: number; windowMs: number }) => Promise<{
    limiter: FailureThrottle;
    done(): Promise<void>;
  }>,
) {
  describe(`${name} rate limiter`, () => {
    it('allows a number of failures per window, then blocks until they age out', async () => {
      const { limiter, done } = await open({ maxFailures: 2, windowMs: 1000 });
      try {
        assert.equal(await limiter.allowed('k', 0), true);
        await limiter.fail('k', 0);
        await limiter.fail('k', 500);
        assert.equal(await limiter.allowed('k', 600), false);
        assert.equal(await limiter.allowed('other', 600), true);
        assert.equal(await limiter.allowed('k', 1001), true);
        await limiter.fail('k', 1001);
        await limiter.reset('k');
        assert.equal(await limiter.allowed('k', 1002), true);
      } finally {
        await done();
      }
    });

    it('takes atomically: of a parallel burst, exactly the limit is counted; refund gives one back', async () => {
      const { limiter, done } = await open({ maxFailures: 3, windowMs: 1000 });
      try {
        const taken = await Promise.all(Array.from({ length: 20 }, () => limiter.take('t', 0)));
        assert.equal(taken.filter(Boolean).length, 3);
        assert.equal(await limiter.allowed('t', 1), false);
        await limiter.refund('t');
        assert.equal(await limiter.take('t', 2), true);
        assert.equal(await limiter.take('t', 3), false, 'a refused take is not counted');
        assert.equal(await limiter.take('t', 1001), true, 'the oldest left the window');
      } finally {
        await done();
      }
    });
  });
}
