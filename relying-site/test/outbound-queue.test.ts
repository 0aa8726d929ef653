// Threat 49: outbound work stays bounded under a flood. Slots and queues are capped per kind,
// a wait has a deadline, and discoveries of unknown (hanging) domains never hold up calls to
// providers the site already knows. Timers are mocked: no real waiting.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { BssoError } from '@bsso/protocol';
import { createDiscovery } from '../src/core/discovery.ts';
import { createMemoryStores } from '../src/core/memory-stores.ts';
import { createOutbound, createSemaphore } from '../src/core/outbound.ts';
import { startFixture } from './helpers/fixture.ts';

/** A task that runs until released. */
function hanging() {
  let release: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { task: () => done, release };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof BssoError ? err.code : String(err)),
  );

describe('outbound slots and queues', () => {
  it('refuses beyond the queue at once, and a wait beyond the deadline without running', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const limit = createSemaphore({ max: 2, maxQueue: 3, maxWaitMs: 1000 });
      const blockers = [hanging(), hanging()];
      const running = blockers.map((b) => limit(b.task));
      let ran = 0;
      const queued = [1, 2, 3].map(() =>
        codeOf(
          limit(async () => {
            ran++;
          }),
        ),
      );
      assert.equal(await codeOf(limit(async () => {})), 'provider_unavailable', 'queue full');
      mock.timers.tick(1000);
      assert.deepEqual(await Promise.all(queued), Array(3).fill('provider_timeout'));
      assert.equal(ran, 0, 'a task that waited too long never runs');
      for (const b of blockers) b.release();
      await Promise.all(running);
      assert.equal(await codeOf(limit(async () => {})), 'ok', 'slots free again');
    } finally {
      mock.timers.reset();
    }
  });

  it('hands a freed slot to the oldest waiter, in order', async () => {
    const limit = createSemaphore({ max: 1, maxQueue: 10 });
    const first = hanging();
    const order: number[] = [];
    const running = limit(first.task);
    const waiters = [1, 2, 3].map((n) =>
      limit(async () => {
        order.push(n);
      }),
    );
    first.release();
    await Promise.all([running, ...waiters]);
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('a flood of hanging discoveries leaves calls to known providers running', async () => {
    const outbound = createOutbound({ maxDiscoveryConcurrency: 2, maxQueue: 4, timeoutMs: 60_000 });
    try {
      const flood = Array.from({ length: 6 }, () => hanging());
      const floodResults = flood.map((h) => codeOf(outbound.limit(h.task, 'discovery')));
      // Two run, four wait: the next discovery is refused at once, nothing more is kept.
      assert.equal(
        await codeOf(outbound.limit(async () => {}, 'discovery')),
        'provider_unavailable',
      );
      // Another user's verification with a known provider does not wait for the flood.
      let settled = false;
      for (const p of floodResults) void p.then(() => (settled = true));
      assert.equal(await codeOf(outbound.limit(async () => {}, 'provider')), 'ok');
      assert.equal(settled, false, 'answered while the flood still hangs');
      for (const h of flood) h.release();
      assert.deepEqual(await Promise.all(floodResults), Array(6).fill('ok'));
    } finally {
      await outbound.close();
    }
  });

  it('a flood that keeps discovery busy is not remembered as the domain failing', async () => {
    const fx = await startFixture();
    const outbound = createOutbound({
      maxDiscoveryConcurrency: 1,
      maxQueue: 0,
      network: fx.network,
    });
    try {
      const now = () => fx.clock.now;
      const discovery = createDiscovery(createMemoryStores(now).discovery, outbound, {}, now);
      const flood = hanging();
      const held = outbound.limit(flood.task, 'discovery');
      const before = fx.standIn.count('/.well-known/webfinger');
      assert.equal(await codeOf(discovery.forDomain('mail.test')), 'provider_unavailable');
      flood.release();
      await held;
      // The flood is over: the honest domain is looked up again, not refused from a cache.
      const config = await discovery.forDomain('mail.test');
      assert.equal(config.issuer, 'https://mail.test');
      assert.equal(fx.standIn.count('/.well-known/webfinger') - before, 1);
    } finally {
      await outbound.close();
      await fx.close();
    }
  });
});
