// Server-to-server calls of the site: requestJson with a time budget, a size cap, bounded
// retries (only when the provider could not be reached) and a cap on concurrent calls, so a
// flood of sign-ins cannot turn into a flood of outbound requests.
import { BssoError, type FetchLike, type JsonResponse, limits, requestJson } from '@bsso/protocol';

export interface OutboundOptions {
  /** Budget of one exchange in ms. Default 5000. */
  timeoutMs?: number;
  /** Outbound calls in flight at once; more wait their turn. Default 16. */
  maxConcurrency?: number;
  /** Extra attempts after `provider_unavailable` (never after an answer). Default 1. */
  retries?: number;
  fetch?: typeof fetch;
}

export interface Outbound {
  postJson(url: string, body: unknown): Promise<JsonResponse>;
  /** Runs `task` inside the concurrency cap (discovery uses it). */
  limit<T>(task: () => Promise<T>): Promise<T>;
  readonly fetch: FetchLike | undefined;
  readonly timeoutMs: number;
}

export function createOutbound(options: OutboundOptions = {}): Outbound {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 1;
  const limit = createSemaphore(options.maxConcurrency ?? 16);
  const doFetch: FetchLike | undefined = options.fetch;
  return {
    fetch: doFetch,
    timeoutMs,
    limit,
    async postJson(url, body) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await limit(() =>
            requestJson(url, {
              method: 'POST',
              body,
              timeoutMs,
              maxBytes: limits.maxDocumentBytes,
              ...(doFetch ? { fetch: doFetch } : {}),
            }),
          );
        } catch (err) {
          const retryable = err instanceof BssoError && err.code === 'provider_unavailable';
          if (!retryable || attempt >= retries) throw err;
        }
      }
    },
  };
}

/** At most `max` tasks run at once; the rest queue in order. */
export function createSemaphore(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
