// The shared services the PostgreSQL and Redis tests need (CI starts them, .ci/install).
// Each test run works in its own schema / key prefix and removes it afterwards.
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { dropPostgresSchema } from '../src/storage/postgres-database.ts';
import { connectRedis } from '../src/storage/redis-client.ts';

export const DATABASE_URL =
  process.env.BSSO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BSSO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A schema name / key prefix no other run uses. */
export function uniqueName(): string {
  return `bsso_t${process.pid}_${randomBytes(5).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  await dropPostgresSchema(DATABASE_URL, schema);
}

/** Deletes every Redis key under `prefix`. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const client = await connectRedis(REDIS_URL);
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
  /** Drops every connection and refuses new ones: the service is gone. */
  cut(): void;
  /** Forwards again. */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP proxy to a loopback port that a test can cut, to take a service away mid-run. */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let open = true;
  const server = createServer((client) => {
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
  const address = server.address() as AddressInfo;
  const cut = () => {
    open = false;
    for (const s of sockets) s.destroy();
  };
  return {
    port: address.port,
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
