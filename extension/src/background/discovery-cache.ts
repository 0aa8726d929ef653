// Provider discovery with a cache in browser.storage.local, so a warm sign-in makes no
// WebFinger or configuration request. Failures are never cached.
import type { ProviderConfig } from '@bsso/protocol';
import type { StorageAreaLike } from '../shared/storage.ts';

interface DiscoveredProvider {
  issuer: string;
  assertionEndpoint: string;
}

interface DiscoveryCacheOptions {
  area: StorageAreaLike;
  /** Runs discovery; `discoverProvider` from @bsso/protocol in the extension. */
  discover: (email: string) => Promise<{ config: ProviderConfig }>;
  now: () => number;
  /** How long a discovered provider is reused. Default: one hour. */
  ttlMs?: number;
}

export type DiscoveryLookup = (email: string) => Promise<DiscoveredProvider>;

function keyFor(email: string): string {
  return `discovery:${email}`;
}

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
      typeof cached.assertionEndpoint === 'string'
    ) {
      return { issuer: cached.issuer, assertionEndpoint: cached.assertionEndpoint };
    }
    const { config } = await options.discover(email);
    const found = { issuer: config.issuer, assertionEndpoint: config.assertion_endpoint };
    await options.area.set({ [key]: { ...found, expiresAt: options.now() + ttl } });
    return found;
  };
}
