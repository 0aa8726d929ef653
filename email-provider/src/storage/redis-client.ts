// A node-redis client for the provider's short-lived shared records. It reconnects on its
// own; while Redis is away every command fails after `commandTimeoutMs` (never waits
// forever), so callers fail closed with a clear error instead of hanging.
import { createClient, type RedisClientType } from 'redis';

export type RedisClient = RedisClientType;

export interface RedisOptions {
  /** A command not answered within this fails; default 2000 ms. */
  commandTimeoutMs?: number;
  /** How long the first connection may take before start-up fails; default 5000 ms. */
  connectTimeoutMs?: number;
  /** Connection errors (Redis down, reconnecting); the client keeps retrying. */
  onError?: (err: Error) => void;
}

/** Connects to `url` (redis:// or rediss://); rejects when Redis does not answer in time. */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<RedisClient> {
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const client: RedisClient = createClient({
    url,
    socket: {
      connectTimeout,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
    commandOptions: { timeout: options.commandTimeoutMs ?? 2000 },
  });
  client.on('error', (err: Error) => options.onError?.(err));
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

/** Runs a Redis call, turning failures into one clear message naming the store. */
export async function redisCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const reason = err instanceof Error ? err.message || err.name : String(err);
    throw new Error(`Redis ${what} failed: ${reason}`, { cause: err });
  }
}
