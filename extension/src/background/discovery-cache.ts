// Provider discovery with a cache in browser.storage.local, so a warm sign-in makes no
// WebFinger or configuration request. Failures are never cached.
import type { ProviderConfig } from '@bsso/protocol';
import { discoveryKey } from '../shared/broker.ts';
import type { StorageAreaLike } from '../shared/storage.ts';

interface DiscoveredProvider {
  issuer: string;
  assertionEndpoint: string;
  /** Set when the address goes through the fallback broker (protocol-spec.md#fallback). */
  broker?: string;
}

interface DiscoveryCacheOptions {
  area: StorageAreaLike;
  /** Runs discovery; `discoverProvider` from @bsso/protocol in the extension. */
  discover: (email: string) => Promise<{ config: ProviderConfig; broker?: string }>;
  now: () => number;
  /**
   * The broker now set in the options: a cached answer that went through another broker (or
   * one since cleared) is not reused.
   */
  currentBroker?: () => Promise<string | undefined>;
  /** How long a discovered provider is reused. Default: one hour. */
  ttlMs?: number;
}

export type DiscoveryLookup = (email: string) => Promise<DiscoveredProvider>;

const keyFor = discoveryKey;

export function createDiscoveryCache(options: DiscoveryCacheOptions): DiscoveryLookup {
  const ttl = options.ttlMs ?? 60 * 60 * 1000;
  return async (email) => {
    const key = keyFor(email);
    const cached = (await options.area.get(key))[key] as
      | (DiscoveredProvider & { expiresAt?: unknown })
      | undefined;
    if (
      cached &&
      typeof cached.expiresAt === 'number' &&
      cached.expiresAt > options.now() &&
      typeof cached.issuer === 'string' &&
      typeof cached.assertionEndpoint === 'string' &&
      (typeof cached.broker !== 'string' || cached.broker === (await options.currentBroker?.()))
    ) {
      return {
        issuer: cached.issuer,
        assertionEndpoint: cached.assertionEndpoint,
        ...(typeof cached.broker === 'string' ? { broker: cached.broker } : {}),
      };
    }
    const { config, broker } = await options.discover(email);
    const found: DiscoveredProvider = {
      issuer: config.issuer,
      assertionEndpoint: config.assertion_endpoint,
      ...(broker === undefined ? {} : { broker }),
    };
    await options.area.set({ [key]: { ...found, expiresAt: options.now() + ttl } });
    return found;
  };
}
