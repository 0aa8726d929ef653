// Benchmark 1: sign-in in Chromium, from the click on the sign-in button to the signed-in
// page loaded. BSSO (warm and cold) side by side with an OpenID Connect authorization-code
// sign-in (oidc-provider + openid-client) and the floor (one fetch + one form POST), all
// interleaved in one browser. Run: npm run bench:signin -w @bsso/bench [-- --runs=30]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider, silentLogger } from '@bsso/email-provider';
import { createDemoSite } from '@bsso/relying-site/demo';
import { launchWithExtension } from '../../e2e/src/browser.ts';
import { chromiumNetworkArgs, routeNodeFetch, serveHttps } from '../../e2e/src/network.ts';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { signInAtProvider } from '../../e2e/src/steps.ts';
import { machineInfo } from './lib/machine.ts';
import { numberFlag, printTable, writeResult } from './lib/report.ts';
import { round, shuffled, summarize } from './lib/stats.ts';
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
  get(keys: null): Promise<Record<string, unknown>>;
  remove(keys: string[]): Promise<void>;
}

interface Sample {
  /** Click dispatched by the driver to the final page's loadEventEnd (page clock). */
  pageMs: number;
  /** Click dispatched to the driver seeing the load event. */
  driverMs: number;
}

async function main(): Promise<void> {
  const runs = numberFlag('runs', 30);
  const machine = machineInfo();
  const pki = makeTestPki([PROVIDER_NAME, SITE_NAME, OP_NAME, RP_NAME, FLOOR_NAME, STUB_NAME]);
  const dataDir = mkdtempSync(join(tmpdir(), 'bsso-bench-provider-'));
  const provider = await createProvider({
    issuer: `https://${PROVIDER_NAME}`,
    domains: [PROVIDER_NAME],
    dataDir,
    logger: silentLogger,
    associationsPerIpPerMinute: 100_000,
  });
  await provider.accounts.create(ALICE.email, ALICE.password);
  const providerCounts = countingHandler(provider.app);
  const newSite = () =>
    createDemoSite({
      endpoint: `https://${SITE_NAME}/bsso`,
      verification: 'association',
      discovery: { allowPrivateAddresses: true },
    });
  const op = createOidcProvider();
  const newRp = () => createOidcRelyingParty(op.clientSecret);
  const servers = [
    await serveHttps(PROVIDER_NAME, pki, providerCounts.handler),
    await serveSwappable(SITE_NAME, pki, newSite()),
    await serveHttps(OP_NAME, pki, op.handler),
    await serveSwappable(RP_NAME, pki, newRp()),
    await serveHttps(FLOOR_NAME, pki, createFloorSite()),
    await serveHttps(STUB_NAME, pki, createStub()),
  ] as const;
  const [, site, , rp] = servers;
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
    const contentScript = await contentScriptWatcher(page, extensionId);
    if (process.env.BENCH_DEBUG) {
      page.on('request', (r) => console.log('>', r.method(), r.url().slice(0, 100)));
      page.on('response', (r) => console.log('<', r.status(), r.url().slice(0, 100)));
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
      'bsso-warm': async () => `https://${SITE_NAME}/`,
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
      const box = await page.locator(buttons[variant]).boundingBox();
      if (!box) throw new Error(`no button on ${start}`);
      const loaded = page.waitForEvent('load', { timeout: 30_000 });
      const t0 = performance.timeOrigin + performance.now();
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await loaded;
      const t1 = performance.timeOrigin + performance.now();
      const loadEnd = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return performance.timeOrigin + nav.loadEventEnd;
      });
      if ((await page.locator('#signed-in-as').count()) !== 1) {
        const text = (await page.locator('body').innerText()).slice(0, 300);
        throw new Error(`${variant}: not signed in at ${page.url()}: ${text}`);
      }
      return { pageMs: loadEnd - t0, driverMs: t1 - t0 };
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
        return [
          v,
          { page: summarize(s.map((x) => x.pageMs)), driver: summarize(s.map((x) => x.driverMs)) },
        ];
      }),
    ) as Record<
      Variant,
      { page: ReturnType<typeof summarize>; driver: ReturnType<typeof summarize> }
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
      'Ratios of medians',
      Object.entries(ratios).map(([k, v]) => ({ ratio: k, value: v })),
    );
    const checks = {
      oidcLoginInteractionsDuringTimedRuns: op.interactions() - interactionsBefore,
      bssoAssociationRequestsDuringTimedRuns:
        (providerCounts.counts.get('/bsso/association') ?? 0) - associationsBefore,
      bssoColdRuns: runs,
    };
    console.log('checks', checks);
    writeResult('signin', machine, {
      runs,
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
