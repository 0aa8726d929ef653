import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BssoError, type ProviderConfig } from '@bsso/protocol';
import { createDiscoveryCache } from '../src/background/discovery-cache.ts';
import { memoryArea } from './memory-area.ts';

const HOUR = 60 * 60 * 1000;
const EMAIL = 'alice@mail.test';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function config(n: number): ProviderConfig {
  return {
    issuer: 'https://mail.test',
    assertion_endpoint: `https://mail.test/bsso/assertion/${n}`,
  } as ProviderConfig;
}

/** A discovery whose answers the test gives one by one; no timers anywhere. */
function world() {
  const area = memoryArea();
  let clock = 0;
  const pending: Deferred<{ config: ProviderConfig }>[] = [];
  const refreshErrors: unknown[] = [];
  const lookup = createDiscoveryCache({
    area,
    now: () => clock,
    discover: () => {
      const next = deferred<{ config: ProviderConfig }>();
      pending.push(next);
      return next.promise;
    },
    onRefreshError: (_email, err) => refreshErrors.push(err),
  });
  return {
    area,
    lookup,
    pending,
    refreshErrors,
    at(ms: number) {
      clock = ms;
    },
    /** Answers the oldest open discovery and lets its write land. */
    async answer(n: number) {
      const next = pending.shift();
      assert.ok(next, 'a discovery is running');
      next.resolve({ config: config(n) });
      await flush();
    },
    async fail() {
      const next = pending.shift();
      assert.ok(next, 'a discovery is running');
      next.reject(new BssoError('provider_timeout', 'down'));
      await flush();
    },
    stored: () => area.data.get(`discovery:${EMAIL}`) as { assertionEndpoint: string },
  };
}

/** Lets settled promises run their continuations (no timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

async function warm(w: ReturnType<typeof world>): Promise<void> {
  w.at(0);
  const first = w.lookup(EMAIL);
  await flush();
  await w.answer(1);
  assert.equal((await first).assertionEndpoint, 'https://mail.test/bsso/assertion/1');
}

describe('createDiscoveryCache', () => {
  test('nothing is discovered until a lookup', () => {
    const w = world();
    assert.equal(w.pending.length, 0);
  });

  test('a fresh entry answers with no discovery', async () => {
    const w = world();
    await warm(w);
    w.at(0.74 * HOUR);
    assert.equal((await w.lookup(EMAIL)).assertionEndpoint, 'https://mail.test/bsso/assertion/1');
    assert.equal(w.pending.length, 0);
  });

  test('in the last quarter of its life: answered from cache, refreshed in the background once', async () => {
    const w = world();
    await warm(w);
    w.at(0.8 * HOUR);
    const answers = await Promise.all([w.lookup(EMAIL), w.lookup(EMAIL), w.lookup(EMAIL)]);
    for (const a of answers)
      assert.equal(a.assertionEndpoint, 'https://mail.test/bsso/assertion/1');
    assert.equal(w.pending.length, 1, 'one refresh per address at a time');
    await w.answer(2);
    assert.equal(w.stored().assertionEndpoint, 'https://mail.test/bsso/assertion/2');
    // The refreshed entry lives a full hour from the refresh.
    w.at(1.5 * HOUR);
    assert.equal((await w.lookup(EMAIL)).assertionEndpoint, 'https://mail.test/bsso/assertion/2');
    assert.equal(w.pending.length, 0);
  });

  test('a failed refresh leaves the good entry; the next lookup tries again', async () => {
    const w = world();
    await warm(w);
    w.at(0.9 * HOUR);
    await w.lookup(EMAIL);
    await w.fail();
    assert.equal(w.refreshErrors.length, 1);
    assert.equal(w.stored().assertionEndpoint, 'https://mail.test/bsso/assertion/1');
    assert.equal((await w.lookup(EMAIL)).assertionEndpoint, 'https://mail.test/bsso/assertion/1');
    assert.equal(w.pending.length, 1, 'tried again');
    await w.answer(3);
    assert.equal(w.stored().assertionEndpoint, 'https://mail.test/bsso/assertion/3');
  });

  test('an expired entry is never used: the lookup waits, and a failure is an error', async () => {
    const w = world();
    await warm(w);
    w.at(HOUR);
    const waiting = w.lookup(EMAIL);
    await flush();
    await w.fail();
    await assert.rejects(waiting, BssoError);
    assert.equal(w.stored().assertionEndpoint, 'https://mail.test/bsso/assertion/1');
    const next = w.lookup(EMAIL);
    await flush();
    await w.answer(4);
    assert.equal((await next).assertionEndpoint, 'https://mail.test/bsso/assertion/4');
  });

  test('a lookup after expiry joins a refresh already under way', async () => {
    const w = world();
    await warm(w);
    w.at(0.99 * HOUR);
    await w.lookup(EMAIL);
    assert.equal(w.pending.length, 1);
    w.at(HOUR + 1);
    const waiting = w.lookup(EMAIL);
    await flush();
    assert.equal(w.pending.length, 1, 'no second discovery');
    await w.answer(5);
    assert.equal((await waiting).assertionEndpoint, 'https://mail.test/bsso/assertion/5');
  });

  test('concurrent misses share one discovery', async () => {
    const w = world();
    const both = Promise.all([w.lookup(EMAIL), w.lookup(EMAIL)]);
    await flush();
    assert.equal(w.pending.length, 1);
    await w.answer(6);
    for (const a of await both)
      assert.equal(a.assertionEndpoint, 'https://mail.test/bsso/assertion/6');
  });
});
