// Reads the server's settings from an environment object (main.ts passes process.env once).
import { readFileSync } from 'node:fs';
import { readAccountBackend } from './backends/env.ts';
import { readBrokerEnv } from './broker/env.ts';

export { readAccountBackendType } from './backends/env.ts';

import type { ProviderOptions } from './config.ts';
import { parseTrustProxy } from './trust-proxy.ts';

export interface ServerSettings {
  provider: ProviderOptions;
  port: number;
  host: string;
  /**
   * TLS certificate and key file paths; absent in development http mode and behind a
   * reverse proxy that terminates TLS (BSSO_BEHIND_TLS_PROXY=1).
   */
  tls?: { certFile: string; keyFile: string };
  /** Plain http to a reverse proxy that terminates TLS (the issuer stays https). */
  behindTlsProxy: boolean;
  /** How long SIGTERM waits for requests in flight before cutting them; default 10 s. */
  shutdownTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is required.`);
  return value;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function flag(env: Env, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new Error(`${name} must be 1/true or 0/false.`);
}

/** The first line of a secret's file: secrets stay out of the environment and the unit. */
function firstLine(name: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${name}: cannot read ${file}.`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error(`${name}: ${file} is empty.`);
  return line;
}

/**
 * BSSO_ISSUER, BSSO_DOMAINS (comma list), BSSO_DATA_DIR, BSSO_PORT (default 8443),
 * BSSO_HOST (default 0.0.0.0), BSSO_TLS_CERT + BSSO_TLS_KEY (PEM file paths; required unless
 * BSSO_DEVELOPMENT_HTTP=1, which also allows http://localhost URLs), BSSO_SIGNUP=1,
 * BSSO_TRUST_PROXY (hop count, true/false, or comma list of proxy addresses, CIDRs and
 * loopback / linklocal / uniquelocal; see trust-proxy.ts), BSSO_EXTENSION_ORIGINS (comma list),
 * DATABASE_URL (PostgreSQL) + BSSO_DATABASE_SCHEMA, REDIS_URL + BSSO_REDIS_PREFIX (shared
 * stores for several instances; see config.ts), BSSO_ACCOUNT_BACKEND and its variables
 * (builtin, imap, ldap, oidc; see backends/env.ts), BSSO_METRICS_TOKEN_FILE (a file whose
 * first line is the bearer token of /metrics; unset: no /metrics), BSSO_SHUTDOWN_TIMEOUT_MS
 * (default 10000: how long SIGTERM lets requests in flight finish), BSSO_BEHIND_TLS_PROXY=1
 * (plain http to a reverse proxy that terminates TLS, e.g. nginx on the same host; needs
 * BSSO_TRUST_PROXY, refuses BSSO_TLS_CERT; URLs stay https-only).
 */
export function readServerSettings(env: Env): ServerSettings {
  const developmentHttp = flag(env, 'BSSO_DEVELOPMENT_HTTP');
  const domains = list(required(env, 'BSSO_DOMAINS'));
  const port = Number(env.BSSO_PORT ?? '8443');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error('BSSO_PORT must be a port number.');
  }
  const provider: ProviderOptions = {
    issuer: required(env, 'BSSO_ISSUER'),
    domains,
    dataDir: required(env, 'BSSO_DATA_DIR'),
    signupEnabled: flag(env, 'BSSO_SIGNUP'),
    developmentAllowLocalhostHttp: developmentHttp,
    accountBackend: readAccountBackend(env),
  };
  if (env.BSSO_TRUST_PROXY !== undefined) {
    provider.trustProxy = parseTrustProxy(env.BSSO_TRUST_PROXY.trim(), 'BSSO_TRUST_PROXY');
  }
  const shared = {
    databaseUrl: env.DATABASE_URL,
    databaseSchema: env.BSSO_DATABASE_SCHEMA,
    redisUrl: env.REDIS_URL,
    redisKeyPrefix: env.BSSO_REDIS_PREFIX,
  } as const;
  for (const [name, value] of Object.entries(shared)) {
    if (value?.trim()) provider[name as keyof typeof shared] = value.trim();
  }
  // Broker mode (protocol-spec.md#fallback): BSSO_BROKER=1 and its variables, broker/env.ts.
  const broker = readBrokerEnv(env);
  if (broker) provider.broker = broker;
  const origins = list(env.BSSO_EXTENSION_ORIGINS);
  if (origins.length > 0) provider.allowedExtensionOrigins = origins;
  const metricsFile = env.BSSO_METRICS_TOKEN_FILE?.trim();
  if (metricsFile) provider.metricsToken = firstLine('BSSO_METRICS_TOKEN_FILE', metricsFile);
  const shutdownTimeoutMs = Number(env.BSSO_SHUTDOWN_TIMEOUT_MS?.trim() || '10000');
  if (
    !Number.isInteger(shutdownTimeoutMs) ||
    shutdownTimeoutMs < 0 ||
    shutdownTimeoutMs > 600_000
  ) {
    throw new Error('BSSO_SHUTDOWN_TIMEOUT_MS must be milliseconds from 0 to 600000.');
  }
  const behindTlsProxy = flag(env, 'BSSO_BEHIND_TLS_PROXY');
  const settings: ServerSettings = {
    provider,
    port,
    host: env.BSSO_HOST ?? '0.0.0.0',
    shutdownTimeoutMs,
    behindTlsProxy,
  };
  const certFile = env.BSSO_TLS_CERT;
  const keyFile = env.BSSO_TLS_KEY;
  if (behindTlsProxy) {
    if (certFile || keyFile) {
      throw new Error(
        'BSSO_BEHIND_TLS_PROXY=1 serves plain http: unset BSSO_TLS_CERT and BSSO_TLS_KEY.',
      );
    }
    if (
      provider.trustProxy === undefined ||
      provider.trustProxy === false ||
      provider.trustProxy === 0
    ) {
      throw new Error(
        "BSSO_BEHIND_TLS_PROXY=1 needs BSSO_TRUST_PROXY (e.g. 1 behind one nginx): otherwise every client shares the proxy's rate limits.",
      );
    }
  } else if (certFile && keyFile) settings.tls = { certFile, keyFile };
  else if (certFile || keyFile) throw new Error('Set both BSSO_TLS_CERT and BSSO_TLS_KEY.');
  else if (!developmentHttp) {
    throw new Error('BSSO_TLS_CERT and BSSO_TLS_KEY are required (or BSSO_DEVELOPMENT_HTTP=1).');
  }
  return settings;
}
