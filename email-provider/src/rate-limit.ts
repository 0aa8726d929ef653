// Counting for throttles: sign-in failures (threat 16), associations, assertion requests
// (threat 49). In memory, per process; the async interface lets a shared store
// (storage/redis-stores.ts) take over for several instances.

/**
 * Counts failed attempts per key in a sliding window and refuses more once a key reaches its
 * limit (associations and assertion requests count every request as one). A success resets.
 */
export interface FailureThrottle {
  /** Whether another attempt is allowed for `key` now (reading only). */
  allowed(key: string, now: number): Promise<boolean>;
  /**
   * Counts one attempt if `key` is under its limit, and says whether it was: check and count
   * are one atomic step, so a burst of parallel attempts cannot all pass a check made before
   * any of them is counted. An attempt over the limit is not counted.
   */
  take(key: string, now: number): Promise<boolean>;
  /** Takes back the most recent counted attempt (it turned out not to be a failure). */
  refund(key: string): Promise<void>;
  /** Counts one failed attempt. */
  fail(key: string, now: number): Promise<void>;
  /** Forgets the failures of `key` (after a success). */
  reset(key: string): Promise<void>;
}

/** Every limiter of the provider, built by storage/select.ts. */
export interface Limiters {
  /** Sign-in failures per account from one client: that client is throttled on it. */
  signinPair: FailureThrottle;
  /** Sign-in failures (and sign-ups) per client across accounts. */
  signinClient: FailureThrottle;
  /** Sign-in failures per account from all clients together: over it, slow down. */
  signinAccount: FailureThrottle;
  /** Sign-in attempts per account and client while the account is slowed down. */
  signinSlow: FailureThrottle;
  /**
   * Successful sign-ins per account and client in the last 30 days: one makes the client
   * known for the account (read with `allowed`: not allowed = known).
   */
  signinKnown: FailureThrottle;
  /** While slowed down: attempts on the account from all unknown clients together. */
  signinUnknown: FailureThrottle;
  /** New associations per client. */
  association: FailureThrottle;
  /** Assertion requests per client. */
  assertionClient: FailureThrottle;
  /** Assertion requests per provider session. */
  assertionSession: FailureThrottle;
}

/** The key of one account as seen from one client (the client part has no `|`). */
export function pairKey(client: string, account: string): string {
  return `${client}|${account}`;
}

export interface MemoryFailureThrottleOptions {
  /** Failures tolerated within the window. */
  maxFailures: number;
  windowMs: number;
  /** Keys remembered at most; the oldest are dropped first so memory stays bounded. */
  maxKeys?: number;
}

/**
 * A sliding window per key: the times of the counted events, oldest first. Expired times
 * leave from the front (amortised constant time), so a high limit stays cheap.
 */
export function createMemoryFailureThrottle(
  options: MemoryFailureThrottleOptions,
): FailureThrottle {
  const maxKeys = options.maxKeys ?? 100_000;
  const events = new Map<string, { times: number[]; head: number }>();
  const count = (key: string, now: number): number => {
    const entry = events.get(key);
    if (!entry) return 0;
    const { times } = entry;
    while (entry.head < times.length && (times[entry.head] ?? 0) <= now - options.windowMs) {
      entry.head++;
    }
    if (entry.head === times.length) {
      events.delete(key);
      return 0;
    }
    if (entry.head > 64 && entry.head * 2 > times.length) {
      times.splice(0, entry.head);
      entry.head = 0;
    }
    return times.length - entry.head;
  };
  const record = (key: string, now: number): void => {
    const entry = events.get(key) ?? { times: [], head: 0 };
    entry.times.push(now);
    // Most recently counted last: the first key is the one to forget.
    events.delete(key);
    events.set(key, entry);
    while (events.size > maxKeys) {
      const oldest = events.keys().next().value;
      if (oldest === undefined) break;
      events.delete(oldest);
    }
  };
  return {
    async allowed(key, now) {
      return count(key, now) < options.maxFailures;
    },
    // No await between the check and the count: one step for this process.
    async take(key, now) {
      if (count(key, now) >= options.maxFailures) return false;
      record(key, now);
      return true;
    },
    async refund(key) {
      const entry = events.get(key);
      if (!entry) return;
      entry.times.pop();
      if (entry.head >= entry.times.length) events.delete(key);
    },
    async fail(key, now) {
      count(key, now);
      record(key, now);
    },
    async reset(key) {
      events.delete(key);
    },
  };
}
