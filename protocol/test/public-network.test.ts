// The public-network guard (protocol-spec.md#transport, threat 43): every connection goes to
// an address that was checked, literals in every form the URL parser accepts are checked,
// resolver errors fail closed. Nothing here sends traffic off loopback: names resolve through
// an injected resolver, and a recording connector stands in for any non-loopback socket.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildConnector } from 'undici';
import { BssoError, requestJson } from '../src/index.ts';
import {
  createPublicFetch,
  isAddressRefused,
  isPublicAddress,
  type PublicNetworkOptions,
  type Resolver,
} from '../src/public-network.ts';

describe('isPublicAddress', () => {
  const notPublic = [
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '127.255.255.255',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.88.99.1',
    '192.168.1.1',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '::7f00:1',
    '64:ff9b::7f00:1',
    '64:ff9b::808:808',
    '64:ff9b:1::1',
    '100::1',
    '2001::1',
    '2001:2::1',
    '2001:db8::1',
    '2002:7f00:1::1',
    '3fff::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'fec0::1',
    'feff::1',
    'ff02::1',
    'localhost',
    'not an address',
    '',
  ];
  for (const address of notPublic) {
    it(`refuses ${JSON.stringify(address)}`, () => assert.equal(isPublicAddress(address), false));
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '100.128.0.1', '198.20.0.1', '2606:4700::1111']) {
    it(`accepts ${address}`, () => assert.equal(isPublicAddress(address), true));
  }
  it('accepts an IPv4-mapped public address', () => {
    assert.equal(isPublicAddress('::ffff:8.8.8.8'), true);
  });
});

/** A TCP listener on a loopback address that counts the connections it sees. */
async function listener(
  host: string,
): Promise<{ port: number; seen: () => number; server: Server }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { port: address.port, seen: () => count, server };
}

describe('createPublicFetch', () => {
  let target: Awaited<ReturnType<typeof listener>>;
  before(async () => {
    target = await listener('127.0.0.1');
  });
  after(() => target.server.close());

  /**
   * Fetches through the guard. The connector records the address it is handed; it opens a
   * real socket only to loopback (so a guard that let a loopback literal through would show up
   * at the listener) and never one anywhere else (tests stay on loopback).
   */
  async function attempt(url: string, options: PublicNetworkOptions = {}) {
    const asked: string[] = [];
    const publicFetch = createPublicFetch({
      ...options,
      connector: (ca) => {
        const real = buildConnector({ ca: [...ca] });
        return (opts, callback) => {
          asked.push(opts.hostname);
          if (opts.hostname.startsWith('127.') || opts.hostname === '::1') real(opts, callback);
          else callback(new Error('test connector: no socket off loopback'), null);
        };
      },
    });
    const before = target.seen();
    const error = await requestJson(url, { fetch: publicFetch, timeoutMs: 2000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await publicFetch.close();
    return { asked, error, connections: target.seen() - before };
  }

  it('refuses loopback literals in every form, before any connection', async () => {
    for (const host of [
      '127.0.0.1',
      '127.1',
      '0x7f.0.0.1',
      '0177.0.0.1',
      '2130706433',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '[0:0:0:0:0:ffff:7f00:1]',
      '[64:ff9b::7f00:1]',
    ]) {
      const url = `https://${host}:${target.port}/x`;
      const { asked, error, connections } = await attempt(url);
      assert.ok(error instanceof BssoError, url);
      assert.equal(error.code, 'provider_unavailable', url);
      assert.ok(isAddressRefused(error), url);
      assert.deepEqual(asked, [], `${url}: no connector call`);
      assert.equal(connections, 0, `${url}: the listener saw nothing`);
    }
  });

  it('checks every answer of the resolver: one private address refuses the name', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const { asked, error, connections } = await attempt(`https://mixed.example:${target.port}/`, {
      resolve,
    });
    assert.ok(isAddressRefused(error));
    assert.deepEqual(asked, []);
    assert.equal(connections, 0);
  });

  it('refuses names that resolve to private, CGNAT, NAT64 or site-local addresses', async () => {
    for (const address of ['10.0.0.1', '100.64.1.1', '198.18.0.1', '64:ff9b::a00:1', 'fec0::1']) {
      const resolve: Resolver = async () => [{ address, family: address.includes(':') ? 6 : 4 }];
      const { asked, error } = await attempt('https://inside.example/', { resolve });
      assert.ok(isAddressRefused(error), address);
      assert.deepEqual(asked, [], address);
    }
  });

  it('fails closed when the resolver fails, answers nothing, or hangs', async () => {
    const failing: Resolver = async () => {
      throw new Error('SERVFAIL');
    };
    const empty: Resolver = async () => [];
    const hanging: Resolver = () => new Promise(() => {});
    for (const resolve of [failing, empty]) {
      const { asked, error } = await attempt('https://flaky.example/', { resolve });
      assert.ok(isAddressRefused(error));
      assert.deepEqual(asked, []);
    }
    const started = performance.now();
    const { asked, error } = await attempt('https://slow.example/', {
      resolve: hanging,
      resolveTimeoutMs: 100,
    });
    assert.ok(error instanceof BssoError);
    assert.deepEqual(asked, []);
    assert.ok(performance.now() - started < 1500, 'inside the budget');
  });

  it('connects to the address it checked, never to a second answer (DNS rebinding)', async () => {
    // A rebinding resolver: public at the first question, loopback afterwards. A check that
    // resolved on its own before connecting would pass and then connect to loopback.
    let calls = 0;
    const rebinding: Resolver = async () =>
      calls++ === 0
        ? [{ address: '93.184.216.34', family: 4 }]
        : [{ address: '127.0.0.1', family: 4 }];
    const first = await attempt(`https://rebind.example:${target.port}/`, { resolve: rebinding });
    assert.deepEqual(first.asked, ['93.184.216.34'], 'the connector got the checked address');
    const second = await attempt(`https://rebind.example:${target.port}/`, { resolve: rebinding });
    assert.ok(isAddressRefused(second.error));
    assert.deepEqual(second.asked, []);
    assert.equal(first.connections + second.connections, 0);
  });

  it('reaches an address on the explicit allow-list, and only that one', async () => {
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const allowed = createPublicFetch({
      resolve,
      allowAddresses: ['127.0.0.1/32'],
      connector: () => buildConnector({}),
    });
    const before = target.seen();
    const error = await allowed(`http://loop.example:${target.port}/`).then(
      () => undefined,
      (err: unknown) => err,
    );
    await allowed.close();
    // The listener hangs up at once: a failed request, but the connection was made.
    assert.ok(error instanceof Error && !isAddressRefused(error));
    assert.equal(target.seen() - before, 1);
    const { connections, error: refused } = await attempt(`https://loop.example:${target.port}/`, {
      resolve,
      allowAddresses: ['127.0.0.2/32'],
    });
    assert.ok(isAddressRefused(refused));
    assert.equal(connections, 0);
  });

  it('refuses an allow-list entry that is not a CIDR block', () => {
    for (const entry of ['127.0.0.1', '127.0.0.1/33', 'localhost/8', '::1/129', '10.0.0.0/x']) {
      assert.throws(() => createPublicFetch({ allowAddresses: [entry] }), TypeError, entry);
    }
  });
});
