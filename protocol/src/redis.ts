// Redis for the short-lived state a party shares across its instances (an implementation
// helper, not a protocol rule): one client set-up, one call wrapper and one outage report,
// used by the provider's and the site's Redis stores. Node only: '@bsso/protocol/redis'.
//
// The client reconnects on its own; while Redis is away every command fails after the
// command timeout (never waits forever), so callers fail closed with a clear error.
import { createClient, type RedisClientType } from 'redis';

export type RedisClient = RedisClientType;

export interface RedisClientOptions {
  /** A command not answered within this fails; default 2000 ms. */
  commandTimeoutMs?: number | undefined;
  /** How long one connection attempt may take; node-redis's default (5000 ms) when unset. */
  connectTimeoutMs?: number | undefined;
}

/** Milliseconds before reconnect attempt `retries`: 50 ms, doubling, at most 2 s. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000);
}

/** A client for `url` (redis:// or rediss://), not yet connected. */
export function createRedisClient(url: string, options: RedisClientOptions = {}): RedisClient {
  const connectTimeout = options.connectTimeoutMs;
  return createClient({
    url,
    socket: {
      ...(connectTimeout === undefined ? {} : { connectTimeout }),
      reconnectStrategy: reconnectDelay,
    },
    commandOptions: { timeout: options.commandTimeoutMs ?? 2000 },
  });
}

export interface OutageReport {
  /** The first connection error of an outage (not one per reconnect attempt). */
  down: (err: Error) => void;
  /** The client is ready again after an outage. */
  up?: () => void;
}

/** Listens to the client's errors (so none goes unhandled) and reports each outage once. */
export function reportOutages(client: RedisClient, report: OutageReport): void {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    report.down(err);
  });
  client.on('ready', () => {
    if (down) report.up?.();
    down = false;
  });
}

/** Runs a Redis call, turning failures into one clear message naming the store. */
export async function redisCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const reason = err instanceof Error ? err.message || err.name : String(err);
    throw new Error(`Redis ${what} failed: ${reason}`, { cause: err });
  }
}
