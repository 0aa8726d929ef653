// Failure counting for sign-in throttling (threats.md #16). In memory, per process; the
// async interface lets a shared store (storage/redis-stores.ts) take over for several
// instances.

export interface RateLimiter {
  /** Whether another attempt is allowed for `key` now. */
  allowed(key: string, now: number): Promise<boolean>;
  /** Counts one failed attempt. */
  fail(key: string, now: number): Promise<void>;
  /** Forgets the failures of `key` (after a success). */
  reset(key: string): Promise<void>;
}

export interface MemoryRateLimiterOptions {
  /** Failures tolerated within the window. */
  maxFailures: number;
  windowMs: number;
  /** Keys remembered at most; the oldest are dropped first so memory stays bounded. */
  maxKeys?: number;
}

export function createMemoryRateLimiter(options: MemoryRateLimiterOptions): RateLimiter {
  const maxKeys = options.maxKeys ?? 100_000;
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number): number[] => {
    const list = (failures.get(key) ?? []).filter((t) => t > now - options.windowMs);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  return {
    async allowed(key, now) {
      return recent(key, now).length < options.maxFailures;
    },
    async fail(key, now) {
      const list = recent(key, now);
      list.push(now);
      failures.delete(key);
      failures.set(key, list);
      while (failures.size > maxKeys) {
        const oldest = failures.keys().next().value;
        if (oldest === undefined) break;
        failures.delete(oldest);
      }
    },
    async reset(key) {
      failures.delete(key);
    },
  };
}
