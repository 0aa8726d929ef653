// Broker mode options (protocol-spec.md#fallback): the mail server the one-time codes go out
// through, and the code's rules. Validated once at start.
import { parseEmail } from '@bsso/protocol';
import type { PublicNetworkOptions } from '@bsso/protocol/public-network';
import { type BridgeOptions, resolveBridges } from './bridges.ts';

export interface BrokerSmtpOptions {
  host: string;
  /** Default 587 (submission with STARTTLS). */
  port?: number;
  /** true: TLS from the first byte (port 465). Default false: STARTTLS, which is required. */
  secure?: boolean;
  auth?: { user: string; pass: string };
  /** Extra CA certificates (PEM) to trust for the mail server, e.g. a private CA. */
  ca?: string | string[];
  /** The name the mail server's certificate must carry, when `host` is an address. */
  servername?: string;
  /** DKIM signing of outgoing mail (optional). */
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

export interface BrokerOptions {
  smtp: BrokerSmtpOptions;
  /** The From address of the code mails, e.g. 'BSSO <no-reply@broker.example>'. */
  from: string;
  /** Lifetime of a code in seconds; default 600. */
  codeTtlSeconds?: number;
  /** Wrong codes before a code is void; default 5. */
  codeAttempts?: number;
  /** Code mails per address per 15 minutes; default 3. */
  codesPerAddress?: number;
  /** Code requests per client address per 15 minutes; default 10. */
  codesPerClient?: number;
  /** Code mails per email domain per 15 minutes; default 100. */
  codesPerDomain?: number;
  /** The outbound guard of the broker's own discovery (tests: an allow-list). */
  network?: PublicNetworkOptions;
  /** Budget of the broker's discovery of a domain, in ms; default 5000. */
  discoveryTimeoutMs?: number;
  /** Discoveries of domains in flight at once; more fail at once. Default 8. */
  discoveryConcurrency?: number;
  /**
   * Domains whose users sign in through the domain's own OpenID provider instead of a mailed
   * code, e.g. { 'gmail.com': { issuer: 'https://accounts.google.com', clientId, clientSecret } }.
   */
  bridges?: Record<string, BridgeOptions>;
}

export interface ResolvedBrokerOptions
  extends Required<Omit<BrokerOptions, 'network' | 'bridges'>> {
  network: PublicNetworkOptions;
  bridges: ReturnType<typeof resolveBridges>;
}

function count(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0 || v > 1_000_000) {
    throw new TypeError(`broker.${name} must be a positive integer.`);
  }
  return v;
}

export function resolveBrokerOptions(options: BrokerOptions): ResolvedBrokerOptions {
  const { smtp, from } = options;
  if (typeof smtp?.host !== 'string' || smtp.host === '') {
    throw new TypeError('broker.smtp.host is required.');
  }
  if (typeof from !== 'string' || /[\r\n]/.test(from)) {
    throw new TypeError('broker.from must be one line.');
  }
  const address = /<([^>]*)>\s*$/.exec(from)?.[1] ?? from;
  try {
    parseEmail(address.trim());
  } catch {
    throw new TypeError('broker.from must hold a valid address.');
  }
  return {
    smtp: { port: 587, secure: false, ...smtp },
    from,
    codeTtlSeconds: count('codeTtlSeconds', options.codeTtlSeconds, 600),
    codeAttempts: count('codeAttempts', options.codeAttempts, 5),
    codesPerAddress: count('codesPerAddress', options.codesPerAddress, 3),
    codesPerClient: count('codesPerClient', options.codesPerClient, 10),
    codesPerDomain: count('codesPerDomain', options.codesPerDomain, 100),
    network: options.network ?? {},
    discoveryTimeoutMs: count('discoveryTimeoutMs', options.discoveryTimeoutMs, 5000),
    discoveryConcurrency: count('discoveryConcurrency', options.discoveryConcurrency, 8),
    bridges: resolveBridges(options.bridges),
  };
}
