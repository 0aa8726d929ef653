// Site-side discovery (protocol-spec.md#discovery): which provider an email domain names,
// cached per domain. Concurrent look-ups of one domain share one request. A cached record in
// the last tenth of its cache time is still answered from the cache, and refreshed in the
// background (issue 17): a sign-in waits for discovery only when the domain has no record
// or its record has expired. An expired record is never used.
import {
  BssoError,
  DOMAIN_PROBE_LOCAL_PART,
  discoverProvider,
  type ProviderConfig,
} from '@bsso/protocol';
import { isOutboundBusy, type Outbound } from './outbound.ts';
import type { DiscoveryCache } from './stores.ts';

export interface DiscoveryPolicy {
  /**
   * Development switch: let outbound requests reach any address, unchecked (the public-network
   * guard is off). Default false. Tests use `outbound.network.allowAddresses` instead.
   */
  allowPrivateAddresses?: boolean;
  /** Development override: accept http on localhost. Default false. */
  allowLocalhostHttp?: boolean;
  /** How long a domain's provider is remembered, in seconds. Default 3600. */
  cacheTtlSeconds?: number;
  /** Budget of each discovery request in ms. Default: the outbound timeout. */
  timeoutMs?: number;
  /**
   * How long a failed look-up is remembered, in seconds, so a flood naming dead or slow
   * domains makes one outbound request per domain, not one per request. Default 30.
   */
  failureCacheSeconds?: number;
}

// Failed domains remembered at most (memory stays bounded under a flood of names).
const MAX_REMEMBERED_FAILURES = 10_000;

export interface Discovery {
  /**
   * The provider configuration the domain names; `address` is used for the look-up if given.
   * Throws `no_provider` when the domain answered that it names none (protocol-spec.md#fallback).
   */
  forDomain(domain: string, address?: string): Promise<ProviderConfig>;
  /**
   * What the site already knows of the domain, without any request: its provider's issuer,
   * 'no_provider' (the domain answered that it names none), or null (not known now).
   */
  known(domain: string): Promise<string | 'no_provider' | null>;
  /** Resolves when no background refresh is running (tests, graceful shutdown). */
  settled(): Promise<void>;
}

/** A record is refreshed in the background when less than this part of its cache time is left. */
export const DISCOVERY_REFRESH_FRACTION = 0.1;

export function createDiscovery(
  cache: DiscoveryCache,
  outbound: Outbound,
  policy: DiscoveryPolicy,
  now: () => number,
): Discovery {
  const ttlMs = (policy.cacheTtlSeconds ?? 3600) * 1000;
  const failureTtlMs = (policy.failureCacheSeconds ?? 30) * 1000;
  const inFlight = new Map<string, Promise<ProviderConfig>>();
  const failures = new Map<string, { error: BssoError; until: number }>();

  function rememberFailure(domain: string, err: unknown): void {
    // Only what the domain answered (or failed to) is remembered, never the site's own queue
    // being busy: a flood must not make honest domains fail after it ends (threat 49).
    if (!(err instanceof BssoError) || isOutboundBusy(err)) return;
    // The domain's answer that it names no provider is a result, kept as long as a provider
    // would be; a failure only briefly (protocol-spec.md#fallback, rule 3).
    const ttl = err.code === 'no_provider' ? ttlMs : failureTtlMs;
    if (ttl <= 0) return;
    failures.delete(domain);
    failures.set(domain, { error: err, until: now() + ttl });
    while (failures.size > MAX_REMEMBERED_FAILURES) {
      const oldest = failures.keys().next().value;
      if (oldest === undefined) break;
      failures.delete(oldest);
    }
  }

  async function lookUp(domain: string, address: string): Promise<ProviderConfig> {
    const { config } = await outbound.limit(
      () =>
        discoverProvider(address, {
          timeoutMs: policy.timeoutMs ?? outbound.timeoutMs,
          // The guarded fetch checks the address of every connection; a name check by
          // another resolver would add a look-up and prove nothing.
          checkHostNames: false,
          allowLocalhostHttp: policy.allowLocalhostHttp === true,
          fetch: outbound.fetch,
        }),
      'discovery',
    );
    failures.delete(domain);
    await cache.set(domain, { config, expiresAt: now() + ttlMs });
    return config;
  }

  // Refreshes off the sign-in path, one per domain (a foreground look-up of the domain joins
  // it). A failure changes nothing: the good record stays until it expires and is not
  // remembered as a failure; a later look-up in the last tenth tries again.
  const background = new Set<Promise<void>>();
  function refreshInBackground(domain: string, address: string): void {
    if (inFlight.has(domain)) return;
    const pending = (async () => {
      // Another instance sharing the cache may have refreshed it meanwhile.
      const record = await cache.get(domain);
      if (record && !refreshDue(record.expiresAt, now())) return record.config;
      return lookUp(domain, address);
    })().finally(() => inFlight.delete(domain));
    inFlight.set(domain, pending);
    const refresh: Promise<void> = pending
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => background.delete(refresh));
    background.add(refresh);
  }

  const refreshDue = (expiresAt: number, t: number) =>
    expiresAt - t < ttlMs * DISCOVERY_REFRESH_FRACTION;

  return {
    async forDomain(domain, address) {
      const cached = await cache.get(domain);
      const t = now();
      if (cached && cached.expiresAt > t) {
        if (refreshDue(cached.expiresAt, t)) {
          refreshInBackground(domain, address ?? `${DOMAIN_PROBE_LOCAL_PART}@${domain}`);
        }
        return cached.config;
      }
      const failed = failures.get(domain);
      if (failed && failed.until > t) throw failed.error;
      let pending = inFlight.get(domain);
      if (!pending) {
        pending = lookUp(domain, address ?? `${DOMAIN_PROBE_LOCAL_PART}@${domain}`)
          .catch((err: unknown) => {
            rememberFailure(domain, err);
            throw err;
          })
          .finally(() => inFlight.delete(domain));
        inFlight.set(domain, pending);
      }
      return pending;
    },

    async known(domain) {
      const t = now();
      const cached = await cache.get(domain);
      if (cached && cached.expiresAt > t) return cached.config.issuer;
      const failed = failures.get(domain);
      return failed && failed.until > t && failed.error.code === 'no_provider'
        ? 'no_provider'
        : null;
    },

    async settled() {
      while (background.size > 0) await Promise.all(background);
    },
  };
}
