import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCachedArea } from '../src/background/local-cache.ts';
import {
  addEmail,
  isConnectedSite,
  readPreferences,
  recordConnectedSite,
  type StorageAreaLike,
} from '../src/shared/storage.ts';
import { memoryArea } from './memory-area.ts';

/** A memory area that counts its calls; `hold` makes the next get wait until released. */
function countingArea() {
  const inner = memoryArea();
  const calls = { get: 0, set: 0, remove: 0 };
  let held: { release: () => void } | undefined;
  const area: StorageAreaLike = {
    async get(keys) {
      calls.get++;
      const answer = await inner.get(keys);
      if (held) {
        await new Promise<void>((resolve) => {
          if (held) held.release = resolve;
        });
      }
      return answer;
    },
    async set(items) {
      calls.set++;
      await inner.set(items);
    },
    async remove(keys) {
      calls.remove++;
      await inner.remove(keys);
    },
  };
  return {
    area,
    inner,
    calls,
    hold() {
      const h: { release: () => void } = { release: () => undefined };
      held = h;
      return () => {
        held = undefined;
        h.release();
      };
    },
  };
}

describe('createCachedArea', () => {
  test('reads storage once per key while the worker lives, absent keys included', async () => {
    const { area, inner, calls } = countingArea();
    await inner.set({ a: 1 });
    const cache = createCachedArea(area);
    assert.deepEqual(await cache.get(['a', 'b']), { a: 1 });
    assert.deepEqual(await cache.get(['a', 'b']), { a: 1 });
    assert.deepEqual(await cache.get('a'), { a: 1 });
    assert.equal(calls.get, 1);
    await cache.get(['a', 'c']);
    assert.equal(calls.get, 2, 'only the key not yet read goes to storage');
  });

  test('a new worker starts with an empty cache and reads storage', async () => {
    const { area, inner, calls } = countingArea();
    await addEmail(inner, 'alice@mail.test');
    const first = createCachedArea(area);
    assert.deepEqual((await readPreferences(first)).emails, ['alice@mail.test']);
    assert.equal(calls.get, 1);
    // The worker stops; the options page adds an address meanwhile (no event reaches anyone).
    await addEmail(inner, 'bob@mail.test');
    const restarted = createCachedArea(area);
    assert.deepEqual((await readPreferences(restarted)).emails, [
      'alice@mail.test',
      'bob@mail.test',
    ]);
    assert.equal(calls.get, 2);
  });

  test('storage.onChanged from another page replaces or drops the cached value', async () => {
    const { area, inner, calls } = countingArea();
    const cache = createCachedArea(area);
    await addEmail(inner, 'alice@mail.test');
    assert.equal((await readPreferences(cache)).defaultEmail, 'alice@mail.test');
    // The options page writes the area; the worker hears of it through onChanged.
    await inner.set({ defaultEmail: null });
    cache.changed({ defaultEmail: { newValue: null } });
    assert.equal((await readPreferences(cache)).defaultEmail, null);
    await inner.remove('emails');
    cache.changed({ emails: {} });
    assert.deepEqual((await readPreferences(cache)).emails, []);
    assert.equal(calls.get, 1, 'the changes came with the event, no read');
  });

  test('an answer from storage that crosses a change never overwrites it', async () => {
    const { area, inner, hold } = countingArea();
    await inner.set({ k: 'old' });
    const cache = createCachedArea(area);
    const release = hold();
    const reading = cache.get('k');
    await inner.set({ k: 'new' });
    cache.changed({ k: { newValue: 'new' } });
    release();
    await reading;
    assert.deepEqual(await cache.get('k'), { k: 'new' });
  });

  test('writes go to storage and are read back from memory; a failed write is not cached', async () => {
    const { area, inner, calls } = countingArea();
    const cache = createCachedArea(area);
    await cache.set({ k: { n: 1 } });
    assert.deepEqual(inner.data.get('k'), { n: 1 });
    assert.deepEqual(await cache.get('k'), { k: { n: 1 } });
    assert.equal(calls.get, 0);
    await cache.remove('k');
    assert.equal(inner.data.has('k'), false);
    assert.deepEqual(await cache.get('k'), {});
    assert.equal(calls.get, 0);

    const failing = createCachedArea({
      ...area,
      set: async () => {
        throw new Error('quota');
      },
    });
    await inner.set({ k: 'stored' });
    await assert.rejects(failing.set({ k: 'lost' }));
    assert.deepEqual(await failing.get('k'), { k: 'stored' });
  });

  test('a caller changing what it got does not change the cache', async () => {
    const { area, inner } = countingArea();
    await inner.set({ list: [1, 2] });
    const cache = createCachedArea(area);
    ((await cache.get('list')).list as number[]).push(3);
    ((await cache.get('list')).list as number[]).push(4);
    assert.deepEqual(await cache.get('list'), { list: [1, 2] });
  });

  test('a connected site is read from memory and recorded once', async () => {
    const { area, calls } = countingArea();
    const cache = createCachedArea(area);
    const entry = { email: 'alice@mail.test', site: 'https://site.test', time: 1000 };
    await recordConnectedSite(cache, entry);
    await recordConnectedSite(cache, { ...entry, time: 2000 });
    assert.equal(await isConnectedSite(cache, entry.site, entry.email), true);
    assert.deepEqual(calls, { get: 1, set: 1, remove: 0 });
  });
});
