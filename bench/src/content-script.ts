// Benchmark 4: what the content script costs on pages without BSSO. The same page loaded in
// Chromium with the extension and in Chromium without it, interleaved; page-load time from
// Navigation Timing and the renderer's script time (CDP Performance.getMetrics ScriptDuration,
// which counts the content script's isolated world too).
// Run: npm run bench:content-script -w @bsso/bench [-- --loads=100]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright';
import { launchWithExtension } from '../../e2e/src/browser.ts';
import { chromiumNetworkArgs, serveHttps } from '../../e2e/src/network.ts';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { machineInfo } from './lib/machine.ts';
import { numberFlag, printTable, writeResult } from './lib/report.ts';
import { type Summary, shuffled, summarize } from './lib/stats.ts';
import { contentScriptWatcher, launchPlain, launchWithExtensionDir } from './lib/world.ts';

const NAME = 'plain.test';

/** An ordinary article page: no BSSO link or button, no scripts of its own. */
function articlePage(): string {
  const para =
    '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. <a href="/x">A link</a>.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Article</title>
<link rel="stylesheet" href="data:text/css,body{font-family:sans-serif}"></head>
<body><header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>
<main><h1>An article</h1>${para.repeat(200)}</main><footer>Footer</footer></body></html>`;
}

interface Load {
  loadMs: number;
  domContentLoadedMs: number;
}

interface Target {
  page: Page;
  cdp: CDPSession;
  waitInjected?: () => Promise<void>;
}

/** A tab; `waitForContentScript` makes each load wait until a content script ran. */
async function target(context: BrowserContext, waitForContentScript: boolean): Promise<Target> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  // Every tab listens for execution contexts (the same CDP overhead); only some wait.
  const watcher = await contentScriptWatcher(page, undefined);
  if (!waitForContentScript) return { page, cdp };
  return { page, cdp, waitInjected: () => watcher.next() };
}

/**
 * Probe extensions, to tell the cost of any content script from the cost of this one: one
 * that only looks for the BSSO markup (and observes the DOM, as the real one does), and one
 * that also touches chrome.runtime, which makes Chromium set up the extension API bindings
 * in the page's isolated world.
 */
const PROBES = {
  'probe-dom': '',
  'probe-dom+chrome.runtime': 'void chrome.runtime.id;',
} as const;

function writeProbe(dir: string, extra: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      manifest_version: 3,
      name: 'probe',
      version: '1.0',
      content_scripts: [{ matches: ['https://*/*'], js: ['probe.js'], run_at: 'document_idle' }],
    }),
  );
  writeFileSync(
    join(dir, 'probe.js'),
    `(() => { ${extra}
  const found = () => document.getElementById('bsso_sign_in_button') !== null &&
    !!document.querySelector('link[rel~="bsso_end_point"]');
  if (found()) return;
  new MutationObserver(() => {}).observe(document.documentElement, { childList: true, subtree: true });
})();`,
  );
}

async function load(t: Target, i: number): Promise<Load> {
  const injected = t.waitInjected?.();
  await t.page.goto(`https://${NAME}/article?${i}`);
  await injected;
  const timing = await t.page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd };
  });
  return { loadMs: timing.load, domContentLoadedMs: timing.dcl };
}

interface Traced {
  loads: number;
  evaluateScriptMs: number;
  callbacksMs: number;
  compileMs: number;
  totalMs: number;
  events: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  args?: { data?: { url?: string } };
}

/**
 * The content script's own main-thread time per page, from a Chromium trace of `loads`
 * loads: its top-level evaluation plus every callback it registered (FunctionCall).
 */
async function traceContentScript(t: Target, urlPrefix: string, loads: number): Promise<Traced> {
  const events: TraceEvent[] = [];
  t.cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise((r) => t.cdp.once('Tracing.tracingComplete', r));
  await t.cdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['devtools.timeline', 'v8'] },
    transferMode: 'ReportEvents',
  });
  for (let i = 0; i < loads; i++) await load(t, 10_000 + i);
  await t.cdp.send('Tracing.end');
  await complete;
  const ours = events.filter((e) => e.ph === 'X' && e.args?.data?.url?.startsWith(urlPrefix));
  const perLoadMs = (names: string[]) =>
    ours.filter((e) => names.includes(e.name)).reduce((s, e) => s + (e.dur ?? 0), 0) / 1000 / loads;
  return {
    loads,
    evaluateScriptMs: perLoadMs(['EvaluateScript']),
    callbacksMs: perLoadMs(['FunctionCall']),
    compileMs: perLoadMs(['v8.compile']),
    totalMs: perLoadMs(['EvaluateScript', 'FunctionCall']),
    events: ours.length,
  };
}

type BrowserName = 'plain' | 'bsso' | keyof typeof PROBES;

async function main(): Promise<void> {
  const loads = numberFlag('loads', 100);
  const traceLoads = numberFlag('trace-loads', 30);
  const machine = machineInfo();
  const pki = makeTestPki([NAME]);
  const html = articlePage();
  const server = await serveHttps(NAME, pki, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  const args = chromiumNetworkArgs([server], pki);
  const probeRoot = mkdtempSync(join(tmpdir(), 'bsso-bench-probe-'));
  for (const [name, extra] of Object.entries(PROBES)) writeProbe(join(probeRoot, name), extra);
  const bsso = await launchWithExtension(args);
  const contexts: Record<BrowserName, BrowserContext> = {
    plain: await launchPlain(args),
    bsso: bsso.context,
    'probe-dom': await launchWithExtensionDir(join(probeRoot, 'probe-dom'), args),
    'probe-dom+chrome.runtime': await launchWithExtensionDir(
      join(probeRoot, 'probe-dom+chrome.runtime'),
      args,
    ),
  };
  const names = Object.keys(contexts) as BrowserName[];
  try {
    const targets = {} as Record<BrowserName, Target>;
    for (const n of names) targets[n] = await target(contexts[n], n !== 'plain');
    for (let i = 0; i < 5; i++) for (const n of names) await load(targets[n], -i);
    const samples = Object.fromEntries(names.map((n) => [n, [] as Load[]])) as Record<
      BrowserName,
      Load[]
    >;
    for (let i = 0; i < loads; i++) {
      for (const n of shuffled(names)) samples[n].push(await load(targets[n], i));
    }
    const summary = Object.fromEntries(
      names.map((n) => [
        n,
        {
          loadMs: summarize(samples[n].map((x) => x.loadMs)),
          domContentLoadedMs: summarize(samples[n].map((x) => x.domContentLoadedMs)),
        },
      ]),
    ) as Record<BrowserName, { loadMs: Summary; domContentLoadedMs: Summary }>;
    const traced = {} as Record<Exclude<BrowserName, 'plain'>, Traced>;
    for (const n of names) {
      if (n === 'plain') continue;
      const prefix =
        n === 'bsso' ? `chrome-extension://${bsso.extensionId}/` : 'chrome-extension://';
      traced[n] = await traceContentScript(targets[n], prefix, traceLoads);
    }
    const difference = {
      bssoLoadMedianMs: summary.bsso.loadMs.median - summary.plain.loadMs.median,
      probeDomLoadMedianMs: summary['probe-dom'].loadMs.median - summary.plain.loadMs.median,
      bssoScriptMs: traced.bsso.totalMs,
      bssoScriptOverProbeDomMs: traced.bsso.totalMs - traced['probe-dom'].totalMs,
    };
    printTable(
      `Page without BSSO, ${loads} interleaved loads per browser (ms)`,
      names.map((n) => ({
        browser: n,
        'load median': summary[n].loadMs.median,
        'load p95': summary[n].loadMs.p95,
        'load iqr': summary[n].loadMs.iqr,
        'vs plain': summary[n].loadMs.median - summary.plain.loadMs.median,
      })),
    );
    printTable(
      `Content script main-thread time per page, from a trace of ${traceLoads} loads (ms)`,
      Object.entries(traced).map(([k, v]) => ({
        script: k,
        'evaluate script': v.evaluateScriptMs,
        callbacks: v.callbacksMs,
        'of which compile': v.compileMs,
        total: v.totalMs,
      })),
    );
    writeResult('content-script', machine, {
      loads,
      traceLoads,
      unit: 'ms',
      summary,
      traced,
      difference,
    });
  } finally {
    for (const n of names) await contexts[n].close();
    rmSync(probeRoot, { recursive: true, force: true });
    await server.close();
  }
}

await main();
