// Benchmark 1: sign-in in Chromium, from the click on the sign-in button to the signed-in
// page loaded. BSSO (warm and cold) side by side with an OpenID Connect authorization-code
// sign-in (oidc-provider + openid-client) and the floor (one fetch + one form POST), all
// interleaved in one browser. --rtt=N delays every request N ms (network latency).
// Run: npm run bench:signin -w @bsso/bench [-- --runs=30 --rtt=0 --delivery=page]
// --delivery=redirect: the demo site answers the delivery 303 (its default) instead of with
// the signed-in page (deliveryAnswer: 'page', protocol-spec.md#delivery).
import { mkdtempSync, rmSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider, silentLogger } from '@bsso/email-provider';
import { testNetwork } from '@bsso/protocol/testing';
import { createDemoSite } from '@bsso/relying-site/demo';
import { launchWithExtension } from '../../e2e/src/browser.ts';
import { chromiumNetworkArgs, routeNodeFetch, serveHttps } from '../../e2e/src/network.ts';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { signInAtProvider, signInAtSite } from '../../e2e/src/steps.ts';
import { machineInfo } from './lib/machine.ts';
import { numberFlag, printTable, writeResult } from './lib/report.ts';
import { round, type Summary, shuffled, summarize } from './lib/stats.ts';
import { contentScriptWatcher, countingHandler, serveSwappable } from './lib/world.ts';
import {
  createFloorSite,
  createOidcProvider,
  createOidcRelyingParty,
  createStub,
  FLOOR_NAME,
  FLOOR_SESSION_COOKIE,
  OP_NAME,
  RP_NAME,
  RP_SESSION_COOKIE,
  STUB_NAME,
} from './signin/baselines.ts';

const PROVIDER_NAME = 'mail.test';
const SITE_NAME = 'site.test';
const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };
const SITE_SESSION_COOKIE = '__Host-bsso_session';

type Variant = 'bsso-warm' | 'bsso-cold' | 'oidc-warm' | 'oidc-cold' | 'floor';
const VARIANTS: readonly Variant[] = ['bsso-warm', 'bsso-cold', 'oidc-warm', 'oidc-cold', 'floor'];

interface StorageArea {
  get(keys: null | string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string[]): Promise<void>;
}

/** Delays every request by `ms` before its handler runs: a round trip of network latency. */
function withLatency(handler: RequestListener, ms: number): RequestListener {
  return ms === 0 ? handler : (req, res) => void setTimeout(() => handler(req, res), ms);
}

interface Sample {
  /** The click event on the start page to the final page's loadEventEnd (browser clock). */
  pageMs: number;
  /** The driver dispatching the click to the driver seeing the load event. */
  driverMs: number;
  phases: Phases;
  /** The start page's own response end to load end: what rendering that page costs. */
  startPageRenderMs: number;
}

/** Where the time goes, from the browser's own timestamps (ms since the click event). */
interface Phases {
  /** The page's first fetch starts (BSSO: after the extension's begin round trip). */
  firstFetchStart: number;
  /** The page's last fetch answered. */
  lastFetchEnd: number;
  /** The navigation to the signed-in page starts (BSSO and floor: the form POST). */
  navigationStart: number;
  /** Its final response (after redirects) has arrived. */
  responseEnd: number;
  loadEventEnd: number;
}

/**
 * Runs in every page: remembers the click time and the page's fetches when the page goes
 * away, in sessionStorage, which the same-origin signed-in page can read.
 */
const PAGE_PROBE = `(() => {
  let click;
  addEventListener('click', (e) => { click ??= e.timeStamp; }, true);
  addEventListener('pagehide', () => {
    if (click === undefined) return;
    const fetches = performance.getEntriesByType('resource')
      .filter((r) => r.initiatorType === 'fetch' && r.startTime >= click)
      .map((r) => ({ start: r.startTime, end: r.responseEnd }));
    sessionStorage.setItem('bench_click', JSON.stringify({ origin: performance.timeOrigin, click, fetches }));
  });
})();`;

async function main(): Promise<void> {
  const runs = numberFlag('runs', 30);
  const rtt = numberFlag('rtt', 0);
  const delivery = process.argv.includes('--delivery=redirect') ? 'redirect' : 'page';
  const machine = machineInfo();
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME, OP_NAME, RP_NAME, FLOOR_NAME, STUB_NAME]);
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-bench-provider-'));
  const provider = await createProvider({
    issuer: `https://${PROVIDER_NAME}`,
    domains: [PROVIDER_NAME],
    dataDir,
    logger: silentLogger,
    associationsPerIpPerMinute: 100_000,
    // One browser signs in twice per round, faster than a person: the provider's per-session
    // and per-client limits (60 and 240 a minute) would answer 429 within a run.
    assertionsPerSessionPerMinute: 100_000,
    assertionsPerClientPerMinute: 100_000,
  });
  await provider.accounts.create(ALICE.email, ALICE.password);
  const providerCounts = countingHandler(provider.app);
  // The site's outbound requests go to the provider's port, set once it listens.
  const siteHosts: Record<string, number> = {};
  const siteNetwork = testNetwork({ hosts: siteHosts, ca: pki.caPem });
  const newSite = () =>
    createDemoSite({
      endpoint: `https://${SITE_NAME}/bsso`,
      verification: 'association',
      outbound: { network: siteNetwork },
      deliveryAnswer: delivery,
      // A cold sign-in waits for none of the site's requests to the provider.
      associate: 'background',
    });
  const op = createOidcProvider();
  const newRp = () => createOidcRelyingParty(op.clientSecret);
  const delayed = (h: RequestListener) => withLatency(h, rtt);
  // Warm runs keep one site instance (its association, and the handle set the extension
  // remembered a handle under); every cold run gets a fresh one, as after a site restart.
  const warmSite = newSite();
  const servers = [
    await serveHttps(PROVIDER_NAME, pki, delayed(providerCounts.handler)),
    await serveSwappable(SITE_NAME, pki, warmSite, rtt),
    await serveHttps(OP_NAME, pki, delayed(op.handler)),
    await serveSwappable(RP_NAME, pki, newRp(), rtt),
    await serveHttps(FLOOR_NAME, pki, delayed(createFloorSite())),
    await serveHttps(STUB_NAME, pki, delayed(createStub())),
  ] as const;
  const [mail, site, , rp] = servers;
  siteHosts[PROVIDER_NAME] = mail.port;
  const restoreFetch = routeNodeFetch(servers, pki);
  const browser = await launchWithExtension(chromiumNetworkArgs(servers, pki));
  const { context, extensionId, serviceWorker } = browser;

  try {
    const page = await context.newPage();
    await signInAtProvider(page, ALICE.email, ALICE.password);
    const options = await context.newPage();
    await options.goto(`chrome-extension://${extensionId}/src/options/index.html`);
    await options.locator('#email-input').fill(ALICE.email);
    await options.locator('#add-email').click();
    await options.locator('#email-list', { hasText: ALICE.email }).waitFor();
    await options.close();
    // The first sign-in of the address at the site asks for consent once; not measured.
    await signInAtSite(page, { confirmAs: ALICE.email });
    // And once more, untimed: the site associated in the background during the first, so
    // this one's challenge names the handle the extension remembers for the page challenge.
    await context.clearCookies({ name: SITE_SESSION_COOKIE });
    await signInAtSite(page);
    const contentScript = await contentScriptWatcher(page, extensionId);
    await context.addInitScript(PAGE_PROBE);
    // BENCH_DEBUG=1 prints when the driver saw each request and answer after the click.
    let clickedAt = 0;
    if (process.env.BENCH_DEBUG) {
      const at = () => (performance.now() - clickedAt).toFixed(1).padStart(7);
      page.on('request', (r) => console.log(at(), '>', r.method(), r.url().slice(0, 70)));
      page.on('response', (r) => console.log(at(), '<', r.status(), r.url().slice(0, 70)));
      page.on('load', () => console.log(at(), 'load'));
    }

    const clearDiscoveryCache = () =>
      serviceWorker.evaluate(async () => {
        // The extension's service worker: chrome.storage is there (no types in this package).
        const area = (globalThis as unknown as { chrome: { storage: { local: StorageArea } } })
          .chrome.storage.local;
        const all = await area.get(null);
        await area.remove(Object.keys(all).filter((k) => k.startsWith('discovery:')));
      });

    const prepare: Record<Variant, () => Promise<string>> = {
      'bsso-warm': async () => {
        site.swap(warmSite);
        return `https://${SITE_NAME}/`;
      },
      'bsso-cold': async () => {
        site.swap(newSite());
        await clearDiscoveryCache();
        return `https://${SITE_NAME}/`;
      },
      'oidc-warm': async () => `https://${RP_NAME}/`,
      'oidc-cold': async () => {
        rp.swap(newRp());
        return `https://${RP_NAME}/`;
      },
      floor: async () => `https://${FLOOR_NAME}/`,
    };
    const buttons: Record<Variant, string> = {
      'bsso-warm': '#bsso_sign_in_button',
      'bsso-cold': '#bsso_sign_in_button',
      'oidc-warm': '#sign_in_button',
      'oidc-cold': '#sign_in_button',
      floor: '#sign_in_button',
    };

    const once = async (variant: Variant): Promise<Sample> => {
      const start = await prepare[variant]();
      await context.clearCookies({ name: SITE_SESSION_COOKIE });
      await context.clearCookies({ name: RP_SESSION_COOKIE });
      await context.clearCookies({ name: FLOOR_SESSION_COOKIE });
      const injected = contentScript.next();
      await page.goto(start);
      await injected;
      if ((await page.locator('#signed-in-as').count()) !== 0) throw new Error('still signed in');
      const startPageRenderMs = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return nav.loadEventEnd - nav.responseEnd;
      });
      const box = await page.locator(buttons[variant]).boundingBox();
      if (!box) throw new Error(`no button on ${start}`);
      const loaded = page.waitForEvent('load', { timeout: 30_000 });
      clickedAt = performance.now();
      if (process.env.BENCH_DEBUG) console.log(`--- ${variant}`);
      const t0 = clickedAt;
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await loaded.catch(async (err: unknown) => {
        // The extension's notice says why; the screenshot shows it.
        await page.screenshot({ path: join(tmpdir(), `bench-signin-${variant}-failed.png`) });
        throw err;
      });
      const t1 = performance.now();
      const timing = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const stored = sessionStorage.getItem('bench_click');
        sessionStorage.removeItem('bench_click');
        return {
          origin: performance.timeOrigin,
          responseEnd: nav.responseEnd,
          loadEventEnd: nav.loadEventEnd,
          before: stored
            ? (JSON.parse(stored) as {
                origin: number;
                click: number;
                fetches: { start: number; end: number }[];
              })
            : undefined,
        };
      });
      if (!timing.before) throw new Error(`${variant}: the click was not recorded`);
      const clickAt = timing.before.origin + timing.before.click;
      const since = (origin: number, t: number) => origin + t - clickAt;
      const fetches = timing.before.fetches;
      const phases: Phases = {
        firstFetchStart: fetches.length ? since(timing.before.origin, fetches[0]?.start ?? 0) : 0,
        lastFetchEnd: fetches.length ? since(timing.before.origin, fetches.at(-1)?.end ?? 0) : 0,
        navigationStart: since(timing.origin, 0),
        responseEnd: since(timing.origin, timing.responseEnd),
        loadEventEnd: since(timing.origin, timing.loadEventEnd),
      };
      if ((await page.locator('#signed-in-as').count()) !== 1) {
        const text = (await page.locator('body').innerText()).slice(0, 300);
        throw new Error(`${variant}: not signed in at ${page.url()}: ${text}`);
      }
      return { pageMs: phases.loadEventEnd, driverMs: t1 - t0, phases, startPageRenderMs };
    };

    // Warm-up: the first OIDC authorization signs in at op.test; every path runs once.
    for (const v of VARIANTS) await once(v);
    for (const v of VARIANTS) await once(v);
    const interactionsBefore = op.interactions();
    const associationsBefore = providerCounts.counts.get('/bsso/association') ?? 0;

    const samples = new Map<Variant, Sample[]>(VARIANTS.map((v) => [v, []]));
    for (let i = 0; i < runs; i++) {
      for (const v of shuffled(VARIANTS)) samples.get(v)?.push(await once(v));
      process.stdout.write(`\rround ${i + 1}/${runs}`);
    }
    process.stdout.write('\n');

    const summary = Object.fromEntries(
      VARIANTS.map((v) => {
        const s = samples.get(v) ?? [];
        const phase = (k: keyof Phases) => summarize(s.map((x) => x.phases[k])).median;
        return [
          v,
          {
            page: summarize(s.map((x) => x.pageMs)),
            driver: summarize(s.map((x) => x.driverMs)),
            startPageRender: summarize(s.map((x) => x.startPageRenderMs)),
            phaseMedians: {
              firstFetchStart: phase('firstFetchStart'),
              lastFetchEnd: phase('lastFetchEnd'),
              navigationStart: phase('navigationStart'),
              responseEnd: phase('responseEnd'),
              loadEventEnd: phase('loadEventEnd'),
            },
          },
        ];
      }),
    ) as Record<
      Variant,
      { page: Summary; driver: Summary; startPageRender: Summary; phaseMedians: Phases }
    >;
    const med = (v: Variant) => summary[v].page.median;
    const ratios = {
      bssoWarmOverOidcWarm: med('bsso-warm') / med('oidc-warm'),
      bssoWarmOverFloor: med('bsso-warm') / med('floor'),
      bssoColdOverOidcCold: med('bsso-cold') / med('oidc-cold'),
      bssoColdOverFloor: med('bsso-cold') / med('floor'),
    };
    printTable(
      `Sign-in, click to signed-in page loaded (ms, ${runs} interleaved runs each)`,
      VARIANTS.map((v) => ({
        variant: v,
        median: summary[v].page.median,
        p95: summary[v].page.p95,
        iqr: summary[v].page.iqr,
        'driver median': summary[v].driver.median,
      })),
    );
    printTable(
      'Phases (median ms after the click event)',
      VARIANTS.map((v) => ({
        variant: v,
        ...summary[v].phaseMedians,
        'start page render': summary[v].startPageRender.median,
      })),
    );
    printTable(
      'Ratios of medians',
      Object.entries(ratios).map(([k, v]) => ({ ratio: k, value: v })),
    );
    // What one extension storage operation costs in this browser: the background keeps its
    // flow state in storage.session and reads preferences and caches from storage.local.
    const storageMs = await serviceWorker.evaluate(async () => {
      const api = (
        globalThis as unknown as {
          chrome: { storage: { local: StorageArea; session: StorageArea } };
        }
      ).chrome.storage;
      const time = async (op: () => Promise<unknown>) => {
        const t = performance.now();
        for (let i = 0; i < 50; i++) await op();
        return (performance.now() - t) / 50;
      };
      return {
        sessionSet: await time(() => api.session.set({ bench_probe: { at: Date.now() } })),
        sessionGet: await time(() => api.session.get('bench_probe')),
        localGet: await time(() => api.local.get('bench_probe')),
      };
    });
    printTable('Extension storage, one operation (ms, mean of 50, in the service worker)', [
      storageMs,
    ]);
    const checks = {
      oidcLoginInteractionsDuringTimedRuns: op.interactions() - interactionsBefore,
      bssoAssociationRequestsDuringTimedRuns:
        (providerCounts.counts.get('/bsso/association') ?? 0) - associationsBefore,
      bssoColdRuns: runs,
    };
    console.log('checks', checks);
    const name = rtt === 0 ? 'signin' : `signin-rtt${rtt}`;
    writeResult(delivery === 'page' ? name : `${name}-redirect`, machine, {
      runs,
      rttMs: rtt,
      delivery,
      storageMs,
      unit: 'ms',
      summary,
      ratios,
      checks,
      samples: Object.fromEntries(
        VARIANTS.map((v) => [v, (samples.get(v) ?? []).map((s) => round(s.pageMs))]),
      ),
    });
  } finally {
    await browser.close();
    restoreFetch();
    for (const s of servers) await s.close();
    await provider.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
