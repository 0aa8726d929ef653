// Names the browser and Node both see as real https sites on the default port, served by
// servers on free loopback ports (used by topology.ts).
import { once } from 'node:events';
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostsOf, routeFetch } from '@bsso/protocol/testing';
import type { TestPki } from './pki.ts';

export interface HttpsSite {
  name: string;
  port: number;
  origin: string;
  server: Server;
  close(): Promise<void>;
}

export async function serveHttps(
  name: string,
  pki: TestPki,
  handler: RequestListener,
  port = 0,
): Promise<HttpsSite> {
  const server = createServer({ cert: pki.certPem, key: pki.keyPem }, handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    name,
    port: actual,
    origin: `https://${name}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Chromium flags mapping each name's port 443 to its loopback port and trusting the leaf. */
export function chromiumNetworkArgs(
  sites: readonly { name: string; port: number }[],
  pki: TestPki,
): string[] {
  const rules = sites.map((s) => `MAP ${s.name}:443 127.0.0.1:${s.port}`).join(', ');
  return [
    `--host-resolver-rules=${rules}, EXCLUDE localhost`,
    `--ignore-certificate-errors-spki-list=${pki.leafSpkiSha256}`,
  ];
}

/**
 * Routes Node's fetch (and so webfinger.js and the site's S2S calls) for the test names to
 * their loopback ports, trusting only the test CA. Returns a function restoring the previous
 * dispatcher.
 */
export function routeNodeFetch(
  sites: readonly { name: string; port: number }[],
  pki: TestPki,
): () => void {
  return routeFetch({
    hosts: hostsOf(sites),
    ca: pki.caPem,
    publicRoots: false,
    otherHosts: 'refuse',
  });
}
