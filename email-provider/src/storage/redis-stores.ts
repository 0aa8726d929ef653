// Redis implementations of the provider's short-lived shared records: sessions, used
// assertion ids and sign-in/association rate limits. Every key carries an expiry so Redis
// forgets on its own; small sorted-set indexes keep the sweep (removeExpired) exact.
// Multi-key scripts assume one Redis node (not Redis Cluster).
import { randomUUID } from 'node:crypto';
import { type RedisClient, redisCall } from '@bsso/protocol/redis';
import type { FailureThrottle } from '../rate-limit.ts';
import type { SessionRecord, SessionStore, UsedAssertionStore } from './types.ts';

export interface RedisStoreOptions {
  /** Prefix of every key, e.g. 'bsso:mail.test:'; lets instances of one deployment share. */
  prefix?: string;
  /** Clock in ms; default Date.now. Used to turn absolute expiries into Redis TTLs. */
  now?: () => number;
}

// Kept past an assertion's own expiry so instances with slightly different clocks agree.
const REPLAY_MARGIN_MS = 60_000;

const REMOVE_SESSION = `
local email = redis.call('HGET', KEYS[1], 'email')
local existed = redis.call('DEL', KEYS[1])
if email then redis.call('SREM', ARGV[1] .. email, ARGV[2]) end
local indexed = redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
if existed == 1 or indexed == 1 then return 1 end
return 0`;

const TOUCH_SESSION = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
end
return 0`;

export function createRedisSessionStore(
  client: RedisClient,
  options: RedisStoreOptions & { ttlMs: number },
): SessionStore {
  const p = `${options.prefix ?? 'bsso:'}provider-session:`;
  const key = (idHash: string) => `${p}id:${idHash}`;
  const accountKey = `${p}account:`;
  const bySeen = `${p}by-seen`;
  const byCreated = `${p}by-created`;
  const removeOne = async (idHash: string): Promise<number> =>
    Number(
      await client.eval(REMOVE_SESSION, {
        keys: [key(idHash), bySeen, byCreated],
        arguments: [accountKey, idHash],
      }),
    );
  return {
    insert: (r) =>
      redisCall('session insert', async () => {
        await client
          .multi()
          .hSet(key(r.idHash), {
            email: r.email,
            createdAt: String(r.createdAt),
            lastSeenAt: String(r.lastSeenAt),
          })
          .pExpire(key(r.idHash), options.ttlMs)
          .sAdd(accountKey + r.email, r.idHash)
          .pExpire(accountKey + r.email, options.ttlMs)
          .zAdd(bySeen, { score: r.lastSeenAt, value: r.idHash })
          .zAdd(byCreated, { score: r.createdAt, value: r.idHash })
          .exec();
      }),
    find: (idHash) =>
      redisCall('session lookup', async () => {
        const h = await client.hGetAll(key(idHash));
        if (h.email === undefined) return undefined;
        const record: SessionRecord = {
          idHash,
          email: h.email,
          createdAt: Number(h.createdAt),
          lastSeenAt: Number(h.lastSeenAt),
        };
        return record;
      }),
    touch: (idHash, at) =>
      redisCall('session touch', async () => {
        await client.eval(TOUCH_SESSION, {
          keys: [key(idHash), bySeen],
          arguments: [String(at), idHash],
        });
      }),
    remove: (idHash) =>
      redisCall('session remove', async () => {
        await removeOne(idHash);
      }),
    listForAccount: (email) =>
      redisCall('session list', async () => {
        const records: SessionRecord[] = [];
        for (const idHash of await client.sMembers(accountKey + email)) {
          const h = await client.hGetAll(key(idHash));
          if (h.email !== email) continue;
          records.push({
            idHash,
            email,
            createdAt: Number(h.createdAt),
            lastSeenAt: Number(h.lastSeenAt),
          });
        }
        return records.sort(
          (a, b) => b.lastSeenAt - a.lastSeenAt || (a.idHash < b.idHash ? -1 : 1),
        );
      }),
    removeForAccount: (email) =>
      redisCall('session remove', async () => {
        let n = 0;
        for (const idHash of await client.sMembers(accountKey + email))
          n += await removeOne(idHash);
        await client.del(accountKey + email);
        return n;
      }),
    removeExpired: (idleCutoff, absoluteCutoff) =>
      redisCall('session sweep', async () => {
        const ids = new Set([
          ...(await client.zRangeByScore(bySeen, '-inf', `(${idleCutoff}`)),
          ...(await client.zRangeByScore(byCreated, '-inf', `(${absoluteCutoff}`)),
        ]);
        let n = 0;
        for (const idHash of ids) n += await removeOne(idHash);
        return n;
      }),
  };
}

const MARK_USED = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[3])
  return 1
end
return 0`;

const SWEEP_USED = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, id in ipairs(ids) do redis.call('DEL', ARGV[2] .. id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return #ids`;

export function createRedisUsedAssertionStore(
  client: RedisClient,
  options: RedisStoreOptions = {},
): UsedAssertionStore {
  const p = `${options.prefix ?? 'bsso:'}used-jti:`;
  const index = `${p}index`;
  const now = options.now ?? Date.now;
  return {
    // SET NX is the atomic test-and-set across every instance sharing this Redis.
    markUsed: (jti, keepUntil) =>
      redisCall('used-assertion check', async () => {
        const ttl = Math.max(keepUntil - now(), 0) + REPLAY_MARGIN_MS;
        const result = await client.eval(MARK_USED, {
          keys: [`${p}id:${jti}`, index],
          arguments: [String(keepUntil), String(ttl), jti],
        });
        return Number(result) === 1;
      }),
    removeExpired: (at) =>
      redisCall('used-assertion sweep', async () =>
        Number(
          await client.eval(SWEEP_USED, { keys: [index], arguments: [String(at), `${p}id:`] }),
        ),
      ),
  };
}

export interface RedisFailureThrottleOptions extends RedisStoreOptions {
  /** Name of this limiter within the prefix, e.g. 'signin-account'. */
  name: string;
  maxFailures: number;
  windowMs: number;
}

// Check and count in one step on the server: drop what left the window, count, add if under.
const TAKE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/** A sliding-window failure counter shared by every instance (one sorted set per key). */
export function createRedisFailureThrottle(
  client: RedisClient,
  options: RedisFailureThrottleOptions,
): FailureThrottle {
  const p = `${options.prefix ?? 'bsso:'}rate:${options.name}:`;
  return {
    allowed: (key, now) =>
      redisCall('rate-limit check', async () => {
        const [, n] = await client
          .multi()
          .zRemRangeByScore(p + key, '-inf', now - options.windowMs)
          .zCard(p + key)
          .exec();
        return Number(n) < options.maxFailures;
      }),
    take: (key, now) =>
      redisCall('rate-limit take', async () => {
        const taken = await client.eval(TAKE, {
          keys: [p + key],
          arguments: [
            String(now - options.windowMs),
            String(options.maxFailures),
            String(now),
            `${now}:${randomUUID()}`,
            String(options.windowMs),
          ],
        });
        return Number(taken) === 1;
      }),
    refund: (key) =>
      redisCall('rate-limit refund', async () => {
        await client.zPopMax(p + key);
      }),
    fail: (key, now) =>
      redisCall('rate-limit count', async () => {
        await client
          .multi()
          .zAdd(p + key, { score: now, value: `${now}:${randomUUID()}` })
          .pExpire(p + key, options.windowMs)
          .exec();
      }),
    reset: (key) =>
      redisCall('rate-limit reset', async () => {
        await client.del(p + key);
      }),
  };
}
