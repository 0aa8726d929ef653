// The key per-client limits count a client by (protocol-spec.md#provider-processing, Client
// address; threat 50), one rule for the provider and the site. Node only:
// '@bsso/protocol/client-address'.
import { isIP } from 'node:net';

/**
 * The client a request counts for: its address (req.ip, behind trusted proxies the one they
 * forwarded), an IPv4-mapped IPv6 address as its IPv4 address, and any other IPv6 address as
 * its /64 network, since one host commonly holds a whole /64 and could otherwise change
 * address, and so bucket, at every request.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, embedded IPv4 read). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b1, b2, b3, b4] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((b1 << 8) | b2).toString(16)}:${((b3 << 8) | b4).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const fill = right === undefined ? [] : Array(8 - head.length - tail.length).fill('0');
  return [...head, ...fill, ...tail].map((g) => Number.parseInt(g, 16));
}
