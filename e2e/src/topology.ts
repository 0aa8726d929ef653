// The whole BSSO world on one machine: a provider at https://mail.test, the demo site at
// https://site.test, Node's fetch routed to them, and Chromium with the built extension.
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider, type Provider, silentLogger } from '@bsso/email-provider';
import { createDemoSite } from '@bsso/relying-site/demo';
import { type ExtensionBrowser, launchWithExtension } from './browser.ts';
import { chromiumNetworkArgs, type HttpsSite, routeNodeFetch, serveHttps } from './network.ts';
import { makeTestPki, type TestPki } from './pki.ts';

export const PROVIDER_NAME = 'mail.test';
export const SITE_NAME = 'site.test';
export const SITE_ENDPOINT = `https://${SITE_NAME}/bsso`;

export type VerificationMode = 'association' | 'direct';

/** Counts requests per path, so tests can say which server-to-server calls happened. */
export class RequestLog {
  readonly entries: { method: string; path: string; fromBrowser: boolean }[] = [];
  wrap(handler: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      this.entries.push({
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'https://x').pathname,
        // The browser says Chrome; the site's server-to-server calls come from Node.
        fromBrowser: /Chrome/.test(req.headers['user-agent'] ?? ''),
      });
      handler(req, res);
    };
  }
  /** Paths the site (not the browser) requested from the provider. */
  serverToServer(): string[] {
    return this.entries.filter((e) => !e.fromBrowser).map((e) => e.path);
  }
  count(path: string): number {
    return this.entries.filter((e) => e.path === path).length;
  }
  clear(): void {
    this.entries.length = 0;
  }
}

export interface Topology {
  pki: TestPki;
  provider: Provider;
  providerLog: RequestLog;
  providerSite: HttpsSite;
  site: HttpsSite;
  browser: ExtensionBrowser;
  /** Replaces the site process with a fresh one (all caches lost) on the same port. */
  restartSite(): Promise<void>;
  close(): Promise<void>;
}

export async function startTopology(mode: VerificationMode): Promise<Topology> {
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME, 'evil.test']);
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-provider-'));
  const provider = await createProvider({
    issuer: `https://${PROVIDER_NAME}`,
    domains: [PROVIDER_NAME],
    dataDir,
    logger: silentLogger,
  });
  const providerLog = new RequestLog();
  const providerSite = await serveHttps(PROVIDER_NAME, pki, providerLog.wrap(provider.app));
  const makeSite = () =>
    createDemoSite({
      endpoint: SITE_ENDPOINT,
      verification: mode,
      // The test names resolve to loopback: the explicit development override.
      discovery: { allowPrivateAddresses: true },
    });
  let site = await serveHttps(SITE_NAME, pki, makeSite());
  const restoreFetch = routeNodeFetch([providerSite, site], pki);
  const browser = await launchWithExtension(chromiumNetworkArgs([providerSite, site], pki));
  return {
    pki,
    provider,
    providerLog,
    providerSite,
    get site() {
      return site;
    },
    browser,
    restartSite: async () => {
      const port = site.port;
      await site.close();
      site = await serveHttps(SITE_NAME, pki, makeSite(), port);
    },
    close: async () => {
      await browser.close();
      restoreFetch();
      await site.close();
      await providerSite.close();
      await provider.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
