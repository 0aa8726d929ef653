// Account back-ends: who checks a user's credentials at sign-in (protocol-spec.md#provider-processing,
// Sign-in page). The options each back-end takes, and their validation once at start.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseSecureUrl, type UrlPolicy } from '@bsso/protocol';

/** Accounts in the provider's own store (SQLite or PostgreSQL), managed with the users CLI. */
export interface BuiltinBackendOptions {
  type: 'builtin';
}

/** The user's mail password, checked by logging in to the provider's own IMAP server. */
export interface ImapBackendOptions {
  type: 'imap';
  host: string;
  /** Default 993 for implicit TLS, 143 for STARTTLS. */
  port?: number;
  /** 'implicit' (IMAPS, default) or 'starttls' (required, never cleartext). */
  tls?: 'implicit' | 'starttls';
  /** PEM file of the CA(s) to trust for the server's certificate; default the system's. */
  caFile?: string;
  /** The TLS server name to check; default `host`. */
  servername?: string;
  /** The IMAP login name: the full address (default) or its local part. */
  login?: 'address' | 'local-part';
  /** Time budget of one check in ms; default 10 000. */
  timeoutMs?: number;
}

/** A simple bind as the user's DN, found by searching the mail attribute. */
export interface LdapBackendOptions {
  type: 'ldap';
  /** ldaps://host:636, or ldap://host:389 which is always upgraded with STARTTLS. */
  url: string;
  /** Where to search for users, e.g. 'ou=people,dc=example,dc=com'. */
  baseDn: string;
  /** The attribute holding the address; default 'mail'. */
  mailAttribute?: string;
  /** Service account for the search; default an anonymous search. */
  bindDn?: string;
  bindPassword?: string;
  /** PEM file of the CA(s) to trust for the server's certificate; default the system's. */
  caFile?: string;
  /** The TLS server name to check; default the URL's host. */
  servername?: string;
  /** Time budget of one check in ms; default 10 000. */
  timeoutMs?: number;
}

/** Sign-in at the company's own OpenID provider (authorization code with PKCE). */
export interface OidcBackendOptions {
  type: 'oidc';
  /** The upstream issuer URL (https). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The name on the button: "Sign in with <label>". */
  label: string;
  /** PEM file of the CA(s) to trust for the issuer; default the system's. */
  caFile?: string;
  /** Time budget of one call to the issuer in ms; default 10 000. */
  timeoutMs?: number;
}

export type AccountBackendOptions =
  | BuiltinBackendOptions
  | ImapBackendOptions
  | LdapBackendOptions
  | OidcBackendOptions;

export type AccountBackendType = AccountBackendOptions['type'];

export const ACCOUNT_BACKEND_TYPES: readonly AccountBackendType[] = [
  'builtin',
  'imap',
  'ldap',
  'oidc',
];

export interface ResolvedImap {
  type: 'imap';
  host: string;
  port: number;
  tls: 'implicit' | 'starttls';
  ca: string | undefined;
  servername: string | undefined;
  login: 'address' | 'local-part';
  timeoutMs: number;
}

export interface ResolvedLdap {
  type: 'ldap';
  url: string;
  baseDn: string;
  mailAttribute: string;
  bind: { dn: string; password: string } | undefined;
  startTls: boolean;
  ca: string | undefined;
  servername: string | undefined;
  timeoutMs: number;
}

export interface ResolvedOidc {
  type: 'oidc';
  issuer: string;
  clientId: string;
  clientSecret: string;
  label: string;
  ca: string | undefined;
  timeoutMs: number;
}

export type ResolvedAccountBackend =
  | BuiltinBackendOptions
  | ResolvedImap
  | ResolvedLdap
  | ResolvedOidc;

function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`accountBackend.${name} is required.`);
  }
  return value.trim();
}

function readCa(name: string, file: string | undefined): string | undefined {
  if (file === undefined || file === '') return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new TypeError(`accountBackend.${name}: cannot read ${file}.`);
  }
}

function timeout(value: number | undefined): number {
  const v = value ?? 10_000;
  if (!Number.isSafeInteger(v) || v < 100 || v > 120_000) {
    throw new TypeError('accountBackend.timeoutMs must be an integer from 100 to 120000.');
  }
  return v;
}

function oneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new TypeError(`accountBackend.${name} must be one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;

export function resolveAccountBackend(
  options: AccountBackendOptions | undefined,
  urlPolicy: UrlPolicy,
): ResolvedAccountBackend {
  if (options === undefined) return { type: 'builtin' };
  switch (options.type) {
    case 'builtin':
      return { type: 'builtin' };
    case 'imap': {
      const tls = oneOf('tls', options.tls, ['implicit', 'starttls'] as const, 'implicit');
      const port = options.port ?? (tls === 'implicit' ? 993 : 143);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new TypeError('accountBackend.port must be a port number.');
      }
      const host = text('host', options.host);
      return {
        type: 'imap',
        host,
        port,
        tls,
        ca: readCa('caFile', options.caFile),
        // TLS names a server by name: an IP address host checks the certificate's IP instead.
        servername: options.servername?.trim() || (isIP(host) ? undefined : host),
        login: oneOf('login', options.login, ['address', 'local-part'] as const, 'address'),
        timeoutMs: timeout(options.timeoutMs),
      };
    }
    case 'ldap': {
      const url = text('url', options.url);
      const protocol = URL.canParse(url) ? new URL(url).protocol : '';
      if (protocol !== 'ldap:' && protocol !== 'ldaps:') {
        throw new TypeError('accountBackend.url must be an ldaps:// or ldap:// URL.');
      }
      const mailAttribute = options.mailAttribute ?? 'mail';
      if (!ATTRIBUTE.test(mailAttribute)) {
        throw new TypeError('accountBackend.mailAttribute must be an LDAP attribute name.');
      }
      if ((options.bindDn === undefined) !== (options.bindPassword === undefined)) {
        throw new TypeError('accountBackend: set both bindDn and bindPassword, or neither.');
      }
      const bind =
        options.bindDn !== undefined
          ? {
              dn: text('bindDn', options.bindDn),
              password: text('bindPassword', options.bindPassword),
            }
          : undefined;
      return {
        type: 'ldap',
        url,
        baseDn: text('baseDn', options.baseDn),
        mailAttribute,
        bind,
        startTls: protocol === 'ldap:',
        ca: readCa('caFile', options.caFile),
        servername: options.servername?.trim() || undefined,
        timeoutMs: timeout(options.timeoutMs),
      };
    }
    case 'oidc': {
      // Kept as written: the discovery document's issuer must equal it exactly.
      const issuer = text('issuer', options.issuer);
      parseSecureUrl(issuer, urlPolicy);
      return {
        type: 'oidc',
        issuer,
        clientId: text('clientId', options.clientId),
        clientSecret: text('clientSecret', options.clientSecret),
        label: text('label', options.label),
        ca: readCa('caFile', options.caFile),
        timeoutMs: timeout(options.timeoutMs),
      };
    }
    default:
      throw new TypeError(
        `accountBackend.type must be one of ${ACCOUNT_BACKEND_TYPES.join(', ')}.`,
      );
  }
}
