// Per-client limits on the site endpoint (protocol-spec.md#site-verification: sites SHOULD
// rate-limit challenges and deliveries per client; threat 40). The memory limiter is for
// one process; the interface lets a shared store count for several instances.

export interface RequestRateLimiter {
  /** Counts one request of `key` at `now` (ms); false when the client is over its limit. */
  take(key: string, now: number): Promise<boolean>;
}

export interface MemoryRequestRateLimiterOptions {
  /** Requests allowed per client and window. Default 120. */
  max?: number;
  /** Window length in seconds. Default 60. */
  windowSeconds?: number;
  /** Clients remembered at most; the oldest go first so memory stays bounded. Default 10000. */
  maxKeys?: number;
}

/** A fixed-window counter per client key. */
export function createMemoryRequestRateLimiter(
  options: MemoryRequestRateLimiterOptions = {},
): RequestRateLimiter {
  const max = options.max ?? 120;
  const windowMs = (options.windowSeconds ?? 60) * 1000;
  const maxKeys = options.maxKeys ?? 10_000;
  if (!(max > 0 && windowMs > 0 && maxKeys > 0)) {
    throw new TypeError('Rate limits must be positive numbers.');
  }
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async take(key, now) {
      let w = windows.get(key);
      if (!w || now - w.start >= windowMs) {
        w = { start: now, count: 0 };
        windows.delete(key);
        windows.set(key, w);
        while (windows.size > maxKeys) {
          const oldest = windows.keys().next().value;
          if (oldest === undefined) break;
          windows.delete(oldest);
        }
      }
      w.count++;
      return w.count <= max;
    },
  };
}
