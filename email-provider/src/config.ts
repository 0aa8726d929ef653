// Provider options: what createProvider takes (ProviderOptions), validated once at start into
// ResolvedProviderOptions (not the wire configuration document, protocol's ProviderConfig).
import { limits, parseDomain, parseSecureUrl, type UrlPolicy } from '@bsso/protocol';
import {
  type AccountBackendOptions,
  type ResolvedAccountBackend,
  resolveAccountBackend,
} from './backends/options.ts';
import {
  type BrokerOptions,
  type ResolvedBrokerOptions,
  resolveBrokerOptions,
} from './broker/options.ts';
import { createJsonLogger, type Logger } from './log.ts';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.ts';

export interface ProviderOptions {
  /** The provider's issuer: a bare https origin, e.g. 'https://mail.test'. */
  issuer: string;
  /** Email domains served, e.g. ['mail.test']. */
  domains: string[];
  /** Directory of the SQLite file and the signing keys; created if missing. */
  dataDir: string;
  /** Session idle timeout; default 8 hours. */
  sessionIdleSeconds?: number;
  /** Session lifetime regardless of use; default 30 days. */
  sessionAbsoluteSeconds?: number;
  /** Lifetime of issued assertions; default limits.defaultAssertionLifetimeSeconds. */
  assertionLifetimeSeconds?: number;
  /** Lifetime of associations; default 3600. */
  associationLifetimeSeconds?: number;
  /** Whether /signup lets anyone create an account; default false. */
  signupEnabled?: boolean;
  /**
   * Express 'trust proxy' (req.ip, and so every per-client rate limit, behind a proxy):
   * false (default; the peer address), a number of proxy hops (1 behind one reverse proxy),
   * or proxy addresses / CIDRs / 'loopback' (array or comma list); see trust-proxy.ts.
   */
  trustProxy?: boolean | number | string | string[];
  /** When set, only these extension origins may ask for assertions. */
  allowedExtensionOrigins?: string[];
  /** Development override: http on localhost is a secure URL (UrlPolicy); default false. */
  developmentAllowLocalhostHttp?: boolean;
  /** Clock in ms since the epoch; default Date.now. */
  now?: () => number;
  /** Structured logger; default JSON lines on stderr. */
  logger?: Logger;
  /**
   * Failed sign-ins per account from one client address per 15 minutes before that client
   * is throttled on that account; default 5. Other clients are not: a wrong password typed
   * by someone else never locks the account's owner out.
   */
  signinFailuresPerAccount?: number;
  /**
   * Failed sign-ins per account from all clients together per 15 minutes before the account
   * is slowed down (each client gets one attempt a minute on it; no hard lock); default 100.
   */
  signinFailuresPerAccountAllClients?: number;
  /** Failed sign-ins per client IP per 15 minutes before throttling; default 20. */
  signinFailuresPerIp?: number;
  /**
   * While an account is slowed down: sign-in attempts on it per 15 minutes from all clients
   * that never signed in to it before, together; default 30. Clients that did (within 30
   * days) are not counted, so many attackers cannot guess without bound, nor keep the owner
   * out on a client the owner used before.
   */
  signinUnknownClientsPerAccount?: number;
  /** New associations per client address per minute; default 60. */
  associationsPerIpPerMinute?: number;
  /** Assertion requests per client address per minute; default 240. */
  assertionsPerClientPerMinute?: number;
  /** Assertion requests per provider session per minute; default 60. */
  assertionsPerSessionPerMinute?: number;
  /** Interval of the expiry sweep in ms; 0 turns it off; default 10 minutes. */
  sweepIntervalMs?: number;
  /**
   * PostgreSQL URL: accounts, associations and the issued log live there instead of the
   * SQLite file, shared by every instance. Default unset (SQLite in dataDir).
   */
  databaseUrl?: string;
  /** PostgreSQL schema of the provider's tables; default 'bsso'. */
  databaseSchema?: string;
  /**
   * Redis URL: sessions, used assertion ids and rate limits live there, shared by every
   * instance. Default unset (the database and per-process memory).
   */
  redisUrl?: string;
  /** Prefix of the provider's Redis keys; default 'bsso:<issuer host>:'. */
  redisKeyPrefix?: string;
  /**
   * Who checks a user's credentials at sign-in: the provider's own accounts ('builtin',
   * default), the mail server (IMAP), a directory (LDAP) or the company's OpenID provider
   * (see backends/options.ts). Sign-up needs 'builtin'.
   */
  accountBackend?: AccountBackendOptions;
  /**
   * Bearer token for GET /metrics (Prometheus). Unset (default): no /metrics at all. At
   * least 32 visible ASCII characters (e.g. `openssl rand -hex 32`).
   */
  metricsToken?: string;
  /**
   * Broker mode (protocol-spec.md#fallback): also serve addresses of any domain whose own
   * discovery names no provider, proved by a one-time code mailed over SMTP. Default off.
   */
  broker?: BrokerOptions;
}

export interface ResolvedProviderOptions {
  issuer: string;
  domains: ReadonlySet<string>;
  dataDir: string;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  assertionLifetimeSeconds: number;
  associationLifetimeSeconds: number;
  signupEnabled: boolean;
  trustProxy: TrustProxy;
  allowedExtensionOrigins: ReadonlySet<string> | undefined;
  urlPolicy: UrlPolicy;
  now: () => number;
  logger: Logger;
  signinFailuresPerAccount: number;
  signinFailuresPerAccountAllClients: number;
  signinFailuresPerIp: number;
  signinUnknownClientsPerAccount: number;
  associationsPerIpPerMinute: number;
  assertionsPerClientPerMinute: number;
  assertionsPerSessionPerMinute: number;
  sweepIntervalMs: number;
  databaseUrl: string | undefined;
  databaseSchema: string;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  accountBackend: ResolvedAccountBackend;
  metricsToken: string | undefined;
  broker: ResolvedBrokerOptions | undefined;
}

const EXTENSION_ORIGIN = /^(chrome-extension|moz-extension):\/\/[a-z0-9-]{1,64}$/;

/**
 * Whether an Origin header names a browser extension (protocol-spec.md#provider-processing,
 * Assertion endpoint step 1; threat 11).
 */
export function isExtensionOrigin(origin: string): boolean {
  return EXTENSION_ORIGIN.test(origin);
}

function positiveInt(name: string, value: number | undefined, fallback: number, max: number) {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0 || v > max) {
    throw new TypeError(`${name} must be an integer from 1 to ${max}.`);
  }
  return v;
}

function serviceUrl(name: string, value: string | undefined, protocols: string[]) {
  if (value === undefined || value === '') return undefined;
  if (!URL.canParse(value) || !protocols.includes(new URL(value).protocol)) {
    throw new TypeError(`${name} must be a ${protocols.join(' or ')}// URL.`);
  }
  return value;
}

export function resolveProviderOptions(config: ProviderOptions): ResolvedProviderOptions {
  const urlPolicy: UrlPolicy = {
    allowLocalhostHttp: config.developmentAllowLocalhostHttp === true,
  };
  const issuerUrl = parseSecureUrl(config.issuer, urlPolicy);
  if (config.issuer !== issuerUrl.origin) {
    throw new TypeError(`issuer must be a bare origin like ${issuerUrl.origin}.`);
  }
  if (!Array.isArray(config.domains) || config.domains.length === 0) {
    throw new TypeError('domains must list at least one email domain.');
  }
  const domains = new Set(config.domains.map((d) => parseDomain(d)));
  if (typeof config.dataDir !== 'string' || config.dataDir === '') {
    throw new TypeError('dataDir is required.');
  }
  const allowed = config.allowedExtensionOrigins;
  if (allowed?.some((o) => !isExtensionOrigin(o))) {
    throw new TypeError('allowedExtensionOrigins must be chrome-extension:// or moz-extension://.');
  }
  const accountBackend = resolveAccountBackend(config.accountBackend, urlPolicy);
  if (config.signupEnabled === true && accountBackend.type !== 'builtin') {
    throw new TypeError(
      `signupEnabled needs the builtin account back-end: ${accountBackend.type} accounts are made where they live.`,
    );
  }
  if (accountBackend.type === 'imap' && accountBackend.login === 'local-part' && domains.size > 1) {
    // alice@a.example and alice@b.example would both log in as 'alice'.
    throw new TypeError('accountBackend.login local-part needs exactly one domain.');
  }
  const year = 366 * 24 * 3600;
  const broker = config.broker === undefined ? undefined : resolveBrokerOptions(config.broker);
  return {
    broker,
    issuer: issuerUrl.origin,
    domains,
    dataDir: config.dataDir,
    sessionIdleMs:
      positiveInt('sessionIdleSeconds', config.sessionIdleSeconds, 8 * 3600, year) * 1000,
    sessionAbsoluteMs:
      positiveInt('sessionAbsoluteSeconds', config.sessionAbsoluteSeconds, 30 * 86400, year) * 1000,
    assertionLifetimeSeconds: positiveInt(
      'assertionLifetimeSeconds',
      config.assertionLifetimeSeconds,
      limits.defaultAssertionLifetimeSeconds,
      limits.maxAssertionLifetimeSeconds,
    ),
    associationLifetimeSeconds: (() => {
      const v = positiveInt(
        'associationLifetimeSeconds',
        config.associationLifetimeSeconds,
        3600,
        limits.maxAssociationLifetimeSeconds,
      );
      if (v < limits.minAssociationLifetimeSeconds) {
        throw new TypeError(
          `associationLifetimeSeconds must be at least ${limits.minAssociationLifetimeSeconds}.`,
        );
      }
      return v;
    })(),
    signupEnabled: config.signupEnabled === true,
    trustProxy: parseTrustProxy(config.trustProxy),
    allowedExtensionOrigins: allowed ? new Set(allowed) : undefined,
    urlPolicy,
    now: config.now ?? Date.now,
    logger: config.logger ?? createJsonLogger(),
    signinFailuresPerAccount: positiveInt(
      'signinFailuresPerAccount',
      config.signinFailuresPerAccount,
      5,
      10_000,
    ),
    signinFailuresPerAccountAllClients: positiveInt(
      'signinFailuresPerAccountAllClients',
      config.signinFailuresPerAccountAllClients,
      100,
      1_000_000,
    ),
    signinUnknownClientsPerAccount: positiveInt(
      'signinUnknownClientsPerAccount',
      config.signinUnknownClientsPerAccount,
      30,
      1_000_000,
    ),
    signinFailuresPerIp: positiveInt(
      'signinFailuresPerIp',
      config.signinFailuresPerIp,
      20,
      100_000,
    ),
    associationsPerIpPerMinute: positiveInt(
      'associationsPerIpPerMinute',
      config.associationsPerIpPerMinute,
      60,
      100_000,
    ),
    assertionsPerClientPerMinute: positiveInt(
      'assertionsPerClientPerMinute',
      config.assertionsPerClientPerMinute,
      240,
      10_000_000,
    ),
    assertionsPerSessionPerMinute: positiveInt(
      'assertionsPerSessionPerMinute',
      config.assertionsPerSessionPerMinute,
      60,
      10_000_000,
    ),
    sweepIntervalMs: config.sweepIntervalMs ?? 10 * 60 * 1000,
    databaseUrl: serviceUrl('databaseUrl', config.databaseUrl, ['postgres:', 'postgresql:']),
    databaseSchema: config.databaseSchema ?? 'bsso',
    redisUrl: serviceUrl('redisUrl', config.redisUrl, ['redis:', 'rediss:']),
    redisKeyPrefix: config.redisKeyPrefix ?? `bsso:${issuerUrl.host}:`,
    accountBackend,
    metricsToken: metricsToken(config.metricsToken),
  };
}

function metricsToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[\x21-\x7e]{32,512}$/.test(value)) {
    throw new TypeError('metricsToken must be 32 to 512 visible ASCII characters.');
  }
  return value;
}
