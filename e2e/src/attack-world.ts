// Real servers for the attack and fault suites, without a browser: the real provider at
// https://mail.test behind a fault switch, optional rogue or extra https names, site
// instances built with bsso() (each with an injected clock), and Node clients that speak
// the protocol as a browser and its extension would.
import { mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createProvider,
  type Provider,
  type ProviderOptions,
  silentLogger,
} from '@bsso/email-provider';
import { CookieJar, hostsOf, routeFetch, testNetwork } from '@bsso/protocol/testing';
import { type BssoOptions, bsso, type SiteCore } from '@bsso/relying-site';
import express from 'express';
import { FaultSwitch } from './faults.ts';
import { type HttpsSite, serveHttps } from './network.ts';
import { makeTestPki, type TestPki } from './pki.ts';
import { RequestLog } from './topology.ts';

export const PROVIDER = 'https://mail.test';
export const ENDPOINT = 'https://site.test/bsso';
export const EXTENSION_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';
export const START = Date.UTC(2030, 0, 1);
// Marks the simulated browser's requests, so RequestLog tells them from the site's S2S calls.
const BROWSER_AGENT = 'Mozilla/5.0 Chrome/150 (BSSO test user)';

export interface SiteInstance {
  url: string;
  core: SiteCore;
  close(): Promise<void>;
}

export interface AttackWorld {
  pki: TestPki;
  provider: Provider;
  providerClock: { ms: number };
  siteClock: { ms: number };
  faults: FaultSwitch;
  providerLog: RequestLog;
  /** The site instance started with the world. */
  site: SiteInstance;
  /** Every site instance, the first one included. */
  sites: SiteInstance[];
  extra: Record<string, HttpsSite>;
  /** A further site instance (pass the first one's `stores` to share them). */
  startSite(options?: Partial<BssoOptions>): Promise<SiteInstance>;
  /** Closes the provider and opens it again on the same data directory. */
  restartProvider(): Promise<void>;
  close(): Promise<void>;
}

export interface AttackWorldOptions {
  site?: Partial<BssoOptions>;
  provider?: Partial<ProviderOptions>;
  /** More https names on this machine, e.g. a rogue provider or hanging domains. */
  extraSites?: Record<string, RequestListener>;
  /**
   * Names the sites' resolver answers with addresses off the test allow-list (a hostile
   * domain's DNS naming an internal host), e.g. { 'intranet.test': '127.0.0.2' }.
   */
  unlisted?: Record<string, string>;
}

export async function startAttackWorld(options: AttackWorldOptions = {}): Promise<AttackWorld> {
  const extraNames = Object.keys(options.extraSites ?? {});
  const pki = makeTestPki(['mail.test', 'site.test', 'evil.test', ...extraNames]);
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-attack-'));
  const providerClock = { ms: START };
  const siteClock = { ms: START };
  const providerOptions: ProviderOptions = {
    issuer: PROVIDER,
    domains: ['mail.test'],
    dataDir,
    logger: silentLogger,
    sweepIntervalMs: 0,
    now: () => providerClock.ms,
    ...options.provider,
  };
  let provider = await createProvider(providerOptions);
  const faults = new FaultSwitch();
  const providerLog = new RequestLog();
  const providerSite = await serveHttps(
    'mail.test',
    pki,
    providerLog.wrap(faults.wrap((req, res) => provider.app(req, res))),
  );
  const extra: Record<string, HttpsSite> = {};
  for (const [name, handler] of Object.entries(options.extraSites ?? {})) {
    extra[name] = await serveHttps(name, pki, handler);
  }
  // The test names go to their loopback ports (test CA trusted); other hosts connect as usual.
  const hosts = hostsOf([providerSite, ...Object.values(extra)]);
  const restoreFetch = routeFetch({ hosts, ca: pki.caPem });
  // The sites' own outbound requests: the same names, on the explicit test allow-list.
  const network = testNetwork({
    hosts,
    ca: pki.caPem,
    ...(options.unlisted ? { unlisted: options.unlisted } : {}),
  });
  const sites: SiteInstance[] = [];

  async function startSite(more: Partial<BssoOptions> = {}): Promise<SiteInstance> {
    const router = bsso({
      endpoint: ENDPOINT,
      now: () => siteClock.ms,
      ...options.site,
      ...more,
      outbound: { network, ...options.site?.outbound, ...more.outbound },
    });
    const app = express();
    app.use(router);
    app.get('/me', (req, res) => {
      res.json({ email: req.bsso.email });
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const instance: SiteInstance = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      core: router.core,
      close: async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    };
    sites.push(instance);
    return instance;
  }
  const site = await startSite();

  return {
    pki,
    get provider() {
      return provider;
    },
    providerClock,
    siteClock,
    faults,
    providerLog,
    site,
    sites,
    extra,
    startSite,
    async restartProvider() {
      await provider.close();
      provider = await createProvider(providerOptions);
    },
    async close() {
      for (const s of sites) await s.close();
      restoreFetch();
      await providerSite.close();
      for (const s of Object.values(extra)) await s.close();
      await provider.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  body: { error?: string } & Record<string, unknown>;
  text: string;
  location: string | null;
  setCookies: string[];
}

async function answerOf(res: Response, setCookies: string[]): Promise<Answer> {
  const text = await res.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body, text, location: res.headers.get('location'), setCookies };
}

/** A cookie jar over fetch: names and values only, like a browser keeps them. */
export class Jar extends CookieJar {
  async fetch(url: string, init: RequestInit = {}): Promise<Answer> {
    const headers = new Headers(init.headers);
    headers.set('user-agent', BROWSER_AGENT);
    if (this.cookies.size > 0) headers.set('cookie', this.header());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    return answerOf(res, this.keep(res));
  }
}

/** A browser at the site: its own binding cookie, challenges and deliveries. */
export class SiteBrowser {
  readonly jar = new Jar();
  site: SiteInstance;
  constructor(site: SiteInstance) {
    this.site = site;
  }
  async challenge(domain = 'mail.test'): Promise<Answer> {
    return this.jar.fetch(`${this.site.url}/bsso?bsso=challenge&domain=${domain}`);
  }
  async deliver(assertion: string, accept = 'application/json'): Promise<Answer> {
    return this.jar.fetch(`${this.site.url}/bsso`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
      body: new URLSearchParams({ assertion }).toString(),
    });
  }
  async me(): Promise<string | null> {
    const a = await this.jar.fetch(`${this.site.url}/me`);
    return (a.body.email as string | null | undefined) ?? null;
  }
}

/** A user at the provider, asking for assertions as the extension's background does. */
export class ProviderUser {
  readonly jar = new Jar();
  async signIn(email: string, password: string): Promise<void> {
    const page = await this.jar.fetch(`${PROVIDER}/signin`);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const done = await this.jar.fetch(`${PROVIDER}/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf_token: csrf, email, password }).toString(),
    });
    if (done.status !== 303) throw new Error(`provider sign-in answered ${done.status}`);
  }
  async ask(request: { email: string; nonce: string; handle?: string; audience?: string }) {
    return this.jar.fetch(`${PROVIDER}/bsso/assertion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: EXTENSION_ORIGIN },
      body: JSON.stringify({ audience: ENDPOINT, ...request }),
    });
  }
  /** The assertion for a challenge answer, as the extension would get it. */
  async assertionFor(email: string, challenge: Answer, handle?: string): Promise<string> {
    const nonce = String(challenge.body.nonce);
    const h = handle ?? (challenge.body.handle as string | undefined);
    const answer = await this.ask(h ? { email, nonce, handle: h } : { email, nonce });
    if (answer.status !== 200) throw new Error(`assertion request answered ${answer.status}`);
    return String(answer.body.assertion);
  }
}

export function hasSession(a: Answer): boolean {
  return a.setCookies.some((c) => c.startsWith('__Host-bsso_session=') && !/Max-Age=0/.test(c));
}
