// Options of the site core, validated once when the core is created.
import { parseSecureUrl } from '@bsso/protocol';
import type { DiscoveryPolicy } from './discovery.ts';
import type { OutboundOptions } from './outbound.ts';
import type { PageChallengeKeySource } from './page-challenge.ts';
import type { RequestRateLimiter } from './rate-limit.ts';
import type { SiteStores } from './stores.ts';

export interface SiteCoreOptions {
  /** Absolute URL of the site's BSSO endpoint, e.g. 'https://site.test/bsso'. */
  endpoint: string;
  /**
   * 'association' (default): associate with providers and verify assertions locally,
   * falling back to direct verification when no association is usable.
   * 'direct': always ask the provider.
   */
  verification?: 'association' | 'direct';
  /**
   * Storage adapters; memory by default (one process only). Several instances: set
   * `redisUrl` (nonces, sessions and caches in Redis, keys under `redisPrefix`, default
   * 'bsso-site:'), or pass `createRedisStores(url)`. Adapters given here win.
   */
  stores?: Partial<SiteStores> & { redisUrl?: string; redisPrefix?: string };
  discovery?: DiscoveryPolicy;
  /**
   * Fallback brokers (protocol-spec.md#fallback): issuers, as bare https origins, whose
   * assertions the site accepts for addresses of domains that name no provider, and only
   * those. None by default. Validated at start.
   */
  fallbackBrokers?: readonly string[];
  outbound?: OutboundOptions;
  /**
   * A challenge for a domain whose provider the site has not discovered, or holds no live
   * association with: 'wait' (default) discovers and associates first, so the challenge names
   * a handle; 'background' answers at once without one (that sign-in verifies directly) and
   * discovers and associates in the background, so no sign-in waits for the site's requests
   * to the provider (protocol-spec.md#challenge). Renewals are always in the background.
   */
  associate?: 'wait' | 'background';
  /** Session lifetime in seconds. Default 8 hours. */
  sessionTtlSeconds?: number;
  /** Challenge nonce lifetime in seconds. Default 300. */
  nonceTtlSeconds?: number;
  /**
   * Page challenges (protocol-spec.md#page-challenge): `pageChallenge()` puts a nonce into a
   * page, so a warm sign-in skips the challenge request. `ttlSeconds`: how long a page's
   * nonce stays valid (default 3600). `keys`: the MAC key and handle set; default in memory
   * (one process), or in Redis with `stores.redisUrl`. Several instances without Redis must
   * pass one shared source, or `false` (no page challenges).
   */
  pageChallenge?: { ttlSeconds?: number; keys?: PageChallengeKeySource } | false;
  /** Tolerated clock skew on assertion times, in seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Current time in ms; injected by tests. Default Date.now. */
  now?: () => number;
  /**
   * Per-client limit on challenges and deliveries. Default: memory, 120 per client per
   * minute (createMemoryRequestRateLimiter). `false` turns it off (a proxy in front limits instead).
   */
  rateLimiter?: RequestRateLimiter | false;
}

export interface ResolvedEndpoint {
  /** The endpoint URL exactly: the audience assertions must name. */
  href: string;
  origin: string;
  pathname: string;
}

export function resolveEndpoint(
  endpoint: unknown,
  allowLocalhostHttp: boolean | undefined,
): ResolvedEndpoint {
  const url = parseSecureUrl(endpoint, { allowLocalhostHttp: allowLocalhostHttp === true });
  if (url.search !== '') throw new TypeError('The BSSO endpoint must not have a query.');
  return { href: url.href, origin: url.origin, pathname: url.pathname };
}

export function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name} must be a positive number.`);
  return v;
}
