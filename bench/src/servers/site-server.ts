// Child process: the relying site (the bsso() router in association and in direct mode) and
// the bare site endpoint, each on its own loopback http port; prepares one-use deliveries.
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type AssertionSigningKey, createAssertion, createNonce } from '@bsso/protocol';
import type { PublicNetworkOptions } from '@bsso/protocol/public-network';
import { testNetwork } from '@bsso/protocol/testing';
import { bsso, createMemoryRequestRateLimiter, type SiteCore } from '@bsso/relying-site';
import express from 'express';
import { routeNodeFetch } from '../../../e2e/src/network.ts';
import type { TestPki } from '../../../e2e/src/pki.ts';
import { serveCalls } from '../lib/child.ts';
import { createBareSite } from './bare.ts';

const ENDPOINT = 'https://site.test/bsso';
const ISSUER = 'https://mail.test';
const EMAIL = 'alice@mail.test';
const BROWSER_COOKIE = '__Host-bsso_browser';

async function listenHttp(handler: RequestListener): Promise<number> {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function siteApp(verification: 'association' | 'direct', network: PublicNetworkOptions) {
  const router = bsso({
    endpoint: ENDPOINT,
    verification,
    outbound: { network },
    // One load generator is one client: the limiter still runs, with a limit never reached.
    rateLimiter: createMemoryRequestRateLimiter({ max: 1e12 }),
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(router);
  return { app, core: router.core };
}

/** The provider's current Ed25519 key, read from its data directory (benchmark only). */
async function providerKey(dataDir: string): Promise<AssertionSigningKey> {
  const file = JSON.parse(readFileSync(join(dataDir, 'signing-keys.json'), 'utf8')) as {
    keys: { kid: string; private_jwk?: JsonWebKey }[];
  };
  const current = file.keys.find((k) => k.private_jwk);
  if (!current?.private_jwk) throw new Error('no current provider key');
  const privateKey = await crypto.subtle.importKey(
    'jwk',
    current.private_jwk,
    { name: 'Ed25519' },
    false,
    ['sign'],
  );
  return { kind: 'provider', kid: current.kid, privateKey };
}

let cores: Record<'association' | 'direct', SiteCore> | undefined;

serveCalls({
  async start(args) {
    const hosts = { 'mail.test': Number(args.providerPort) };
    const pki = args.pki as TestPki;
    routeNodeFetch([{ name: 'mail.test', port: hosts['mail.test'] }], pki);
    const network = testNetwork({ hosts, ca: pki.caPem });
    const association = siteApp('association', network);
    const direct = siteApp('direct', network);
    cores = { association: association.core, direct: direct.core };
    return {
      associationPort: await listenHttp(association.app),
      directPort: await listenHttp(direct.app),
      barePort: await listenHttp(createBareSite()),
    };
  },

  /**
   * Writes `count` one-use deliveries as JSON to `file`: each a browser cookie and a form
   * with an assertion for a nonce this site issued to that browser.
   */
  async prepare(args) {
    if (!cores) throw new Error('not started');
    const mode = args.mode as 'association' | 'direct' | 'bare';
    const count = Number(args.count);
    const core = mode === 'direct' ? cores.direct : cores.association;
    let key: AssertionSigningKey;
    if (mode === 'direct') {
      key = await providerKey(String(args.providerDataDir));
    } else {
      await core.challenge({ browserId: core.newBrowserId(), domain: 'mail.test' });
      const record = await core.stores.associations.get(ISSUER);
      if (!record) throw new Error('no association');
      key = { kind: 'association', handle: record.handle, secret: record.secret };
    }
    const items: { headers: Record<string, string>; body: string }[] = [];
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const browserId = core.newBrowserId();
      const nonce =
        mode === 'bare'
          ? createNonce()
          : (await core.challenge({ browserId, domain: 'mail.test' })).nonce;
      const assertion = await createAssertion({
        issuer: ISSUER,
        email: EMAIL,
        audience: ENDPOINT,
        nonce,
        key,
        now,
        lifetimeSeconds: 300,
      });
      items.push({
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `${BROWSER_COOKIE}=${browserId}`,
        },
        body: `assertion=${assertion}`,
      });
    }
    writeFileSync(String(args.file), JSON.stringify(items));
    return items.length;
  },
});
