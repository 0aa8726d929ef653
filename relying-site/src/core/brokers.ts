// Fallback brokers of a site (protocol-spec.md#fallback): the issuers the site accepts for
// addresses of domains that name no provider, never for a domain that names one (threat 46).
// Each broker's configuration is read from its issuer's well-known URL through the site's
// outbound guard, and cached like a discovery result.
import { BssoError, fetchIssuerConfig, type ProviderConfig, parseBareOrigin } from '@bsso/protocol';
import type { Outbound } from './outbound.ts';

export interface Brokers {
  /** The listed broker issuers, in the order given; empty when brokers are off. */
  readonly issuers: readonly string[];
  /** The configuration of a listed broker (cached); `invalid_issuer` for any other issuer. */
  configFor(issuer: string): Promise<ProviderConfig>;
}

export interface BrokerPolicy {
  allowLocalhostHttp?: boolean;
  /** How long a broker's configuration is remembered, in seconds. Default 3600. */
  cacheTtlSeconds?: number;
  timeoutMs?: number;
}

/**
 * Validates `fallbackBrokers` once at start: an array of bare https origins (http only on
 * localhost under the development override), without duplicates. Throws a TypeError.
 */
export function parseFallbackBrokers(value: unknown, allowLocalhostHttp = false): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError('fallbackBrokers must be an array of origins.');
  const out: string[] = [];
  for (const item of value) {
    let origin: string;
    try {
      origin = parseBareOrigin(item, { allowLocalhostHttp });
    } catch {
      throw new TypeError(`fallbackBrokers: ${String(item)} is not a bare https origin.`);
    }
    if (out.includes(origin)) {
      throw new TypeError(`fallbackBrokers: ${origin} is listed twice.`);
    }
    out.push(origin);
  }
  return out;
}

export function createBrokers(
  issuers: readonly string[],
  outbound: Outbound,
  policy: BrokerPolicy,
  now: () => number,
): Brokers {
  const ttlMs = (policy.cacheTtlSeconds ?? 3600) * 1000;
  const cache = new Map<string, { config: ProviderConfig; expiresAt: number }>();
  const inFlight = new Map<string, Promise<ProviderConfig>>();

  async function load(issuer: string): Promise<ProviderConfig> {
    const config = await outbound.limit(
      () =>
        fetchIssuerConfig(issuer, {
          fetch: outbound.fetch,
          timeoutMs: policy.timeoutMs ?? outbound.timeoutMs,
          allowLocalhostHttp: policy.allowLocalhostHttp === true,
        }),
      'discovery',
    );
    cache.set(issuer, { config, expiresAt: now() + ttlMs });
    return config;
  }

  return {
    issuers,
    async configFor(issuer) {
      if (!issuers.includes(issuer)) {
        throw new BssoError('invalid_issuer', 'The assertion issuer is not a broker of this site.');
      }
      const cached = cache.get(issuer);
      if (cached && cached.expiresAt > now()) return cached.config;
      let pending = inFlight.get(issuer);
      if (!pending) {
        pending = load(issuer).finally(() => inFlight.delete(issuer));
        inFlight.set(issuer, pending);
      }
      return pending;
    },
  };
}
