// The account back-end's environment variables (read by env.ts, which main.ts hands
// process.env once). Variables of a back-end that is not chosen are refused, so a typo in
// BSSO_ACCOUNT_BACKEND cannot silently fall back to other accounts.
import { readFileSync } from 'node:fs';
import {
  ACCOUNT_BACKEND_TYPES,
  type AccountBackendOptions,
  type AccountBackendType,
  type ImapBackendOptions,
  type LdapBackendOptions,
  type OidcBackendOptions,
} from './options.ts';

type Env = Record<string, string | undefined>;

const PREFIXES: Record<Exclude<AccountBackendType, 'builtin'>, string> = {
  imap: 'BSSO_IMAP_',
  ldap: 'BSSO_LDAP_',
  oidc: 'BSSO_OIDC_',
};

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === '' ? undefined : v;
}

function required(env: Env, name: string, backend: string): string {
  const v = value(env, name);
  if (v === undefined) throw new Error(`${name} is required with BSSO_ACCOUNT_BACKEND=${backend}.`);
  return v;
}

/** A secret from a file (first line), so it stays out of the environment and the unit file. */
function secretFile(env: Env, name: string, backend: string): string {
  const file = required(env, name, backend);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${name}: cannot read ${file}.`);
  }
  const secret = text.split(/\r?\n/)[0] ?? '';
  if (secret === '') throw new Error(`${name}: ${file} is empty.`);
  return secret;
}

function int(env: Env, name: string): number | undefined {
  const v = value(env, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(v)) throw new Error(`${name} must be a whole number.`);
  return Number(v);
}

function optional<T extends object>(entries: Record<string, unknown>): Partial<T> {
  return Object.fromEntries(
    Object.entries(entries).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** The type name, checked; default 'builtin'. */
export function readAccountBackendType(env: Env): AccountBackendType {
  const type = value(env, 'BSSO_ACCOUNT_BACKEND') ?? 'builtin';
  if (!ACCOUNT_BACKEND_TYPES.includes(type as AccountBackendType)) {
    throw new Error(`BSSO_ACCOUNT_BACKEND must be one of ${ACCOUNT_BACKEND_TYPES.join(', ')}.`);
  }
  return type as AccountBackendType;
}

/**
 * BSSO_ACCOUNT_BACKEND (builtin | imap | ldap | oidc; default builtin),
 * BSSO_BACKEND_TIMEOUT_MS (time budget of one check; default 10000);
 * imap: BSSO_IMAP_HOST, BSSO_IMAP_PORT, BSSO_IMAP_TLS (implicit | starttls),
 *   BSSO_IMAP_CA_FILE, BSSO_IMAP_SERVERNAME, BSSO_IMAP_LOGIN (address | local-part);
 * ldap: BSSO_LDAP_URL, BSSO_LDAP_BASE_DN, BSSO_LDAP_MAIL_ATTRIBUTE, BSSO_LDAP_BIND_DN +
 *   BSSO_LDAP_BIND_PASSWORD_FILE, BSSO_LDAP_CA_FILE, BSSO_LDAP_SERVERNAME;
 * oidc: BSSO_OIDC_ISSUER, BSSO_OIDC_CLIENT_ID, BSSO_OIDC_CLIENT_SECRET_FILE, BSSO_OIDC_LABEL,
 *   BSSO_OIDC_CA_FILE.
 */
export function readAccountBackend(env: Env): AccountBackendOptions {
  const type = readAccountBackendType(env);
  for (const [other, prefix] of Object.entries(PREFIXES)) {
    if (other === type) continue;
    const stray = Object.keys(env).find((k) => k.startsWith(prefix) && value(env, k) !== undefined);
    if (stray) throw new Error(`${stray} is set but BSSO_ACCOUNT_BACKEND is ${type}.`);
  }
  const timeoutMs = int(env, 'BSSO_BACKEND_TIMEOUT_MS');
  if (type === 'builtin') {
    if (timeoutMs !== undefined)
      throw new Error('BSSO_BACKEND_TIMEOUT_MS needs an external back-end.');
    return { type };
  }
  if (type === 'imap') {
    const tls = value(env, 'BSSO_IMAP_TLS');
    const login = value(env, 'BSSO_IMAP_LOGIN');
    if (tls !== undefined && tls !== 'implicit' && tls !== 'starttls') {
      throw new Error('BSSO_IMAP_TLS must be implicit or starttls.');
    }
    if (login !== undefined && login !== 'address' && login !== 'local-part') {
      throw new Error('BSSO_IMAP_LOGIN must be address or local-part.');
    }
    return {
      type,
      host: required(env, 'BSSO_IMAP_HOST', type),
      ...optional<Omit<ImapBackendOptions, 'type'>>({
        port: int(env, 'BSSO_IMAP_PORT'),
        tls,
        login,
        caFile: value(env, 'BSSO_IMAP_CA_FILE'),
        servername: value(env, 'BSSO_IMAP_SERVERNAME'),
        timeoutMs,
      }),
    };
  }
  if (type === 'ldap') {
    const bindDn = value(env, 'BSSO_LDAP_BIND_DN');
    const passwordFile = value(env, 'BSSO_LDAP_BIND_PASSWORD_FILE');
    if ((bindDn === undefined) !== (passwordFile === undefined)) {
      throw new Error('Set both BSSO_LDAP_BIND_DN and BSSO_LDAP_BIND_PASSWORD_FILE, or neither.');
    }
    return {
      type,
      url: required(env, 'BSSO_LDAP_URL', type),
      baseDn: required(env, 'BSSO_LDAP_BASE_DN', type),
      ...optional<Omit<LdapBackendOptions, 'type'>>({
        mailAttribute: value(env, 'BSSO_LDAP_MAIL_ATTRIBUTE'),
        bindDn,
        bindPassword: bindDn ? secretFile(env, 'BSSO_LDAP_BIND_PASSWORD_FILE', type) : undefined,
        caFile: value(env, 'BSSO_LDAP_CA_FILE'),
        servername: value(env, 'BSSO_LDAP_SERVERNAME'),
        timeoutMs,
      }),
    };
  }
  return {
    type,
    issuer: required(env, 'BSSO_OIDC_ISSUER', type),
    clientId: required(env, 'BSSO_OIDC_CLIENT_ID', type),
    clientSecret: secretFile(env, 'BSSO_OIDC_CLIENT_SECRET_FILE', type),
    label: required(env, 'BSSO_OIDC_LABEL', type),
    ...optional<Omit<OidcBackendOptions, 'type'>>({
      caFile: value(env, 'BSSO_OIDC_CA_FILE'),
      timeoutMs,
    }),
  };
}
