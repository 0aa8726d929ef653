// Child process: the email provider (https for the site's calls, http for the load
// generator) and the bare provider endpoint.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider, silentLogger } from '@bsso/email-provider';
import { serveHttps } from '../../../e2e/src/network.ts';
import type { TestPki } from '../../../e2e/src/pki.ts';
import { serveCalls } from '../lib/child.ts';
import { createBareProvider } from './bare.ts';

async function listenHttp(handler: RequestListener): Promise<number> {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

let bare: ReturnType<typeof createBareProvider> | undefined;

serveCalls({
  async start(args) {
    const pki = args.pki as TestPki;
    // dataRoot '/dev/shm' (tmpfs) shows what the disk's fsync costs.
    const root = typeof args.dataRoot === 'string' ? args.dataRoot : tmpdir();
    const dataDir = mkdtempSync(join(root, 'bsso-bench-provider-'));
    process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
    const provider = await createProvider({
      issuer: 'https://mail.test',
      domains: ['mail.test'],
      dataDir,
      logger: silentLogger,
      associationsPerIpPerMinute: 100_000,
      // The benchmark asks for assertions from one client and session as fast as it can.
      assertionsPerClientPerMinute: 10_000_000,
      assertionsPerSessionPerMinute: 10_000_000,
      sweepIntervalMs: 0,
    });
    await provider.accounts.create(String(args.email), String(args.password));
    const https = await serveHttps('mail.test', pki, provider.app);
    https.server.keepAliveTimeout = 60_000;
    bare = createBareProvider(join(dataDir, 'bare.sqlite'));
    return {
      dataDir,
      httpsPort: https.port,
      httpPort: await listenHttp(provider.app),
      barePort: await listenHttp(bare.app),
    };
  },
  async addBareSession(args) {
    bare?.addSession(String(args.id), String(args.email));
    return true;
  },
});
