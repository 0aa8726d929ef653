// One provider or site instance in its own process, for the multi-instance tests and the
// load script (cluster.ts starts these). Settings come as JSON in BSSO_INSTANCE; prints
// `ready <port>` when listening. SIGTERM closes gracefully; SIGKILL is a crash.
import type { Server } from 'node:https';
import { createProvider, silentLogger } from '@bsso/email-provider';
import { testNetwork } from '@bsso/protocol/testing';
import { createRedisStores } from '@bsso/relying-site/core';
import { createDemoSite } from '@bsso/relying-site/demo';
import { routeNodeFetch, serveHttps } from './network.ts';
import type { TestPki } from './pki.ts';

export interface InstanceSettings {
  role: 'provider' | 'site';
  name: string;
  port: number;
  pki: TestPki;
  redisUrl: string;
  redisPrefix: string;
  databaseUrl: string;
  databaseSchema: string;
  /** Provider: directory holding the shared signing key file. */
  dataDir: string;
  /** Site: where its server-to-server calls to the provider go (a balancer port). */
  providerName: string;
  providerPort: number;
  siteEndpoint: string;
}

async function main(): Promise<void> {
  const s = JSON.parse(process.env.BSSO_INSTANCE ?? '{}') as InstanceSettings;
  let close: () => Promise<void>;
  let server: Server;
  if (s.role === 'provider') {
    const provider = await createProvider({
      issuer: `https://${s.name}`,
      domains: [s.name],
      dataDir: s.dataDir,
      databaseUrl: s.databaseUrl,
      databaseSchema: s.databaseSchema,
      redisUrl: s.redisUrl,
      redisKeyPrefix: s.redisPrefix,
      logger: silentLogger,
      sweepIntervalMs: 0,
      // One test machine is many clients from one address.
      associationsPerIpPerMinute: 10_000,
      assertionsPerClientPerMinute: 100_000,
    });
    const site = await serveHttps(s.name, s.pki, provider.app, s.port);
    server = site.server;
    close = () => provider.close();
  } else {
    routeNodeFetch([{ name: s.providerName, port: s.providerPort }], s.pki);
    const stores = createRedisStores(s.redisUrl, { prefix: s.redisPrefix });
    const app = createDemoSite({
      endpoint: s.siteEndpoint,
      outbound: {
        network: testNetwork({ hosts: { [s.providerName]: s.providerPort }, ca: s.pki.caPem }),
      },
      stores,
      // Every load client comes from 127.0.0.1: a front proxy would limit per real client.
      rateLimiter: false,
    });
    const site = await serveHttps(s.name, s.pki, app, s.port);
    server = site.server;
    close = () => stores.close();
  }
  process.once('SIGTERM', () => {
    server.close(() => {
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    server.closeIdleConnections();
  });
  const address = server.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`instance: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
