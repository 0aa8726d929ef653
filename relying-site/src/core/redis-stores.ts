// Redis stores for a site running as several instances: a nonce is consumed at most once
// across all of them (GETDEL), sessions and caches are shared, and associating with a
// provider takes a short lock so the instances hold one association per provider.
// Every key expires in Redis; records also carry their own expiry, checked on read.
import { randomUUID } from 'node:crypto';
import {
  redisCall as call,
  createRedisClient,
  type RedisClient,
  reportOutages,
} from '@bsso/protocol/redis';
import { base64url } from 'jose';
import {
  newPageChallengeKeys,
  type PageChallengeKeySource,
  type PageChallengeKeys,
} from './page-challenge.ts';
import type { RequestRateLimiter } from './rate-limit.ts';
import type {
  AssociationCache,
  AssociationKey,
  AssociationRecord,
  DiscoveryCache,
  DiscoveryRecord,
  NonceRecord,
  NonceStore,
  SessionRecord,
  SessionStore,
  SiteStores,
} from './stores.ts';

export type { RedisClient };

export interface RedisStoresOptions {
  /** Prefix of every key; default 'bsso-site:'. Instances of one site share it. */
  prefix?: string;
  /** Current time in ms; default Date.now. */
  now?: () => number;
  /** A command not answered within this fails (so the request fails); default 2000 ms. */
  commandTimeoutMs?: number;
  /** Connection errors, once per outage; default a line on stderr. The client reconnects. */
  onError?: (err: Error) => void;
}

export interface RedisSiteStores extends SiteStores {
  readonly client: RedisClient;
  /** The page challenge key and handle set, shared by every instance of the site. */
  readonly pageChallengeKeys: PageChallengeKeySource;
  /** Closes the connection (only when this module opened it from a URL). */
  close(): Promise<void>;
}

/**
 * Stores over Redis at `target` (a redis:// or rediss:// URL, or a connected client you
 * own). With a URL the connection opens in the background; commands wait for it up to
 * commandTimeoutMs, then fail, and so does the request that needed them (fail closed).
 */
export function createRedisStores(
  target: string | RedisClient,
  options: RedisStoresOptions = {},
): RedisSiteStores {
  const now = options.now ?? Date.now;
  const p = options.prefix ?? 'bsso-site:';
  const owned = typeof target === 'string';
  const client = owned ? openClient(target, options) : target;
  return {
    client,
    nonces: createRedisNonceStore(client, p, now),
    sessions: createRedisSessionStore(client, p, now),
    associations: createRedisAssociationCache(client, p, now),
    discovery: createRedisDiscoveryCache(client, p, now),
    pageChallengeKeys: redisPageChallengeKeys(client, p, now),
    async close() {
      if (owned && client.isOpen) await client.close();
    },
  };
}

function openClient(url: string, options: RedisStoresOptions): RedisClient {
  if (!URL.canParse(url) || !['redis:', 'rediss:'].includes(new URL(url).protocol)) {
    throw new TypeError('redisUrl must be a redis:// or rediss:// URL.');
  }
  const client = createRedisClient(url, { commandTimeoutMs: options.commandTimeoutMs });
  reportOutages(client, {
    down:
      options.onError ?? ((err: Error) => console.error(`bsso: Redis unavailable: ${err.message}`)),
  });
  // Failures surface per command (and through onError); the client keeps reconnecting.
  client.connect().catch(() => undefined);
  return client;
}

/** Milliseconds until `expiresAt`, at least 1 (Redis refuses 0). */
function ttl(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil(expiresAt - now));
}

function parse<T extends { expiresAt: number }>(text: string | null, now: number): T | null {
  if (text === null) return null;
  const value = JSON.parse(text) as T;
  return typeof value.expiresAt === 'number' && value.expiresAt > now ? value : null;
}

function createRedisNonceStore(client: RedisClient, prefix: string, now: () => number): NonceStore {
  const key = (nonce: string) => `${prefix}nonce:${nonce}`;
  return {
    put: (nonce, record) =>
      call('nonce put', async () => {
        await client.set(key(nonce), JSON.stringify(record), {
          expiration: { type: 'PX', value: ttl(record.expiresAt, now()) },
        });
      }),
    // GETDEL: one instance gets the record, every other one gets nothing.
    consume: (nonce) =>
      call('nonce consume', async () => parse<NonceRecord>(await client.getDel(key(nonce)), now())),
    // SET NX: one instance records the page nonce as used, every other one finds it taken.
    claim: (nonce, expiresAt) =>
      call('nonce claim', async () => {
        const taken = await client.set(`${prefix}used-nonce:${nonce}`, '1', {
          condition: 'NX',
          expiration: { type: 'PX', value: ttl(expiresAt, now()) },
        });
        return taken === 'OK';
      }),
  };
}

function createRedisSessionStore(
  client: RedisClient,
  prefix: string,
  now: () => number,
): SessionStore {
  const key = (id: string) => `${prefix}session:${id}`;
  return {
    create: (id, record) =>
      call('session create', async () => {
        await client.set(key(id), JSON.stringify(record), {
          expiration: { type: 'PX', value: ttl(record.expiresAt, now()) },
        });
      }),
    get: (id) =>
      call('session get', async () => parse<SessionRecord>(await client.get(key(id)), now())),
    destroy: (id) =>
      call('session destroy', async () => {
        await client.del(key(id));
      }),
  };
}

type StoredKey = Omit<AssociationKey, 'secret'> & { secret: string };
type StoredAssociation = StoredKey & { issuer: string; previous?: StoredKey };

const toStored = (k: AssociationKey): StoredKey => ({
  handle: k.handle,
  secret: base64url.encode(k.secret),
  createdAt: k.createdAt,
  expiresAt: k.expiresAt,
});
const fromStored = (k: StoredKey): AssociationKey => ({
  handle: k.handle,
  secret: base64url.decode(k.secret),
  createdAt: k.createdAt,
  expiresAt: k.expiresAt,
});

const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

function createRedisAssociationCache(
  client: RedisClient,
  prefix: string,
  now: () => number,
): AssociationCache {
  const key = (issuer: string) => `${prefix}association:${issuer}`;
  const lockKey = (issuer: string) => `${prefix}association-lock:${issuer}`;
  return {
    get: (issuer) =>
      call('association get', async () => {
        const stored = parse<StoredAssociation>(await client.get(key(issuer)), now());
        if (!stored) return null;
        const record: AssociationRecord = { issuer: stored.issuer, ...fromStored(stored) };
        if (stored.previous) record.previous = fromStored(stored.previous);
        return record;
      }),
    set: (issuer, record) =>
      call('association set', async () => {
        const stored: StoredAssociation = { issuer: record.issuer, ...toStored(record) };
        if (record.previous) stored.previous = toStored(record.previous);
        const until = Math.max(record.expiresAt, record.previous?.expiresAt ?? 0);
        await client.set(key(issuer), JSON.stringify(stored), {
          expiration: { type: 'PX', value: ttl(until, now()) },
        });
      }),
    delete: (issuer) =>
      call('association delete', async () => {
        await client.del(key(issuer));
      }),
    // SET NX PX: one instance associates; the lock frees itself if that instance dies.
    lock: (issuer, ttlMs) =>
      call('association lock', async () => {
        const token = randomUUID();
        const taken = await client.set(lockKey(issuer), token, {
          condition: 'NX',
          expiration: { type: 'PX', value: ttlMs },
        });
        if (taken !== 'OK') return null;
        return async () => {
          await call('association unlock', () =>
            client.eval(RELEASE_LOCK, { keys: [lockKey(issuer)], arguments: [token] }),
          );
        };
      }),
  };
}

/**
 * The per-client endpoint limit counted in Redis, so it holds across instances: a fixed
 * window per client (INCR, expiring with the window). Defaults as createMemoryRequestRateLimiter.
 */
export function createRedisRequestRateLimiter(
  client: RedisClient,
  options: { prefix?: string; max?: number; windowSeconds?: number } = {},
): RequestRateLimiter {
  const max = options.max ?? 120;
  const windowMs = (options.windowSeconds ?? 60) * 1000;
  if (!(max > 0 && windowMs > 0)) throw new TypeError('Rate limits must be positive numbers.');
  const p = `${options.prefix ?? 'bsso-site:'}rate:`;
  return {
    take: (key, now) =>
      call('rate limit', async () => {
        const window = Math.floor(now / windowMs);
        const k = `${p}${window}:${key}`;
        const [count] = await client.multi().incr(k).pExpire(k, windowMs).exec();
        return Number(count) <= max;
      }),
  };
}

function createRedisDiscoveryCache(
  client: RedisClient,
  prefix: string,
  now: () => number,
): DiscoveryCache {
  const key = (domain: string) => `${prefix}discovery:${domain}`;
  return {
    get: (domain) =>
      call('discovery get', async () =>
        parse<DiscoveryRecord>(await client.get(key(domain)), now()),
      ),
    set: (domain, record) =>
      call('discovery set', async () => {
        await client.set(key(domain), JSON.stringify(record), {
          expiration: { type: 'PX', value: ttl(record.expiresAt, now()) },
        });
      }),
  };
}

/** How long an instance reuses the page challenge keys it read before reading them again. */
const PAGE_KEYS_REREAD_MS = 60_000;

/**
 * The page challenge key and handle set in Redis: the first instance writes them (SET NX),
 * every instance reads the same. Re-read every minute, so an emptied Redis (which lost the
 * associations too) gets a new handle set everywhere soon.
 */
function redisPageChallengeKeys(
  client: RedisClient,
  prefix: string,
  now: () => number,
): PageChallengeKeySource {
  const key = `${prefix}page-challenge`;
  let cached: { keys: PageChallengeKeys; readAt: number } | undefined;
  let reading: Promise<PageChallengeKeys> | undefined;
  const read = () =>
    call('page challenge keys', async () => {
      const fresh = newPageChallengeKeys();
      await client.set(
        key,
        JSON.stringify({ key: base64url.encode(fresh.key), handleSet: fresh.handleSet }),
        { condition: 'NX' },
      );
      const stored = JSON.parse((await client.get(key)) ?? 'null') as {
        key?: unknown;
        handleSet?: unknown;
      } | null;
      if (typeof stored?.key !== 'string' || typeof stored.handleSet !== 'string') {
        throw new Error('The page challenge keys in Redis are malformed.');
      }
      const keys = { key: base64url.decode(stored.key), handleSet: stored.handleSet };
      cached = { keys, readAt: now() };
      return keys;
    });
  return async () => {
    if (cached && now() - cached.readAt < PAGE_KEYS_REREAD_MS) return cached.keys;
    reading ??= read().finally(() => {
      reading = undefined;
    });
    return reading;
  };
}
