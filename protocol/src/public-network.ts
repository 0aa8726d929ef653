// Outbound requests that reach only public addresses (protocol-spec.md#transport, "Public
// addresses only"; threat 43 of Security considerations). Node only: '@bsso/protocol/public-network'.
//
// The guard sits where the connection is made: it resolves the host name itself, refuses the
// request unless every address of the answer is public, and hands the connector the checked
// address (never the name), so no second look-up can answer differently (DNS rebinding).
// Literal addresses in URLs, in every form the URL parser accepts, are checked the same way.
import { Resolver as DnsResolver } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import type { FetchLike } from './http.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A resolver: every address of a host name. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** undici's connector: what the guard hands the checked address to. */
export type Connector = buildConnector.connector;

export interface PublicNetworkOptions {
  /**
   * All addresses of a name. Default: DNS through c-ares (A and AAAA, every answer), which
   * runs off libuv's thread pool and can be cancelled, unlike getaddrinfo: names whose servers
   * never answer cannot tie up the threads the rest of the process needs.
   */
  resolve?: Resolver;
  /**
   * Addresses allowed although they are not public, as CIDR blocks ('127.0.0.1/32',
   * '::1/128'). For tests and development only; empty by default.
   */
  allowAddresses?: readonly string[];
  /** Development switch: connect to any address, unchecked. Off by default. */
  allowPrivateAddresses?: boolean;
  /** Extra trusted CA certificates (PEM), besides the public roots. */
  ca?: string | readonly string[];
  /** Budget of one name resolution in ms (the request's own budget applies too). Default 5000. */
  resolveTimeoutMs?: number;
  /** Called for each refusal, for logs (the caller's client never sees these details). */
  onRefused?: (refusal: { host: string; address?: string; reason: string }) => void;
  /**
   * Test hook: the connector that opens the socket to the checked address (default: undici's,
   * trusting `ca`). Tests use it to reach servers on free ports.
   */
  connector?: (ca: readonly string[]) => Connector;
}

/** Why a connection was refused before it was made. */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_BSSO_ADDRESS_REFUSED';
  override readonly name = 'AddressRefusedError';
}

/** True when `err` or one of its causes is the guard's refusal. */
export function isAddressRefused(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof AddressRefusedError) return true;
  }
  return false;
}

// IANA special-purpose IPv4 blocks that are not globally reachable unicast, plus multicast
// and the reserved 240/4 (RFC 6890 and the registry's later entries).
const NON_PUBLIC_V4: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.31.196.0', 24],
  ['192.52.193.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['192.175.48.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

// IPv6: only global unicast (2000::/3) can be public; inside it, the blocks that embed IPv4
// or are not globally reachable. Everything outside 2000::/3 (loopback, unspecified,
// IPv4-compatible, NAT64 64:ff9b::/96 and /48, discard, unique local, link- and site-local,
// multicast) is refused by that rule alone.
const GLOBAL_UNICAST_V6: readonly [string, number] = ['2000::', 3];
const NON_PUBLIC_V6: readonly [string, number][] = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['3fff::', 20], // documentation
];

function blockList(
  entries: readonly (readonly [string, number])[],
  type: 'ipv4' | 'ipv6',
): BlockList {
  const list = new BlockList();
  for (const [net, prefix] of entries) list.addSubnet(net, prefix, type);
  return list;
}

const nonPublicV4 = blockList(NON_PUBLIC_V4, 'ipv4');
const globalUnicastV6 = blockList([GLOBAL_UNICAST_V6], 'ipv6');
const nonPublicV6 = blockList(NON_PUBLIC_V6, 'ipv6');

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), if it is one. */
function mappedIPv4(address: string): string | undefined {
  const canonical = new URL(`http://[${address}]/`).hostname;
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!m) return undefined;
  const hi = Number.parseInt(m[1] ?? '', 16);
  const lo = Number.parseInt(m[2] ?? '', 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * True only for a globally reachable unicast address. Anything else, including text that is
 * not an address and IPv6 addresses with a zone, is not public.
 */
export function isPublicAddress(address: string): boolean {
  if (address.includes('%')) return false;
  const family = isIP(address);
  if (family === 4) return !nonPublicV4.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = mappedIPv4(address);
  if (v4 !== undefined) return !nonPublicV4.check(v4, 'ipv4');
  return globalUnicastV6.check(address, 'ipv6') && !nonPublicV6.check(address, 'ipv6');
}

/** Parses 'a.b.c.d/n' and 'x::/n' allow-list entries; refuses anything else at start. */
function parseAllowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [net = '', bits = ''] = entry.split('/');
    const family = isIP(net);
    const prefix = Number(bits);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || !/^\d{1,3}$/.test(bits) || prefix > max) {
      throw new TypeError(`allowAddresses: not a CIDR block: ${entry}`);
    }
    list.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** A: and AAAA answers of the name's DNS; one resolver per look-up, cancelled at the budget. */
function dnsResolver(budgetMs: number): Resolver {
  return async (hostname) => {
    const resolver = new DnsResolver({
      timeout: Math.max(100, Math.floor(budgetMs / 2)),
      tries: 2,
    });
    const timer = setTimeout(() => resolver.cancel(), budgetMs);
    try {
      const [v4, v6] = await Promise.allSettled([
        resolver.resolve4(hostname),
        resolver.resolve6(hostname),
      ]);
      const answers: ResolvedAddress[] = [
        ...(v4.status === 'fulfilled'
          ? v4.value.map((address) => ({ address, family: 4 as const }))
          : []),
        ...(v6.status === 'fulfilled'
          ? v6.value.map((address) => ({ address, family: 6 as const }))
          : []),
      ];
      if (answers.length === 0) {
        throw v4.status === 'rejected' ? v4.reason : new Error(`${hostname} has no address`);
      }
      return answers;
    } finally {
      clearTimeout(timer);
    }
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AddressRefusedError(`Resolving ${host} timed out.`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The address to connect to for `hostname`, or a refusal: a literal must be allowed itself;
 * a name must resolve (errors and empty answers refuse: fail closed) and every address of the
 * answer must be allowed, so an answer mixing public and private addresses is refused.
 */
function createAddressCheck(options: PublicNetworkOptions = {}) {
  const allow = parseAllowList(options.allowAddresses ?? []);
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
  const resolve = options.resolve ?? dnsResolver(resolveTimeoutMs);
  const open = options.allowPrivateAddresses === true;
  const allowed = (address: string): boolean => {
    if (open || isPublicAddress(address)) return true;
    const family = isIP(address);
    return family !== 0 && allow.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
  const refuse = (host: string, reason: string, address?: string): never => {
    options.onRefused?.(address === undefined ? { host, reason } : { host, address, reason });
    throw new AddressRefusedError(`Refused to connect to ${host}: ${reason}.`);
  };
  return async function addressFor(host: string): Promise<string> {
    const hostname = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(hostname) !== 0) {
      return allowed(hostname) ? hostname : refuse(host, 'not a public address', hostname);
    }
    let answers: readonly ResolvedAddress[];
    try {
      answers = await withTimeout(resolve(hostname), resolveTimeoutMs, hostname);
    } catch (err) {
      return refuse(host, `no address (${(err as Error)?.message ?? 'resolver error'})`);
    }
    const first = answers[0];
    if (first === undefined) return refuse(host, 'no address');
    for (const answer of answers) {
      if (!allowed(answer.address)) refuse(host, 'not a public address', answer.address);
    }
    return first.address;
  };
}

/**
 * An undici Agent whose every connection goes to a checked address. Redirects are never
 * followed by callers (requestJson), and each WebFinger hop is a new request, so every hop is
 * checked.
 */
export function createPublicNetworkAgent(options: PublicNetworkOptions = {}): Agent {
  const extra = options.ca === undefined ? [] : [options.ca].flat();
  const ca = [...rootCertificates, ...extra];
  const connect: Connector = options.connector?.(ca) ?? buildConnector({ ca });
  const addressFor = createAddressCheck(options);
  return new Agent({
    // Strangers' servers cannot keep the site's idle sockets for long (their Keep-Alive hint
    // is capped), and each origin gets a bounded pool.
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 10_000,
    connections: 16,
    connect: (opts, callback) => {
      addressFor(opts.hostname).then(
        // The name stays in `host`, from which undici takes SNI and the certificate check.
        (address) => connect({ ...opts, hostname: address }, callback),
        (err: Error) => callback(err, null),
      );
    },
  });
}

export interface PublicFetch extends FetchLike {
  /** Closes the agent's pooled connections. */
  close(): Promise<void>;
}

/** A fetch that goes only to checked addresses: what a site hands requestJson and discovery. */
export function createPublicFetch(options: PublicNetworkOptions = {}): PublicFetch {
  const dispatcher = createPublicNetworkAgent(options);
  const publicFetch = ((input: string, init?: RequestInit) =>
    undiciFetch(input, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>) as PublicFetch;
  publicFetch.close = () => dispatcher.close();
  return publicFetch;
}
