// The whole BSSO world on one machine: a provider at https://mail.test, the demo site at
// https://site.test, Node's fetch routed to them, and Chromium with the built extension.
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AccountBackendOptions,
  createProvider,
  type Provider,
  silentLogger,
} from '@bsso/email-provider';
import { testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from '@bsso/relying-site/demo';
import { type ExtensionBrowser, launchWithExtension } from './browser.ts';
import { chromiumNetworkArgs, type HttpsSite, routeNodeFetch, serveHttps } from './network.ts';
import { makeTestPki, type TestPki } from './pki.ts';

export const PROVIDER_NAME = 'mail.test';
export const SITE_NAME = 'site.test';
export const SITE_ENDPOINT = `https://${SITE_NAME}/bsso`;

export const EVIL_NAME = 'evil.test';
/** The company's own identity provider, when the provider signs users in through it. */
export const IDP_NAME = 'idp.test';

export type VerificationMode = 'association' | 'direct';

/** An extra response the site server gives before the demo app sees the request. */
export interface ExtraRoute {
  type: 'html' | 'js';
  body: string;
}

export interface TopologyOptions {
  /**
   * Extra pages and scripts on the site server, by path (e.g. '/late' and '/late.js'), served
   * with a CSP allowing the site's own scripts. Default: none.
   */
  siteRoutes?: Record<string, ExtraRoute>;
  /** Also serve https://evil.test (a logged, always-404 server). Default false. */
  evilSite?: boolean;
  /** What https://evil.test serves instead of 404s (implies `evilSite`). Default none. */
  evilHandler?: RequestListener;
  /** Who checks passwords at the provider (IMAP, LDAP, ...). Default its own accounts. */
  accountBackend?: AccountBackendOptions;
  /** What https://idp.test serves (an upstream OpenID provider). Default: no such site. */
  idpHandler?: RequestListener;
  /** How the demo site answers a delivery (protocol-spec.md#delivery). Default 'redirect'. */
  deliveryAnswer?: 'redirect' | 'page';
}

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
  /** Every request the site server received (the browser's and the provider's). */
  siteLog: RequestLog;
  /** https://evil.test when `evilSite` was asked for. */
  evil?: { site: HttpsSite; log: RequestLog };
  /** Replaces the site process with a fresh one (all caches lost) on the same port. */
  restartSite(): Promise<void>;
  close(): Promise<void>;
}

/** Serves `routes` by exact path, else hands the request to `next`. */
export function withExtraRoutes(
  routes: Record<string, ExtraRoute>,
  next: RequestListener,
): RequestListener {
  return (req, res) => {
    const route = routes[new URL(req.url ?? '/', 'https://x').pathname];
    if (route === undefined || req.method !== 'GET') {
      next(req, res);
      return;
    }
    res.writeHead(200, {
      'content-type': route.type === 'html' ? 'text/html; charset=utf-8' : 'text/javascript',
      'content-security-policy':
        "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'",
      'cache-control': 'no-store',
    });
    res.end(route.body);
  };
}

export async function startTopology(
  mode: VerificationMode,
  options: TopologyOptions = {},
): Promise<Topology> {
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME, EVIL_NAME, IDP_NAME]);
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-provider-'));
  const provider = await createProvider({
    issuer: `https://${PROVIDER_NAME}`,
    domains: [PROVIDER_NAME],
    dataDir,
    logger: silentLogger,
    ...(options.accountBackend ? { accountBackend: options.accountBackend } : {}),
  });
  const providerLog = new RequestLog();
  const providerSite = await serveHttps(PROVIDER_NAME, pki, providerLog.wrap(provider.app));
  const siteLog = new RequestLog();
  // The site's outbound requests: the test names, on the explicit test allow-list.
  const siteHosts: Record<string, number> = { [PROVIDER_NAME]: providerSite.port };
  const network = testNetwork({ hosts: siteHosts, ca: pki.caPem });
  const makeSite = () =>
    siteLog.wrap(
      withExtraRoutes(
        options.siteRoutes ?? {},
        createDemoSite({
          endpoint: SITE_ENDPOINT,
          verification: mode,
          outbound: { network },
          ...(options.deliveryAnswer ? { deliveryAnswer: options.deliveryAnswer } : {}),
        }),
      ),
    );
  let site = await serveHttps(SITE_NAME, pki, makeSite());
  let evil: { site: HttpsSite; log: RequestLog } | undefined;
  if (options.evilSite || options.evilHandler) {
    const log = new RequestLog();
    const notFound: RequestListener = (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    };
    evil = {
      site: await serveHttps(EVIL_NAME, pki, log.wrap(options.evilHandler ?? notFound)),
      log,
    };
    siteHosts[EVIL_NAME] = evil.site.port;
  }
  const idp = options.idpHandler ? await serveHttps(IDP_NAME, pki, options.idpHandler) : undefined;
  const named = [providerSite, site, ...(evil ? [evil.site] : []), ...(idp ? [idp] : [])];
  const restoreFetch = routeNodeFetch(named, pki);
  const browser = await launchWithExtension(chromiumNetworkArgs(named, pki));
  return {
    pki,
    provider,
    providerLog,
    providerSite,
    get site() {
      return site;
    },
    browser,
    siteLog,
    ...(evil ? { evil } : {}),
    restartSite: async () => {
      const port = site.port;
      await site.close();
      site = await serveHttps(SITE_NAME, pki, makeSite(), port);
    },
    close: async () => {
      await browser.close();
      restoreFetch();
      await site.close();
      await evil?.site.close();
      await idp?.close();
      await providerSite.close();
      await provider.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
