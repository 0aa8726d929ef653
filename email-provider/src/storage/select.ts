// Chooses the provider's stores from its configuration:
// - nothing set: one SQLite file in dataDir and in-memory rate limits (one machine);
// - databaseUrl: PostgreSQL for accounts, associations and the issued-assertion log (and
//   sessions and used assertion ids unless Redis is set);
// - redisUrl: Redis for sessions, used assertion ids and rate limits, shared by instances.
import { join } from 'node:path';
import type { RedisClient } from '@bsso/protocol/redis';
import type { ResolvedProviderOptions } from '../config.ts';
import { createMemoryFailureThrottle, type FailureThrottle, type Limiters } from '../rate-limit.ts';
import { openPostgres } from './postgres-database.ts';
import { createPostgresStores } from './postgres-stores.ts';
import { connectRedis, redactUrl } from './redis-client.ts';
import {
  createRedisFailureThrottle,
  createRedisSessionStore,
  createRedisUsedAssertionStore,
} from './redis-stores.ts';
import { openSqliteDatabase } from './sqlite-database.ts';
import { createSqliteStores } from './sqlite-stores.ts';
import type { Stores } from './types.ts';

export const DATABASE_FILE = 'provider.sqlite';
const RATE_WINDOW_MS = 15 * 60_000;
const MINUTE_MS = 60_000;
// A client that signed in to an account within this time is known for it (sign-in throttling).
const KNOWN_CLIENT_MS = 30 * 24 * 3_600_000;

export interface ProviderStores {
  stores: Stores;
  limiters: Limiters;
}

type StoreConfig = Pick<
  ResolvedProviderOptions,
  | 'dataDir'
  | 'databaseUrl'
  | 'databaseSchema'
  | 'redisUrl'
  | 'redisKeyPrefix'
  | 'sessionAbsoluteMs'
  | 'signinFailuresPerAccount'
  | 'signinFailuresPerAccountAllClients'
  | 'signinFailuresPerIp'
  | 'signinUnknownClientsPerAccount'
  | 'associationsPerIpPerMinute'
  | 'assertionsPerClientPerMinute'
  | 'assertionsPerSessionPerMinute'
  | 'now'
  | 'logger'
>;

export async function openProviderStores(config: StoreConfig): Promise<ProviderStores> {
  const lasting = config.databaseUrl
    ? createPostgresStores(
        await openPostgres(config.databaseUrl, {
          schema: config.databaseSchema,
          onError: (err) => config.logger.error('postgres_error', { message: err.message }),
        }),
      )
    : createSqliteStores(openSqliteDatabase(join(config.dataDir, DATABASE_FILE)));
  let redis: RedisClient | undefined;
  try {
    if (config.redisUrl) {
      // Logged once per outage, not once per reconnect attempt.
      const url = redactUrl(config.redisUrl);
      redis = await connectRedis(config.redisUrl, {
        onDown: (err) => config.logger.error('redis_unavailable', { url, message: err.message }),
        onUp: () => config.logger.info('redis_reconnected', {}),
      });
    }
  } catch (err) {
    await lasting.close();
    throw err;
  }
  const shared = { prefix: config.redisKeyPrefix, now: config.now };
  const limiter = (name: string, maxFailures: number, windowMs: number): FailureThrottle =>
    redis
      ? createRedisFailureThrottle(redis, { ...shared, name, maxFailures, windowMs })
      : createMemoryFailureThrottle({ maxFailures, windowMs });
  const client = redis;
  const stores: Stores = client
    ? {
        ...lasting,
        sessions: createRedisSessionStore(client, { ...shared, ttlMs: config.sessionAbsoluteMs }),
        usedAssertions: createRedisUsedAssertionStore(client, shared),
        async check() {
          const redisOk = await client.ping().then(
            (answer) => answer === 'PONG',
            () => false,
          );
          return [...(await lasting.check()), { store: 'redis', ok: redisOk }];
        },
        async close() {
          await Promise.allSettled([client.close(), lasting.close()]);
        },
      }
    : lasting;
  return {
    stores,
    limiters: {
      signinPair: limiter('signin-pair', config.signinFailuresPerAccount, RATE_WINDOW_MS),
      signinClient: limiter('signin-ip', config.signinFailuresPerIp, RATE_WINDOW_MS),
      signinAccount: limiter(
        'signin-account',
        config.signinFailuresPerAccountAllClients,
        RATE_WINDOW_MS,
      ),
      // While an account is slowed down: one attempt per client and minute.
      signinSlow: limiter('signin-slow', 1, MINUTE_MS),
      signinKnown: limiter('signin-known', 1, KNOWN_CLIENT_MS),
      signinUnknown: limiter(
        'signin-unknown',
        config.signinUnknownClientsPerAccount,
        RATE_WINDOW_MS,
      ),
      association: limiter('association-ip', config.associationsPerIpPerMinute, MINUTE_MS),
      assertionClient: limiter('assertion-ip', config.assertionsPerClientPerMinute, MINUTE_MS),
      assertionSession: limiter(
        'assertion-session',
        config.assertionsPerSessionPerMinute,
        MINUTE_MS,
      ),
    },
  };
}
