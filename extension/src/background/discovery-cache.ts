// Provider discovery with a cache in browser.storage.local, so a warm sign-in makes no
// WebFinger or configuration request. Failures are never cached.
//
// An entry is used until it expires (one hour by default), never after. Once it is in the
// last part of its life (the last quarter by default) a lookup still answers from it at once
// and starts one discovery in the background to replace it: so a user who signs in now and
// then seldom waits for discovery. Lookups only happen once the user has agreed to a sign-in
// (protocol-spec.md#extension-processing, step 3), so neither kind of discovery ever leaves
// the browser before the user's click. One discovery per address at a time (a lookup that
// misses while one runs waits for it); a failed refresh leaves the entry as it was.
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
  /**
   * A lookup that finds an entry with less than this left refreshes it in the background.
   * Default: a quarter of `ttlMs`. 0 turns background refreshes off.
   */
  refreshBeforeExpiryMs?: number;
  /** Told of a background refresh that failed (the entry stays as it was). */
  onRefreshError?: (email: string, err: unknown) => void;
}

export type DiscoveryLookup = ((email: string) => Promise<DiscoveredProvider>) & {
  /** The cached provider of the address, or null: never a request (but maybe a refresh). */
  cached?: (email: string) => Promise<DiscoveredProvider | null>;
};

const keyFor = discoveryKey;

export function createDiscoveryCache(options: DiscoveryCacheOptions): DiscoveryLookup {
  const ttl = options.ttlMs ?? 60 * 60 * 1000;
  const refreshBefore = options.refreshBeforeExpiryMs ?? ttl / 4;
  /** Per address, the discovery under way (a miss or a refresh). */
  const running = new Map<string, Promise<DiscoveredProvider>>();

  const discover = (email: string): Promise<DiscoveredProvider> => {
    const already = running.get(email);
    if (already) return already;
    const run = (async () => {
      const { config, broker } = await options.discover(email);
      const found: DiscoveredProvider = {
        issuer: config.issuer,
        assertionEndpoint: config.assertion_endpoint,
        ...(broker === undefined ? {} : { broker }),
      };
      await options.area.set({ [keyFor(email)]: { ...found, expiresAt: options.now() + ttl } });
      return found;
    })();
    running.set(email, run);
    const done = () => {
      if (running.get(email) === run) running.delete(email);
    };
    run.then(done, done);
    return run;
  };

  const cached = async (email: string): Promise<DiscoveredProvider | null> => {
    const key = keyFor(email);
    const entry = (await options.area.get(key))[key] as
      | (DiscoveredProvider & { expiresAt?: unknown })
      | undefined;
    const now = options.now();
    if (
      entry &&
      typeof entry.expiresAt === 'number' &&
      entry.expiresAt > now &&
      typeof entry.issuer === 'string' &&
      typeof entry.assertionEndpoint === 'string' &&
      (typeof entry.broker !== 'string' || entry.broker === (await options.currentBroker?.()))
    ) {
      if (entry.expiresAt - now <= refreshBefore && !running.has(email)) {
        discover(email).catch((err: unknown) => options.onRefreshError?.(email, err));
      }
      return {
        issuer: entry.issuer,
        assertionEndpoint: entry.assertionEndpoint,
        ...(typeof entry.broker === 'string' ? { broker: entry.broker } : {}),
      };
    }
    return null;
  };
  const lookup: DiscoveryLookup = async (email) => (await cached(email)) ?? discover(email);
  lookup.cached = cached;
  return lookup;
}
