// Server-to-server calls of the site (protocol-spec.md#transport): requestJson through the one
// public-network guard (every connection goes to a checked public address), with a time
// budget, a size cap, bounded retries (only when a public provider could not be reached) and
// bounded queues, so a flood of sign-ins cannot turn into a flood of outbound requests, nor
// into unbounded memory or unbounded waiting for other users (threats 40, 43, 49).
import { BssoError, type FetchLike, type JsonResponse, limits, requestJson } from '@bsso/protocol';
import {
  createPublicFetch,
  isAddressRefused,
  type PublicNetworkOptions,
} from '@bsso/protocol/public-network';

export interface OutboundOptions {
  /** Budget of one exchange in ms; also the longest a request waits for a slot. Default 5000. */
  timeoutMs?: number;
  /** Calls to providers (association, direct verification) in flight at once. Default 16. */
  maxConcurrency?: number;
  /**
   * Discoveries (WebFinger and configuration of a domain) in flight at once. They have their
   * own slots, so look-ups of unknown or hanging domains never hold up calls to providers
   * the site already knows. Default 8.
   */
  maxDiscoveryConcurrency?: number;
  /** Calls that may wait for a slot, per kind; more are refused at once. Default 64. */
  maxQueue?: number;
  /** Extra attempts after `provider_unavailable` (never after an answer). Default 1. */
  retries?: number;
  /**
   * The public-network guard: resolver, CA certificates, and for tests and development an
   * explicit allow-list of non-public addresses. Every outbound request goes through it.
   */
  network?: PublicNetworkOptions;
}

export type OutboundKind = 'discovery' | 'provider';

export interface Outbound {
  postJson(url: string, body: unknown): Promise<JsonResponse>;
  /** Runs `task` inside the slots and queue of its kind (discovery uses it). */
  limit<T>(task: () => Promise<T>, kind: OutboundKind): Promise<T>;
  /** The guarded fetch every outbound request uses. */
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

export function createOutbound(options: OutboundOptions = {}): Outbound {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 1;
  const maxQueue = options.maxQueue ?? 64;
  const lanes: Record<OutboundKind, Semaphore> = {
    provider: createSemaphore({
      max: options.maxConcurrency ?? 16,
      maxQueue,
      maxWaitMs: timeoutMs,
    }),
    discovery: createSemaphore({
      max: options.maxDiscoveryConcurrency ?? 8,
      maxQueue,
      maxWaitMs: timeoutMs,
    }),
  };
  const publicFetch = createPublicFetch(options.network);
  const limit = <T>(task: () => Promise<T>, kind: OutboundKind) => lanes[kind](task);
  return {
    fetch: publicFetch,
    timeoutMs,
    limit,
    close: () => publicFetch.close(),
    async postJson(url, body) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await limit(
            () =>
              requestJson(url, {
                method: 'POST',
                body,
                timeoutMs,
                maxBytes: limits.maxDocumentBytes,
                fetch: publicFetch,
              }),
            'provider',
          );
        } catch (err) {
          if (!isRetryable(err) || attempt >= retries) throw err;
        }
      }
    },
  };
}

// Only a failed connection to an allowed address is worth another try; a refused address, a
// full queue or an answer never is.
function isRetryable(err: unknown): boolean {
  return (
    err instanceof BssoError &&
    err.code === 'provider_unavailable' &&
    err.cause !== undefined &&
    !isAddressRefused(err) &&
    !isOutboundBusy(err)
  );
}

/** The site's own queue refused or timed out the request: it says nothing about the domain. */
class OutboundBusy extends Error {
  override readonly name = 'OutboundBusy';
}

/** True for the queue's own refusals (full queue, no slot in time), which must not be cached. */
export function isOutboundBusy(err: unknown): boolean {
  return err instanceof BssoError && err.cause instanceof OutboundBusy;
}

export type Semaphore = <T>(task: () => Promise<T>) => Promise<T>;

export interface SemaphoreOptions {
  /** Tasks running at once. */
  max: number;
  /** Tasks waiting at most; a task beyond is refused at once (`provider_unavailable`). */
  maxQueue?: number;
  /** Longest wait for a slot; then the task is refused without running (`provider_timeout`). */
  maxWaitMs?: number;
}

/** At most `max` tasks run at once; the rest queue in order, boundedly in count and time. */
export function createSemaphore(options: SemaphoreOptions | number): Semaphore {
  const {
    max,
    maxQueue = Number.POSITIVE_INFINITY,
    maxWaitMs,
  } = typeof options === 'number' ? { max: options } : options;
  let running = 0;
  const waiting = new Set<() => void>();
  const acquire = (): Promise<void> => {
    if (running < max) {
      running++;
      return Promise.resolve();
    }
    if (waiting.size >= maxQueue) {
      return Promise.reject(
        new BssoError('provider_unavailable', 'Too many outbound requests.', {
          cause: new OutboundBusy('queue full'),
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        waiting.delete(wake);
        resolve();
      };
      if (maxWaitMs !== undefined) {
        timer = setTimeout(() => {
          waiting.delete(wake);
          reject(
            new BssoError('provider_timeout', 'No outbound slot in time.', {
              cause: new OutboundBusy('no slot in time'),
            }),
          );
        }, maxWaitMs);
      }
      waiting.add(wake);
    });
  };
  return async (task) => {
    await acquire();
    try {
      return await task();
    } finally {
      // Hand the slot straight to the oldest waiter (Sets iterate in insertion order).
      const next = waiting.values().next().value;
      if (next) next();
      else running--;
    }
  };
}
