// A node-redis client for the provider's short-lived shared records (client set-up and
// outage report from '@bsso/protocol/redis'). It reconnects on its own; while Redis is away
// every command fails after `commandTimeoutMs` (never waits forever), so callers fail
// closed with a clear error instead of hanging.
import { createRedisClient, type RedisClient, reportOutages } from '@bsso/protocol/redis';

export interface RedisOptions {
  /** A command not answered within this fails; default 2000 ms. */
  commandTimeoutMs?: number;
  /** How long the first connection may take before start-up fails; default 5000 ms. */
  connectTimeoutMs?: number;
  /** The first connection error of an outage (Redis down); the client keeps retrying. */
  onDown?: (err: Error) => void;
  /** Redis answers again after an outage. */
  onUp?: () => void;
}

/** Connects to `url` (redis:// or rediss://); rejects when Redis does not answer in time. */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<RedisClient> {
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const client = createRedisClient(url, {
    connectTimeoutMs: connectTimeout,
    commandTimeoutMs: options.commandTimeoutMs,
  });
  reportOutages(client, {
    down: (err) => options.onDown?.(err),
    up: () => options.onUp?.(),
  });
  let timer: NodeJS.Timeout | undefined;
  const connected = client.connect().then(() => undefined);
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('no answer')), connectTimeout);
  });
  try {
    await Promise.race([connected, timedOut]);
    return client;
  } catch (err) {
    client.destroy();
    connected.catch(() => undefined);
    throw new Error(`Redis at ${redactUrl(url)}: ${err instanceof Error ? err.message : err}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}
