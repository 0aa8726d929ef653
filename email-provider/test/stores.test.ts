// The store and rate limiter contracts against every implementation: SQLite and memory
// (the defaults), PostgreSQL, and PostgreSQL + Redis as createProvider selects them. Plus
// what happens when a shared store stops answering: errors, never a silent yes.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  dropRedisPrefix,
  REDIS_URL,
  type TcpProxy,
  tcpProxy,
  uniqueName,
} from '@bsso/protocol/testing';
import { silentLogger } from '../src/log.ts';
import { createMemoryFailureThrottle } from '../src/rate-limit.ts';
import { createBatchedIssuedLog } from '../src/storage/batched-log.ts';
import { openPostgres } from '../src/storage/postgres-database.ts';
import { createPostgresStores } from '../src/storage/postgres-stores.ts';
import { connectRedis } from '../src/storage/redis-client.ts';
import { createRedisFailureThrottle } from '../src/storage/redis-stores.ts';
import { openProviderStores } from '../src/storage/select.ts';
import { openSqliteDatabase } from '../src/storage/sqlite-database.ts';
import { createSqliteStores } from '../src/storage/sqlite-stores.ts';
import {
  AUDIENCE,
  Browser,
  errorCode,
  nonce,
  PASSWORD,
  postJson,
  type Running,
  removeDir,
  startProvider,
  tempDir,
} from './helpers.ts';
import { DATABASE_URL, dropSchema } from './services.ts';
import { failureThrottleContract, storeContract } from './store-contract.ts';

const ALICE = 'alice@mail.test';

storeContract('SQLite', async () => {
  const dir = await tempDir();
  const path = join(dir, 'provider.sqlite');
  // Opening twice checks that migrations run once and are recorded.
  openSqliteDatabase(path).close();
  const stores = createSqliteStores(openSqliteDatabase(path));
  return {
    stores,
    async done() {
      await stores.close();
      await removeDir(dir);
    },
  };
});

// The provider's issued-assertion log goes through the batching writer: the same contract.
storeContract('SQLite, issued log batched', async () => {
  const dir = await tempDir();
  const opened = createSqliteStores(openSqliteDatabase(join(dir, 'provider.sqlite')));
  const issuedLog = createBatchedIssuedLog(opened.issuedLog, { logger: silentLogger });
  const stores = { ...opened, issuedLog };
  return {
    stores,
    async done() {
      await issuedLog.close();
      await opened.close();
      await removeDir(dir);
    },
  };
});

storeContract('PostgreSQL', async () => {
  const schema = uniqueName();
  // Opening twice checks that migrations run once and are recorded.
  await (await openPostgres(DATABASE_URL, { schema })).end();
  const stores = createPostgresStores(await openPostgres(DATABASE_URL, { schema }));
  return {
    stores,
    async done() {
      await stores.close();
      await dropSchema(schema);
    },
  };
});

function sharedConfig(name: string) {
  return {
    dataDir: '/nonexistent',
    databaseUrl: DATABASE_URL,
    databaseSchema: name,
    redisUrl: REDIS_URL,
    redisKeyPrefix: `${name}:`,
    sessionAbsoluteMs: 3_600_000,
    signinFailuresPerAccount: 5,
    signinFailuresPerAccountAllClients: 100,
    signinFailuresPerIp: 20,
    signinUnknownClientsPerAccount: 30,
    associationsPerIpPerMinute: 60,
    assertionsPerClientPerMinute: 240,
    assertionsPerSessionPerMinute: 60,
    now: Date.now,
    logger: silentLogger,
  };
}

storeContract('PostgreSQL + Redis', async () => {
  const name = uniqueName();
  const { stores } = await openProviderStores(sharedConfig(name));
  return {
    stores,
    async done() {
      await stores.close();
      await dropSchema(name);
      await dropRedisPrefix(`${name}:`);
    },
  };
});

failureThrottleContract('memory', async (options) => ({
  limiter: createMemoryFailureThrottle(options),
  async done() {},
}));

failureThrottleContract('Redis', async (options) => {
  const prefix = `${uniqueName()}:`;
  const client = await connectRedis(REDIS_URL);
  return {
    limiter: createRedisFailureThrottle(client, { ...options, prefix, name: 'test' }),
    async done() {
      client.destroy();
      await dropRedisPrefix(prefix);
    },
  };
});

/** A TCP server that accepts connections and never answers: a hung Redis or PostgreSQL. */
async function silentServer() {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('shared stores that stop answering', () => {
  it('start-up fails with a clear error naming the service', async () => {
    const closed = await silentServer();
    await closed.close();
    await assert.rejects(
      openProviderStores({
        ...sharedConfig(uniqueName()),
        databaseUrl: `postgres://postgres@127.0.0.1:${closed.port}/test`,
        redisUrl: undefined,
      }),
      /PostgreSQL: .*ECONNREFUSED/,
    );
    await assert.rejects(
      connectRedis(`redis://127.0.0.1:${closed.port}`, { connectTimeoutMs: 300 }),
      /Redis at redis:\/\/127\.0\.0\.1:\d+: .*(ECONNREFUSED|no answer)/,
    );
  });

  describe('Redis lost while the provider runs', () => {
    const name = uniqueName();
    let redis: TcpProxy;
    let running: Running;
    let alice: Browser;
    const ask = () => alice.askAssertion({ email: ALICE, audience: AUDIENCE, nonce: nonce() });
    const verify = (assertion: string) => postJson(running.base, '/bsso/verify', { assertion });
    before(async () => {
      redis = await tcpProxy(Number(new URL(REDIS_URL).port || 6379));
      running = await startProvider({
        databaseUrl: DATABASE_URL,
        databaseSchema: name,
        redisUrl: `redis://127.0.0.1:${redis.port}`,
        redisKeyPrefix: `${name}:`,
      });
      await running.provider.accounts.create(ALICE, PASSWORD);
      alice = new Browser(running.base);
      assert.equal((await alice.signIn(ALICE, PASSWORD)).status, 303);
    });
    after(async () => {
      await running.stop();
      await redis.close();
      await dropSchema(name);
      await dropRedisPrefix(`${name}:`);
    });

    it('fails closed with an error answer, then works again after reconnecting', async () => {
      const issued = await ask();
      assert.equal(issued.status, 200);
      const { assertion } = (await issued.json()) as { assertion: string };
      redis.cut();
      // The replay check cannot run: an error answer, never {valid: true}. The session
      // cannot be read: an error answer, never an assertion.
      const [verified, asked] = await Promise.all([verify(assertion), ask()]);
      assert.equal(verified.status, 500);
      assert.equal(await errorCode(verified), 'server_error');
      assert.equal(asked.status, 500);
      assert.equal(await errorCode(asked), 'server_error');
      redis.restore();
      // The client reconnects by itself; the assertion was never marked used, so it
      // verifies once now, and only once.
      const again = await verify(assertion);
      assert.equal(again.status, 200);
      assert.equal(await errorCode(await verify(assertion)), 'assertion_replayed');
      assert.equal((await ask()).status, 200);
    });
  });
});
