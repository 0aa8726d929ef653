// Draws bench/results/chart.png from the JSON results: an SVG written by plain code, turned
// into a PNG by headless Chromium. Run: npm run chart -w @bsso/bench
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright';
import { CHROMIUM_PATH } from '../../e2e/src/browser.ts';
import { RESULTS_DIR } from './lib/report.ts';
import { round } from './lib/stats.ts';

interface Bar {
  label: string;
  value: number;
  /** A second mark drawn as a thin line (a p95). */
  whisker?: number;
  color: string;
}

const BSSO = '#2f5bd3';
const BASE = '#8a8f98';
const ALT = '#e08a1e';
const WIDTH = 1000;
const PANEL_W = 480;
const PANEL_H = 250;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** A horizontal bar panel at (x, y). */
function panel(x: number, y: number, title: string, unit: string, bars: Bar[], note = ''): string {
  const labelW = 170;
  const plotW = PANEL_W - labelW - 70;
  const max = Math.max(...bars.map((b) => Math.max(b.value, b.whisker ?? 0)), 1e-9);
  const rowH = Math.min(34, (PANEL_H - 60) / Math.max(bars.length, 1));
  const out = [
    `<text x="${x}" y="${y + 18}" font-size="15" font-weight="600">${esc(title)}</text>`,
    `<text x="${x}" y="${y + 36}" font-size="11" fill="#555">${esc(unit)}${note ? ` · ${esc(note)}` : ''}</text>`,
  ];
  bars.forEach((b, i) => {
    const top = y + 48 + i * rowH;
    const w = (b.value / max) * plotW;
    out.push(
      `<text x="${x + labelW - 8}" y="${top + rowH * 0.62}" font-size="12" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${x + labelW}" y="${top + 4}" width="${Math.max(w, 1)}" height="${rowH - 10}" fill="${b.color}" rx="2"/>`,
    );
    if (b.whisker !== undefined) {
      const wx = x + labelW + (b.whisker / max) * plotW;
      const mid = top + rowH / 2 - 1;
      out.push(
        `<line x1="${x + labelW + w}" y1="${mid}" x2="${wx}" y2="${mid}" stroke="#222" stroke-width="1"/>`,
        `<line x1="${wx}" y1="${mid - 5}" x2="${wx}" y2="${mid + 5}" stroke="#222" stroke-width="1"/>`,
      );
    }
    const end = x + labelW + Math.max(w, ((b.whisker ?? 0) / max) * plotW) + 6;
    out.push(
      `<text x="${end}" y="${top + rowH * 0.62}" font-size="11" fill="#333">${round(b.value)}</text>`,
    );
  });
  return out.join('\n');
}

function read(name: string): Record<string, unknown> | undefined {
  const file = join(RESULTS_DIR, `${name}.json`);
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
    : undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: our own result files, read back only to draw them
type Json = Record<string, any>;

function panels(): string[] {
  const out: string[] = [];
  const at = (i: number) =>
    [20 + (i % 2) * (PANEL_W + 20), 70 + Math.floor(i / 2) * (PANEL_H + 20)] as const;
  let i = 0;
  const signin = read('signin') as Json | undefined;
  if (signin) {
    const s = signin.summary;
    const bar = (k: string, label: string, color: string): Bar => ({
      label,
      value: s[k].page.median,
      whisker: s[k].page.p95,
      color,
    });
    const [x, y] = at(i++);
    out.push(
      panel(
        x,
        y,
        '1. Sign-in, click to signed-in page',
        'ms, median bar, p95 whisker',
        [
          bar('bsso-warm', 'BSSO warm', BSSO),
          bar('bsso-cold', 'BSSO cold', BSSO),
          bar('oidc-warm', 'OIDC warm', BASE),
          bar('oidc-cold', 'OIDC cold', BASE),
          bar('floor', 'floor (fetch + POST)', ALT),
        ],
        `${signin.runs} runs`,
      ),
    );
  }
  const site = read('site-verify') as Json | undefined;
  if (site) {
    const s = site.summary;
    const [x, y] = at(i++);
    out.push(
      panel(x, y, '2. Site: delivery POSTs per second', 'req/s (higher is better)', [
        { label: 'bare endpoint', value: s.bare.requestsPerSecond, color: BASE },
        { label: 'BSSO, association', value: s.association.requestsPerSecond, color: BSSO },
        { label: 'BSSO, direct', value: s.direct.requestsPerSecond, color: BSSO },
      ]),
    );
  }
  const provider = read('provider-assert') as Json | undefined;
  if (provider) {
    const s = provider.summary;
    const [x, y] = at(i++);
    out.push(
      panel(x, y, '3. Provider: assertions per second', 'req/s (higher is better)', [
        { label: 'bare session lookup', value: s.bare.requestsPerSecond, color: BASE },
        { label: 'association key', value: s['association-key'].requestsPerSecond, color: BSSO },
        { label: 'provider key', value: s['provider-key'].requestsPerSecond, color: BSSO },
        {
          label: 'association key, tmpfs',
          value: s['association-key-tmpfs'].requestsPerSecond,
          color: ALT,
        },
      ]),
    );
  }
  const cs = read('content-script') as Json | undefined;
  if (cs) {
    const t = cs.traced;
    const [x, y] = at(i++);
    out.push(
      panel(
        x,
        y,
        '4. Content script time per page without BSSO',
        'ms of main thread (traced)',
        [
          { label: 'BSSO content script', value: t.bsso.totalMs, color: BSSO },
          { label: 'probe: DOM check only', value: t['probe-dom'].totalMs, color: BASE },
          {
            label: 'probe: + chrome.runtime',
            value: t['probe-dom+chrome.runtime'].totalMs,
            color: ALT,
          },
        ],
        `load +${round(cs.difference.bssoLoadMedianMs)} ms vs no extension`,
      ),
    );
  }
  const growth = read('growth') as Json | undefined;
  if (growth) {
    const bars: Bar[] = [];
    for (const row of growth.sizes as Json[]) {
      const n = row.accounts >= 1e6 ? `${row.accounts / 1e6}M` : `${row.accounts / 1e3}k`;
      bars.push(
        {
          label: `${n} assertion (assoc.)`,
          value: row.summary.assertionAssociationKey.median,
          color: BSSO,
        },
        {
          label: `${n} direct verification`,
          value: row.summary.directVerification.median,
          color: ALT,
        },
      );
    }
    const [x, y] = at(i++);
    out.push(panel(x, y, '5. Growth: provider latency by accounts', 'ms, median', bars));
  }
  return out;
}

async function main(): Promise<void> {
  const body = panels();
  const rows = Math.ceil(body.length / 2);
  const height = 80 + rows * (PANEL_H + 20);
  const machine = (read('signin') ?? read('site-verify'))?.machine as Json | undefined;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, sans-serif">
<title>BSSO benchmark results</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="32" font-size="20" font-weight="700">BSSO benchmarks</text>
<text x="20" y="54" font-size="12" fill="#555">${esc(machine ? `${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, load ${machine.loadAtStart} at start` : '')}</text>
${body.join('\n')}
</svg>
`;
  const svgFile = join(RESULTS_DIR, 'chart.svg');
  writeFileSync(svgFile, svg);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.screenshot({ path: join(RESULTS_DIR, 'chart.png'), fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${join(RESULTS_DIR, 'chart.png')}`);
}

await main();
