// Site-side discovery (protocol-spec.md#discovery): which provider an email domain names,
// cached per domain. Concurrent look-ups of one domain share one request.
import { DOMAIN_PROBE_LOCAL_PART, discoverProvider, type ProviderConfig } from '@bsso/protocol';
import type { Outbound } from './outbound.ts';
import type { DiscoveryCache } from './stores.ts';

export interface DiscoveryPolicy {
  /** Development and test override: let WebFinger reach private addresses. Default false. */
  allowPrivateAddresses?: boolean;
  /** Development override: accept http on localhost. Default false. */
  allowLocalhostHttp?: boolean;
  /** How long a domain's provider is remembered, in seconds. Default 3600. */
  cacheTtlSeconds?: number;
  /** Budget of each discovery request in ms. Default: the outbound timeout. */
  timeoutMs?: number;
}

export interface Discovery {
  /** The provider configuration the domain names; `address` is used for the look-up if given. */
  forDomain(domain: string, address?: string): Promise<ProviderConfig>;
}

export function createDiscovery(
  cache: DiscoveryCache,
  outbound: Outbound,
  policy: DiscoveryPolicy,
  now: () => number,
): Discovery {
  const ttlMs = (policy.cacheTtlSeconds ?? 3600) * 1000;
  const inFlight = new Map<string, Promise<ProviderConfig>>();

  async function lookUp(domain: string, address: string): Promise<ProviderConfig> {
    const { config } = await outbound.limit(() =>
      discoverProvider(address, {
        timeoutMs: policy.timeoutMs ?? outbound.timeoutMs,
        allowPrivateAddresses: policy.allowPrivateAddresses === true,
        allowLocalhostHttp: policy.allowLocalhostHttp === true,
        ...(outbound.fetch ? { fetch: outbound.fetch } : {}),
      }),
    );
    await cache.set(domain, { config, expiresAt: now() + ttlMs });
    return config;
  }

  return {
    async forDomain(domain, address) {
      const cached = await cache.get(domain);
      if (cached && cached.expiresAt > now()) return cached.config;
      let pending = inFlight.get(domain);
      if (!pending) {
        pending = lookUp(domain, address ?? `${DOMAIN_PROBE_LOCAL_PART}@${domain}`).finally(() =>
          inFlight.delete(domain),
        );
        inFlight.set(domain, pending);
      }
      return pending;
    },
  };
}
