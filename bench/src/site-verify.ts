// Benchmark 2: site verification throughput. The delivery POST verified with a cached
// association and with direct verification, against a bare Express endpoint that only
// issues a session cookie. Rounds interleave the three. Loopback only.
// Run: npm run bench:site -w @bsso/bench [-- --duration=10 --rounds=3 --connections=10]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { profiled, startChild } from './lib/child.ts';
import { type LoadItem, type LoadResult, meanOf, runLoad } from './lib/load.ts';
import { machineInfo } from './lib/machine.ts';
import { numberFlag, printTable, writeResult } from './lib/report.ts';
import { shuffled } from './lib/stats.ts';

type Variant = 'bare' | 'association' | 'direct';
const VARIANTS: readonly Variant[] = ['bare', 'association', 'direct'];
const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };

async function main(): Promise<void> {
  const duration = numberFlag('duration', 10);
  const rounds = numberFlag('rounds', 3);
  const connections = numberFlag('connections', 10);
  const machine = machineInfo();
  const pki = makeTestPki(['mail.test']);
  const tmp = mkdtempSync(join(tmpdir(), 'bsso-bench-site-'));
  const provider = await startChild(resolve(import.meta.dirname, 'servers/provider-server.ts'));
  const site = await startChild(resolve(import.meta.dirname, 'servers/site-server.ts'));
  try {
    const p = await provider.call<{ dataDir: string; httpsPort: number }>('start', {
      pki,
      ...ALICE,
    });
    const ports = await site.call<Record<`${Variant}Port`, number>>('start', {
      pki,
      providerPort: p.httpsPort,
    });
    const paths: Record<Variant, string> = {
      bare: '/login',
      association: '/bsso',
      direct: '/bsso',
    };
    const run = async (v: Variant, seconds: number, count: number) => {
      const file = join(tmp, `${v}.json`);
      await site.call('prepare', { mode: v, count, file, providerDataDir: p.dataDir });
      const items = JSON.parse(readFileSync(file, 'utf8')) as LoadItem[];
      const result = await profiled(site, `site-${v}`, () =>
        runLoad({
          url: `http://127.0.0.1:${ports[`${v}Port`]}`,
          path: paths[v],
          items,
          durationSeconds: seconds,
          connections,
          okStatus: 303,
        }),
      );
      const bad = Object.keys(result.statusCodes).filter((c) => c !== '303');
      if (bad.length > 0 || result.errors > 0 || (result.exhausted && v !== 'bare')) {
        console.warn(`${v}: statuses ${JSON.stringify(result.statusCodes)}`, result);
      }
      return result;
    };
    // Warm-up: JIT, discovery and the association, connection pools. Its rate sizes the
    // pools of one-use requests (the bare endpoint may reuse its requests).
    const pools = new Map<Variant, number>();
    for (const v of VARIANTS) {
      const warm = await run(v, 2, 20_000);
      pools.set(v, Math.min(600_000, Math.ceil(warm.requestsPerSecond * duration * 3) + 5000));
    }
    const results = new Map<Variant, LoadResult[]>(VARIANTS.map((v) => [v, []]));
    for (let i = 0; i < rounds; i++) {
      for (const v of shuffled(VARIANTS)) {
        const r = await run(v, duration, pools.get(v) ?? 50_000);
        results.get(v)?.push(r);
        console.log(`round ${i + 1} ${v}: ${Math.round(r.requestsPerSecond)} req/s`);
      }
    }
    const summary = Object.fromEntries(
      VARIANTS.map((v) => [v, meanOf(results.get(v) ?? [])]),
    ) as Record<Variant, ReturnType<typeof meanOf>>;
    const ratios = {
      associationOverBare: summary.association.requestsPerSecond / summary.bare.requestsPerSecond,
      directOverBare: summary.direct.requestsPerSecond / summary.bare.requestsPerSecond,
    };
    printTable(
      `Site delivery POST throughput (${rounds} x ${duration} s interleaved, ${connections} connections)`,
      VARIANTS.map((v) => ({
        variant: v,
        'req/s': summary[v].requestsPerSecond,
        'p50 ms': summary[v].latencyMs.p50,
        'p90 ms': summary[v].latencyMs.p90,
        'p99 ms': summary[v].latencyMs.p99,
        'vs bare': summary[v].requestsPerSecond / summary.bare.requestsPerSecond,
      })),
    );
    writeResult('site-verify', machine, {
      durationSeconds: duration,
      rounds,
      connections,
      summary,
      ratios,
      statusCodes: Object.fromEntries(
        VARIANTS.map((v) => [v, (results.get(v) ?? []).map((r) => r.statusCodes)]),
      ),
    });
  } finally {
    await site.stop();
    await provider.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
