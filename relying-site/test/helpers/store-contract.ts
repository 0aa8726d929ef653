// One contract for every SiteStores implementation: memory (stores.test.ts) and Redis
// (redis-stores.test.ts). `cleanup` runs once after the suite (close, delete keys).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { AssociationRecord, SiteStores } from '../../src/core/index.ts';

export function storeContract(
  name: string,
  factory: (now: () => number) => SiteStores,
  cleanup?: () => Promise<void>,
): void {
  describe(`${name} stores`, () => {
    if (cleanup) after(cleanup);
    const setup = () => {
      const clock = { now: 1_000_000 };
      return { clock, stores: factory(() => clock.now) };
    };

    test('nonce: consumed once, atomically under concurrency', async () => {
      const { clock, stores } = setup();
      await stores.nonces.put('n1', {
        browserId: 'b',
        expiresAt: clock.now + 1000,
      });
      const results = await Promise.all(
        Array.from({ length: 10 }, () => stores.nonces.consume('n1')),
      );
      assert.equal(results.filter((r) => r !== null).length, 1);
      assert.deepEqual(
        results.find((r) => r !== null),
        {
          browserId: 'b',
          expiresAt: clock.now + 1000,
        },
      );
      assert.equal(await stores.nonces.consume('n1'), null);
      assert.equal(await stores.nonces.consume('unknown'), null);
    });

    test('nonce: expired records are never returned', async () => {
      const { clock, stores } = setup();
      await stores.nonces.put('n2', { browserId: 'b', expiresAt: clock.now + 1000 });
      clock.now += 1000;
      assert.equal(await stores.nonces.consume('n2'), null);
    });

    test('sessions: create, get, destroy, expiry', async () => {
      const { clock, stores } = setup();
      const record = { email: 'a@b.test', createdAt: clock.now, expiresAt: clock.now + 5000 };
      await stores.sessions.create('s1', record);
      assert.deepEqual(await stores.sessions.get('s1'), record);
      await stores.sessions.destroy('s1');
      assert.equal(await stores.sessions.get('s1'), null);
      await stores.sessions.create('s2', record);
      clock.now += 5000;
      assert.equal(await stores.sessions.get('s2'), null);
      await stores.sessions.destroy('never-existed');
    });

    test('associations: per issuer, delete, expiry, secret bytes kept', async () => {
      const { clock, stores } = setup();
      const record: AssociationRecord = {
        issuer: 'https://i',
        handle: 'h'.repeat(22),
        secret: new Uint8Array(32).fill(7),
        createdAt: clock.now,
        expiresAt: clock.now + 10_000,
      };
      await stores.associations.set('https://i', record);
      const got = await stores.associations.get('https://i');
      assert.equal(got?.handle, record.handle);
      assert.deepEqual(got?.secret, record.secret);
      assert.equal(await stores.associations.get('https://other'), null);
      await stores.associations.delete('https://i');
      assert.equal(await stores.associations.get('https://i'), null);
      await stores.associations.set('https://i', record);
      clock.now += 10_000;
      assert.equal(await stores.associations.get('https://i'), null);
    });

    test('association lock (shared caches): one holder until released or expired', async () => {
      const { stores } = setup();
      const lock = stores.associations.lock?.bind(stores.associations);
      if (!lock) return; // a per-process cache needs none: single-flight covers it
      const results = await Promise.all(Array.from({ length: 5 }, () => lock('https://i', 5000)));
      const holders = results.filter((r) => r !== null);
      assert.equal(holders.length, 1);
      assert.equal(await lock('https://i', 5000), null);
      assert.ok(await lock('https://other', 5000), 'per issuer');
      await holders[0]?.();
      const again = await lock('https://i', 5000);
      assert.ok(again);
      await again();
    });

    test('discovery: per domain with TTL', async () => {
      const { clock, stores } = setup();
      const config = {
        bsso_version: 1 as const,
        issuer: 'https://mail.test',
        assertion_endpoint: 'https://mail.test/a',
        association_endpoint: 'https://mail.test/b',
        verification_endpoint: 'https://mail.test/c',
        signin_endpoint: 'https://mail.test/d',
      };
      await stores.discovery.set('mail.test', { config, expiresAt: clock.now + 100 });
      assert.deepEqual((await stores.discovery.get('mail.test'))?.config, config);
      assert.equal(await stores.discovery.get('other.test'), null);
      clock.now += 100;
      assert.equal(await stores.discovery.get('mail.test'), null);
    });
  });
}
