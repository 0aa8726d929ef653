// The framework-free site core: challenge, verification and sessions. The Express router
// (../express) and any other server wrap it.
import {
  BssoError,
  type ChallengeAnswer,
  createNonce,
  limits,
  type PageChallenge,
  type ProviderConfig,
  parseDomain,
  randomToken,
} from '@bsso/protocol';
import { type Associations, createAssociations } from './associations.ts';
import { type Brokers, createBrokers, parseFallbackBrokers } from './brokers.ts';
import { BROWSER_COOKIE, browserCookie, readCookie } from './cookies.ts';
import { createDiscovery, type Discovery } from './discovery.ts';
import { createMemoryStores } from './memory-stores.ts';
import {
  positive,
  type ResolvedEndpoint,
  resolveEndpoint,
  type SiteCoreOptions,
} from './options.ts';
import { createOutbound, type OutboundOptions } from './outbound.ts';
import { createPageNonce, memoryPageChallengeKeys, nonceConsumer } from './page-challenge.ts';
import { createMemoryRequestRateLimiter } from './rate-limit.ts';
import { createRedisRequestRateLimiter, createRedisStores } from './redis-stores.ts';
import type { SessionRecord, SiteStores } from './stores.ts';
import { type VerifiedAssertion, verifyAssertion } from './verify.ts';

export interface ChallengeInput {
  browserId: string;
  /** The email domain the user chose; its provider's association handle is returned. */
  domain: unknown;
}

export interface Sessions {
  /** A new session under a fresh random id (never reuses an id the browser had). */
  create(email: string): Promise<{ id: string; maxAgeSeconds: number }>;
  get(id: string | undefined): Promise<SessionRecord | null>;
  destroy(id: string | undefined): Promise<void>;
}

export interface SiteCore {
  readonly endpoint: ResolvedEndpoint;
  readonly stores: SiteStores;
  readonly discovery: Discovery;
  readonly associations: Associations;
  readonly sessions: Sessions;
  /** A new random browser id for the binding cookie. */
  newBrowserId(): string;
  /**
   * Counts a request of one client (its key: `clientKey(address)` of
   * '@bsso/protocol/client-address'); throws rate_limited over the limit.
   */
  limit(clientKey: string): Promise<void>;
  challenge(input: ChallengeInput): Promise<ChallengeAnswer>;
  /**
   * A page challenge for the browser of a page request's Cookie header
   * (protocol-spec.md#page-challenge), with the browser cookie to set when it had none; null
   * when page challenges are off or their keys cannot be read (the page then goes without).
   * Stores nothing.
   */
  pageChallenge(
    cookieHeader: string | undefined,
  ): Promise<{ challenge: PageChallenge; setCookie?: string } | null>;
  /**
   * The configuration of the provider (or, for a domain that names none, the first fallback
   * broker) of a domain: the start page's discovery (protocol-spec.md#web-flow).
   */
  providerFor(domain: string): Promise<ProviderConfig>;
  /** Verifies a delivered assertion (all of protocol-spec.md#site-verification). */
  verify(input: { browserId: string | undefined; assertion: string }): Promise<VerifiedAssertion>;
  /** Resolves when no background discovery or association (of any kind) is running. */
  settled(): Promise<void>;
  /** Closes connections the core opened itself (the Redis client of `stores.redisUrl`). */
  close(): Promise<void>;
}

export function createSiteCore(options: SiteCoreOptions): SiteCore {
  const now = options.now ?? Date.now;
  const endpoint = resolveEndpoint(options.endpoint, options.discovery?.allowLocalhostHttp);
  const mode = options.verification ?? 'association';
  if (mode !== 'association' && mode !== 'direct') {
    throw new TypeError("verification must be 'association' or 'direct'.");
  }
  const sessionTtl = positive(options.sessionTtlSeconds, 8 * 3600, 'sessionTtlSeconds');
  const nonceTtl = positive(options.nonceTtlSeconds, limits.nonceLifetimeSeconds, 'nonceTtl');
  const skew = options.clockSkewSeconds ?? limits.clockSkewSeconds;
  const page = options.pageChallenge === false ? undefined : (options.pageChallenge ?? {});
  const pageNonceTtl = positive(page?.ttlSeconds, 3600, 'pageChallenge.ttlSeconds');
  if (pageNonceTtl > limits.maxPageNonceLifetimeSeconds) {
    throw new TypeError('pageChallenge.ttlSeconds must be at most one day.');
  }
  const { redisUrl, redisPrefix, ...given } = options.stores ?? {};
  const redis = redisUrl
    ? createRedisStores(redisUrl, { now, ...(redisPrefix ? { prefix: redisPrefix } : {}) })
    : undefined;
  const { client: _client, close: closeRedis, pageChallengeKeys: _keys, ...shared } = redis ?? {};
  const stores: SiteStores = { ...createMemoryStores(now), ...shared, ...given };
  const pageKeys = page?.keys ?? redis?.pageChallengeKeys ?? memoryPageChallengeKeys();
  const associateInBackground = options.associate === 'background';
  if (options.associate !== undefined && options.associate !== 'wait' && !associateInBackground) {
    throw new TypeError("associate must be 'wait' or 'background'.");
  }
  /** Discoveries and first associations a challenge started and did not wait for. */
  const background = new Set<Promise<unknown>>();
  const inBackground = (work: Promise<unknown>) => {
    const tracked: Promise<unknown> = work.finally(() => background.delete(tracked));
    background.add(tracked);
  };
  /**
   * True when a challenge for `domain` can name a handle without waiting for a request: its
   * provider (or broker) is known and the site holds a live association with it.
   */
  const readyForDomain = async (domain: string): Promise<boolean> => {
    const known = await discovery.known(domain).catch(() => null);
    // A domain that names no provider gets the first broker's handle (see providerOrBroker).
    const issuer = known === 'no_provider' ? brokers.issuers[0] : known;
    if (!issuer) return false;
    const held = await stores.associations.get(issuer).catch(() => null);
    return held !== null && held.expiresAt > now();
  };
  // Without association handles (direct verification) a page nonce saves nothing.
  const pageChallengesOn =
    page !== undefined && mode === 'association' && stores.nonces.claim !== undefined;
  const outbound = createOutbound(outboundOptions(options));
  const discovery = createDiscovery(stores.discovery, outbound, options.discovery ?? {}, now);
  const associations = createAssociations(stores.associations, outbound, endpoint.origin, now);
  const brokers = createBrokers(
    parseFallbackBrokers(options.fallbackBrokers, options.discovery?.allowLocalhostHttp),
    outbound,
    options.discovery ?? {},
    now,
  );
  const rateLimiter =
    options.rateLimiter === false
      ? null
      : (options.rateLimiter ??
        (redis
          ? createRedisRequestRateLimiter(redis.client, redisPrefix ? { prefix: redisPrefix } : {})
          : createMemoryRequestRateLimiter()));

  const sessions: Sessions = {
    async create(email) {
      const id = randomToken(limits.idBytes * 2);
      const createdAt = now();
      await stores.sessions.create(id, {
        email,
        createdAt,
        expiresAt: createdAt + sessionTtl * 1000,
      });
      return { id, maxAgeSeconds: sessionTtl };
    },
    async get(id) {
      if (id === undefined) return null;
      const record = await stores.sessions.get(id);
      return record && record.expiresAt > now() ? record : null;
    },
    async destroy(id) {
      if (id !== undefined) await stores.sessions.destroy(id);
    },
  };

  return {
    endpoint,
    stores,
    discovery,
    associations,
    sessions,
    newBrowserId: () => randomToken(limits.idBytes * 2),
    settled: async () => {
      while (background.size > 0) await Promise.all(background);
      await Promise.all([associations.settled(), discovery.settled()]);
    },
    close: async () => {
      await outbound.close();
      await closeRedis?.();
    },

    async limit(clientKey) {
      if (rateLimiter && !(await rateLimiter.take(clientKey, now()))) {
        throw new BssoError('rate_limited', 'Too many sign-in requests; try again later.');
      }
    },

    async challenge({ browserId, domain }) {
      const name = parseDomain(domain);
      const nonce = createNonce();
      let handle: { handle: string; expiresAt: number } | null = null;
      if (mode === 'association') {
        // A provider that cannot be found or associated with leaves direct verification.
        const lookup = () =>
          providerOrBroker(discovery, brokers, name).then((config) => associations.current(config));
        if (associateInBackground && !(await readyForDomain(name))) {
          // Nothing to wait for in this sign-in: it verifies directly, the next gets a handle.
          inBackground(lookup().catch(() => null));
        } else {
          handle = await lookup().catch(() => null);
        }
      }
      const expiresAt = now() + nonceTtl * 1000;
      await stores.nonces.put(nonce, { browserId, expiresAt });
      if (!handle) return { nonce, expires_in: nonceTtl };
      const answer: ChallengeAnswer = { nonce, handle: handle.handle, expires_in: nonceTtl };
      // With page challenges the extension may reuse the handle while it stays verifiable.
      const left = Math.floor((handle.expiresAt - now()) / 1000);
      if (pageChallengesOn && left > 0) {
        const keys = await pageKeys().catch(() => undefined);
        if (keys) Object.assign(answer, { handle_expires_in: left, handle_set: keys.handleSet });
      }
      return answer;
    },

    async pageChallenge(cookieHeader) {
      if (!pageChallengesOn) return null;
      let keys: Awaited<ReturnType<typeof pageKeys>>;
      try {
        keys = await pageKeys();
      } catch {
        return null;
      }
      let browserId = readCookie(cookieHeader, BROWSER_COOKIE);
      let setCookie: string | undefined;
      if (browserId === undefined) {
        browserId = randomToken(limits.idBytes * 2);
        setCookie = browserCookie(browserId);
      }
      const nonce = createPageNonce(keys.key, browserId, now() + pageNonceTtl * 1000);
      const challenge = { nonce, expiresIn: pageNonceTtl, handleSet: keys.handleSet };
      return setCookie === undefined ? { challenge } : { challenge, setCookie };
    },

    providerFor: (domain) => providerOrBroker(discovery, brokers, parseDomain(domain)),

    verify(input) {
      return verifyAssertion(
        {
          audience: endpoint.href,
          nonces: nonceConsumer(stores.nonces, pageKeys, input.browserId, now),
          discovery,
          brokers,
          associations,
          outbound,
          now,
          clockSkewSeconds: skew,
        },
        input,
      );
    },
  };
}

// A domain that names no provider gets the first broker's handle (protocol-spec.md#fallback).
async function providerOrBroker(discovery: Discovery, brokers: Brokers, domain: string) {
  try {
    return await discovery.forDomain(domain);
  } catch (err) {
    const first = brokers.issuers[0];
    if (err instanceof BssoError && err.code === 'no_provider' && first !== undefined) {
      return brokers.configFor(first);
    }
    throw err;
  }
}

// The development switch `discovery.allowPrivateAddresses` turns the public-network guard off
// for every outbound request, not only discovery's.
function outboundOptions(options: SiteCoreOptions): OutboundOptions {
  const outbound = options.outbound ?? {};
  if (options.discovery?.allowPrivateAddresses !== true) return outbound;
  return { ...outbound, network: { ...outbound.network, allowPrivateAddresses: true } };
}
