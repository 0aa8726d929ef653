// The site's Redis stores: the store contract, several instances sharing one Redis (one
// association per provider, a nonce consumed once whichever instance sees it), and what
// happens when Redis stops answering (an error answer, never a session).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import {
  dropRedisPrefix,
  REDIS_URL,
  type TcpProxy,
  tcpProxy,
  uniquePrefix,
} from '@bsso/protocol/testing';
import {
  createRedisRequestRateLimiter,
  createRedisStores,
  createSiteCore,
  type RedisSiteStores,
} from '../src/core/index.ts';
import {
  ALICE,
  ENDPOINT,
  type Fixture,
  hasSessionCookie,
  startFixture,
} from './helpers/fixture.ts';
import { storeContract } from './helpers/store-contract.ts';

const contractPrefix = uniquePrefix();
const opened: RedisSiteStores[] = [];
storeContract(
  'Redis',
  (now) => {
    const stores = createRedisStores(REDIS_URL, {
      prefix: `${contractPrefix}${opened.length}:`,
      now,
    });
    opened.push(stores);
    return stores;
  },
  async () => {
    await Promise.all(opened.map((s) => s.close()));
    await dropRedisPrefix(contractPrefix);
  },
);

describe('two site instances sharing Redis', () => {
  const prefix = uniquePrefix();
  let fx: Fixture;
  let other: ReturnType<typeof createSiteCore>;
  before(async () => {
    const stores = { redisUrl: REDIS_URL, redisPrefix: prefix };
    fx = await startFixture({ stores });
    other = createSiteCore({
      endpoint: ENDPOINT,
      now: () => fx.clock.now,
      stores,
      outbound: { network: fx.network },
    });
  });
  after(async () => {
    await fx.close();
    await fx.core.close();
    await other.close();
    await dropRedisPrefix(prefix);
  });

  test('concurrent challenges on both make one association; a nonce is used once', async () => {
    const browsers = Array.from({ length: 10 }, () => fx.browser());
    const answers = await Promise.all([
      ...browsers.map((b) => b.challenge()),
      ...browsers.map(() => other.challenge({ browserId: 'b-other', domain: 'mail.test' })),
    ]);
    assert.equal(fx.standIn.count('/bsso/associate'), 1);
    assert.equal(new Set(answers.map((a) => a.handle)).size, 1);

    // Challenge at this instance, deliver at the other one: accepted once.
    const browser = fx.browser();
    const { nonce, handle } = await browser.challenge();
    const browserId = browser.cookies.get('__Host-bsso_browser');
    assert.ok(browserId && handle);
    const assertion = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce,
      handle,
    });
    const verified = await other.verify({ browserId, assertion });
    assert.equal(verified.email, ALICE);
    // The replay at the first instance finds the nonce gone.
    const replay = await browser.deliver({ assertion });
    assert.equal(replay.body.error, 'invalid_nonce');
    assert.equal(hasSessionCookie(replay), false);
    // Sessions are shared too.
    const session = await other.sessions.create(ALICE);
    assert.equal((await fx.core.sessions.get(session.id))?.email, ALICE);
  });
});

describe('Redis stops answering', () => {
  const prefix = uniquePrefix();
  let redis: TcpProxy;
  let fx: Fixture;
  before(async () => {
    redis = await tcpProxy(Number(new URL(REDIS_URL).port || 6379));
    fx = await startFixture({
      stores: createRedisStores(`redis://127.0.0.1:${redis.port}`, {
        prefix,
        now: () => fx.clock.now,
        commandTimeoutMs: 300,
        onError: () => undefined,
      }),
    });
  });
  after(async () => {
    await fx.close();
    await (fx.core.stores as RedisSiteStores).close();
    await redis.close();
    await dropRedisPrefix(prefix);
  });

  test('verification fails closed, with no session and no provider call; then recovers', async () => {
    const browser = fx.browser();
    const { nonce, handle } = await browser.challenge();
    assert.ok(handle);
    const assertion = await fx.standIn.assertionFor({
      email: ALICE,
      audience: ENDPOINT,
      nonce,
      handle,
    });
    redis.cut();
    const calls = fx.standIn.requests.length;
    const failed = await browser.deliver({ assertion });
    assert.equal(failed.status, 500);
    assert.equal(failed.body.error, 'server_error');
    assert.equal(hasSessionCookie(failed), false);
    assert.equal(fx.standIn.requests.length, calls);
    await assert.rejects(browser.challenge(), /challenge answered 500/);

    redis.restore();
    // The client reconnects on its own; the nonce was never consumed, so it works once.
    const { client } = fx.core.stores as RedisSiteStores;
    if (!client.isReady) await once(client, 'ready');
    const done = await browser.deliver({ assertion });
    assert.equal(done.status, 303);
    assert.ok(hasSessionCookie(done));
    assert.equal((await browser.deliver({ assertion })).body.error, 'invalid_nonce');
  });
});

describe('Redis rate limiter', () => {
  test('counts per client across instances, per window', async () => {
    const prefix = uniquePrefix();
    const a = createRedisStores(REDIS_URL, { prefix });
    const b = createRedisStores(REDIS_URL, { prefix });
    try {
      const limitA = createRedisRequestRateLimiter(a.client, { prefix, max: 2, windowSeconds: 60 });
      const limitB = createRedisRequestRateLimiter(b.client, { prefix, max: 2, windowSeconds: 60 });
      const t = 60_000 * 1000;
      assert.equal(await limitA.take('1.2.3.4', t), true);
      assert.equal(await limitB.take('1.2.3.4', t + 1), true);
      assert.equal(await limitA.take('1.2.3.4', t + 2), false);
      assert.equal(await limitB.take('5.6.7.8', t + 2), true);
      assert.equal(await limitB.take('1.2.3.4', t + 60_000), true, 'next window');
    } finally {
      await a.close();
      await b.close();
      await dropRedisPrefix(prefix);
    }
  });
});
