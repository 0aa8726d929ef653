// Everything a route needs, built once by createProvider (no module-level state).
import type { AccountService } from './accounts.ts';
import type { AccountBackend } from './backends/index.ts';
import type { Broker } from './broker/index.ts';
import type { ResolvedProviderOptions } from './config.ts';
import type { SessionManager } from './http/sessions.ts';
import type { SigningKeys } from './keys.ts';
import type { Metrics } from './metrics.ts';
import type { Limiters } from './rate-limit.ts';
import type { Stores } from './storage/types.ts';

export interface ProviderContext {
  config: ResolvedProviderOptions;
  stores: Stores;
  keys: SigningKeys;
  sessions: SessionManager;
  accounts: AccountService;
  /** Who checks credentials at sign-in (builtin, IMAP, LDAP, upstream OpenID provider). */
  backend: AccountBackend;
  /** Throttles: sign-in failures, associations and assertion requests. */
  limiters: Limiters;
  /** Counters and histograms for /metrics (metrics.ts). */
  metrics: Metrics;
  /** Set when shutdown begins: /readyz answers 503 and answers close their connection. */
  lifecycle: { draining: boolean };
  /** Broker mode (protocol-spec.md#fallback), when configured. */
  broker?: Broker;
}
