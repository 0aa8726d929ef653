// Test fixture: the stand-in provider on https://mail.test (via the dev network mapping), a
// site built with bsso() on http://127.0.0.1:<port> whose endpoint is https://site.test/bsso,
// an injected clock, and a cookie-keeping "browser" client.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicNetworkOptions } from '@bsso/protocol/public-network';
import {
  CookieJar,
  makeTestPki,
  routeFetch,
  type TestPki,
  testNetwork,
} from '@bsso/protocol/testing';
import express from 'express';
import { type BssoOptions, bsso, requireSignIn, type SiteCore } from '../../src/index.ts';
import { type StandIn, startStandIn } from './stand-in-provider.ts';

export const ENDPOINT = 'https://site.test/bsso';
export const ALICE = 'alice@mail.test';

let certificates: TestPki | undefined;
function testPki(): TestPki {
  certificates ??= makeTestPki(['mail.test', 'site.test']);
  return certificates;
}

export interface Fixture {
  standIn: StandIn;
  /** The site's test network (mail.test only): for other sites a test makes. */
  network: PublicNetworkOptions;
  core: SiteCore;
  /** Base URL the site listens on. */
  siteUrl: string;
  clock: { now: number };
  browser(): Browser;
  close(): Promise<void>;
}

export async function startFixture(
  options: Partial<BssoOptions> = {},
  configure?: (app: express.Express) => void,
): Promise<Fixture> {
  const pki = testPki();
  const clock = { now: Date.UTC(2030, 0, 1) };
  const now = () => clock.now;
  const standIn = await startStandIn(pki, now);
  // The test's own requests: replaces any earlier fixture's routing.
  routeFetch({ ca: pki.caPem, hosts: { 'mail.test': standIn.port } });
  // The site's: through its public-network guard, with mail.test on the test allow-list and
  // every other name unresolvable.
  const network = testNetwork({ ca: pki.caPem, hosts: { 'mail.test': standIn.port } });
  const router = bsso({
    endpoint: ENDPOINT,
    now,
    ...options,
    outbound: { network, ...options.outbound },
  });
  const app = express();
  app.use(router);
  app.get('/me', (req, res) => {
    res.json({ email: req.bsso.email });
  });
  app.get('/members', requireSignIn(), (req, res) => {
    res.send(`members: ${req.bsso.email}`);
  });
  configure?.(app);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    standIn,
    network,
    core: router.core,
    siteUrl,
    clock,
    browser: () => new Browser(siteUrl),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await standIn.close();
    },
  };
}

export interface Delivered {
  status: number;
  location: string | null;
  setCookies: string[];
  body: { error?: string; error_description?: string } & Record<string, unknown>;
  text: string;
}

/** Keeps the site's cookies like a browser would (names only; attributes are asserted). */
export class Browser extends CookieJar {
  readonly siteUrl: string;

  constructor(siteUrl: string) {
    super();
    this.siteUrl = siteUrl;
  }

  cookieHeader(): string {
    return this.header();
  }

  async challenge(domain = 'mail.test'): Promise<{ nonce: string; handle?: string }> {
    const res = await fetch(`${this.siteUrl}/bsso?bsso=challenge&domain=${domain}`, {
      headers: { cookie: this.cookieHeader() },
    });
    this.keep(res);
    if (res.status !== 200) throw new Error(`challenge answered ${res.status}`);
    return (await res.json()) as { nonce: string; handle?: string };
  }

  /** POSTs a form to the endpoint; `form` is sent as given (string or fields). */
  async deliver(
    form: Record<string, string> | string,
    init: { contentType?: string; accept?: string } = {},
  ): Promise<Delivered> {
    const res = await fetch(`${this.siteUrl}/bsso`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        'content-type': init.contentType ?? 'application/x-www-form-urlencoded',
        accept: init.accept ?? 'application/json',
      },
      body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    });
    const setCookies = this.keep(res);
    const text = await res.text();
    let body: Delivered['body'] = {};
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, location: res.headers.get('location'), setCookies, body, text };
  }

  async me(): Promise<string | null> {
    const res = await fetch(`${this.siteUrl}/me`, { headers: { cookie: this.cookieHeader() } });
    return ((await res.json()) as { email: string | null }).email;
  }
}

export function hasSessionCookie(d: Delivered): boolean {
  return d.setCookies.some((c) => c.startsWith('__Host-bsso_session=') && !/Max-Age=0/.test(c));
}
