// The extension's fallback broker (protocol-spec.md#fallback, rule 6): when discovery of an
// address's domain answers that the domain names no provider (no_provider: a WebFinger 404
// or a JRD without the BSSO link), the broker set in the options speaks for the address. Any
// other discovery failure (timeout, 5xx, TLS) stays an error: never a reason to use it.
import {
  BssoError,
  type FetchLike,
  fetchIssuerConfig,
  type ProviderConfig,
  parseBareOrigin,
} from '@bsso/protocol';
import type { StorageAreaLike } from './storage.ts';

/** storage.local key of the broker's issuer (a bare https origin). */
export const BROKER_KEY = 'fallbackBroker';

/** A bare https origin, or throws `insecure_url` / `invalid_request`. */
export const parseBrokerOrigin = (value: unknown): string => parseBareOrigin(value);

export async function readBroker(area: StorageAreaLike): Promise<string | undefined> {
  const value = (await area.get(BROKER_KEY))[BROKER_KEY];
  try {
    return value === undefined ? undefined : parseBrokerOrigin(value);
  } catch {
    return undefined;
  }
}

/** Sets the broker (validated), or clears it with '' or undefined. */
export async function setBroker(area: StorageAreaLike, value: string | undefined): Promise<void> {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') {
    await area.remove(BROKER_KEY);
    return;
  }
  await area.set({ [BROKER_KEY]: parseBrokerOrigin(trimmed) });
}

/** storage.local key of an address's cached discovery (the background's discovery cache). */
export function discoveryKey(email: string): string {
  return `discovery:${email}`;
}

/** Of `emails`, those whose last discovery went through a broker, with that broker. */
export async function brokeredAddresses(
  area: StorageAreaLike,
  emails: readonly string[],
): Promise<Map<string, string>> {
  const got = await area.get(emails.map(discoveryKey));
  const out = new Map<string, string>();
  for (const email of emails) {
    const record = got[discoveryKey(email)] as { broker?: unknown } | undefined;
    if (typeof record?.broker === 'string') out.set(email, record.broker);
  }
  return out;
}

export interface Discovered {
  config: ProviderConfig;
  /** The broker's issuer when the address goes through the fallback broker. */
  broker?: string;
}

export interface BrokerFallbackOptions {
  /** The domain's own discovery (`discoverProvider`). */
  discover: (email: string) => Promise<{ config: ProviderConfig }>;
  /** The broker set in the options, if any. */
  broker: () => Promise<string | undefined>;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** Discovery that falls back to the broker only on the domain's answer `no_provider`. */
export function withBrokerFallback(
  options: BrokerFallbackOptions,
): (email: string) => Promise<Discovered> {
  return async (email) => {
    try {
      return await options.discover(email);
    } catch (err) {
      if (!(err instanceof BssoError) || err.code !== 'no_provider') throw err;
      const broker = await options.broker();
      if (broker === undefined) throw err;
      const config = await fetchIssuerConfig(broker, {
        ...(options.fetch ? { fetch: options.fetch } : {}),
        timeoutMs: options.timeoutMs ?? 15_000,
      });
      return { config, broker };
    }
  };
}
