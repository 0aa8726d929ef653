// The shared services the Redis (and PostgreSQL) tests need (CI starts them, .ci/install):
// a per-run key prefix or schema name, cleanup, and a proxy a test can cut to take a
// service away mid-run.
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { createClient } from 'redis';

export const REDIS_URL = process.env.BSSO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A schema name / key prefix no other run uses (letters, digits and '_' only). */
export function uniqueName(): string {
  return `bsso_t${process.pid}_${randomBytes(5).toString('hex')}`;
}

/** A Redis key prefix no other run uses, ending in ':'. */
export function uniquePrefix(): string {
  return `bsso-test:${process.pid}:${randomBytes(5).toString('hex')}:`;
}

/** Deletes every Redis key under `prefix`; fails (never hangs) when Redis is away. */
export async function dropRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const client = createClient({ url, socket: { connectTimeout: 5000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}

export interface TcpProxy {
  port: number;
  /** TCP connections accepted so far: how many times a client tried the server. */
  connections(): number;
  /** Drops every connection and refuses new ones: the service is gone. */
  cut(): void;
  /** Forwards again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy to a loopback port (TLS passes through untouched) that counts the connections
 * it accepts, so a test can tell how often the code under test went to the server, and that a
 * test can cut, to take a service away mid-run.
 */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  let count = 0;
  const server = createServer((client) => {
    count += 1;
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    open = false;
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    cut,
    restore: () => {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
