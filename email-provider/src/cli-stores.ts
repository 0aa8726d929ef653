// The stores the users CLI works on: the same ones the running provider uses, from the same
// variables (env.ts): the SQLite file in the data directory, or PostgreSQL (DATABASE_URL,
// BSSO_DATABASE_SCHEMA) and Redis (REDIS_URL, BSSO_REDIS_PREFIX or the default prefix from
// BSSO_ISSUER), where sessions then live.
import { silentLogger } from './log.ts';
import { openProviderStores } from './storage/select.ts';
import type { Stores } from './storage/types.ts';

type Env = Record<string, string | undefined>;

function set(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === '' ? undefined : v;
}

export async function openCliStores(env: Env, dataDir: string): Promise<Stores> {
  const databaseUrl = set(env, 'DATABASE_URL');
  const redisUrl = set(env, 'REDIS_URL');
  let redisKeyPrefix = set(env, 'BSSO_REDIS_PREFIX');
  if (redisUrl && !redisKeyPrefix) {
    const issuer = set(env, 'BSSO_ISSUER');
    if (!issuer || !URL.canParse(issuer)) {
      throw new Error(
        'With REDIS_URL, set BSSO_ISSUER (or BSSO_REDIS_PREFIX) as the provider has it.',
      );
    }
    redisKeyPrefix = `bsso:${new URL(issuer).host}:`;
  }
  const { stores } = await openProviderStores({
    dataDir,
    databaseUrl,
    databaseSchema: set(env, 'BSSO_DATABASE_SCHEMA') ?? 'bsso',
    redisUrl,
    redisKeyPrefix: redisKeyPrefix ?? 'bsso:',
    // Only the stores are used here; the limits are the provider's business.
    sessionAbsoluteMs: 30 * 86_400_000,
    signinFailuresPerAccount: 1,
    signinFailuresPerAccountAllClients: 1,
    signinFailuresPerIp: 1,
    signinUnknownClientsPerAccount: 1,
    associationsPerIpPerMinute: 1,
    assertionsPerClientPerMinute: 1,
    assertionsPerSessionPerMinute: 1,
    now: Date.now,
    logger: silentLogger,
  });
  return stores;
}
