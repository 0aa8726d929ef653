// A read-through memory cache of a storage area for the service worker, so a warm sign-in
// reads preferences, connected sites and discovery entries without a storage round trip.
// It is only a cache: it lives as long as the worker (a new worker starts empty and reads
// storage), and storage.onChanged keeps it right when the options page, the chooser or
// anything else writes the area.
import type { StorageAreaLike } from '../shared/storage.ts';

/** What storage.onChanged reports for one key: no `newValue` means the key was removed. */
export interface StorageChange {
  newValue?: unknown;
}

export interface CachedArea extends StorageAreaLike {
  /** Feed storage.onChanged of the cached area here (index.ts wires it). */
  changed(changes: Record<string, StorageChange>): void;
}

const ABSENT = Symbol('absent');
type Entry = unknown | typeof ABSENT;

const keyList = (keys: string | string[]): string[] => (typeof keys === 'string' ? [keys] : keys);

export function createCachedArea(area: StorageAreaLike): CachedArea {
  const values = new Map<string, Entry>();
  // Every change a key sees bumps its mark, so an answer from storage that was asked before
  // the change never overwrites what the change told (onChanged and answers may cross).
  let clock = 0;
  const marks = new Map<string, number>();
  const mark = (key: string): number => {
    clock += 1;
    marks.set(key, clock);
    return clock;
  };
  const unchangedSince = (key: string, since: number) => (marks.get(key) ?? 0) <= since;

  return {
    async get(keys) {
      const wanted = keyList(keys);
      const missing = wanted.filter((k) => !values.has(k));
      const out: Record<string, unknown> = {};
      if (missing.length > 0) {
        const asked = clock;
        const got = await area.get(missing);
        for (const k of missing) {
          if (unchangedSince(k, asked)) {
            values.set(k, Object.hasOwn(got, k) ? structuredClone(got[k]) : ABSENT);
          }
          if (Object.hasOwn(got, k)) out[k] = got[k];
        }
      }
      for (const k of wanted) {
        if (missing.includes(k)) continue;
        const value = values.get(k);
        // A copy, as storage gives: a caller may change what it got.
        if (value !== ABSENT) out[k] = structuredClone(value);
      }
      return out;
    },
    async set(items) {
      const keys = Object.keys(items);
      // Until the write is done a read goes to storage, as it would without the cache.
      const at = new Map(keys.map((k) => [k, mark(k)]));
      for (const k of keys) values.delete(k);
      await area.set(items);
      for (const k of keys) {
        if (marks.get(k) === at.get(k)) values.set(k, structuredClone(items[k]));
      }
    },
    async remove(keys) {
      const list = keyList(keys);
      const at = new Map(list.map((k) => [k, mark(k)]));
      for (const k of list) values.delete(k);
      await area.remove(keys);
      for (const k of list) if (marks.get(k) === at.get(k)) values.set(k, ABSENT);
    },
    changed(changes) {
      for (const [k, change] of Object.entries(changes)) {
        mark(k);
        values.set(
          k,
          Object.hasOwn(change, 'newValue') ? structuredClone(change.newValue) : ABSENT,
        );
      }
    },
  };
}
