// The provider's 'trust proxy' setting, validated once at start (threat 50). Rate limits key
// on req.ip, which Express derives from X-Forwarded-For only as far as this setting trusts
// it: a wrong value either puts every client behind a proxy in one bucket (the proxy's own
// address) or lets a client pick its own address by forging the header.
import { isIP } from 'node:net';

/**
 * What Express accepts and this provider allows: `false` (default: req.ip is the peer),
 * a number of proxy hops in front of the provider, or a list of trusted proxy addresses,
 * CIDR ranges and Express's names for ranges. `true` trusts every hop, so the client picks
 * its own address; allowed, but only right behind a proxy that overwrites the header.
 */
export type TrustProxy = boolean | number | string[];

/** Express's names for address ranges (proxy-addr). */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_HOPS = 100;

/**
 * Parses a 'trust proxy' value: a boolean, a hop count (number or decimal string), `true` /
 * `false`, or addresses, CIDRs and range names (array or comma list). Anything else throws
 * a TypeError naming `name`, so the provider refuses to start.
 */
export function parseTrustProxy(value: unknown, name = 'trustProxy'): TrustProxy {
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  if (typeof value === 'number') return hops(value, name);
  const entries = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(entries) || entries.length === 0) throw invalid(name);
  if (entries.length === 1 && typeof entries[0] === 'string') {
    const only = entries[0];
    if (only === 'true') return true;
    if (only === 'false' || only === '') return false;
    if (/^[0-9]+$/.test(only)) return hops(Number(only), name);
  }
  return entries.map((entry) => {
    if (typeof entry !== 'string' || !isAddressOrRange(entry)) throw invalid(name, entry);
    return entry;
  });
}

function hops(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_HOPS) throw invalid(name, String(n));
  return n;
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.has(entry) || isIP(entry) !== 0) return true;
  const slash = entry.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(bits)) return false;
  // A /0 trusts every hop, like `true`, but would read as a list of proxies: say `true`.
  return Number(bits) >= 1 && Number(bits) <= (family === 4 ? 32 : 128);
}

function invalid(name: string, entry?: unknown): TypeError {
  const what = entry === undefined ? '' : ` (not understood: ${JSON.stringify(entry)})`;
  return new TypeError(
    `${name} must be true, false, a number of proxy hops (e.g. 1), or a comma list of ` +
      `proxy addresses, CIDR ranges and loopback / linklocal / uniquelocal${what}.`,
  );
}
