// Benchmark 2: site verification throughput. The delivery POST verified with a cached
// association and with direct verification, against a bare Express endpoint that only
// issues a session cookie. Rounds interleave the three. Loopback only.
// Run: npm run bench:site -w @bsso/bench [-- --duration=10 --rounds=3 --connections=10]
// --before=<dir>: also the association variant of another checkout (with its own installed
// node_modules), as `association-before` in the same interleaved rounds, so a change is
// measured against the code before it under the same machine load.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { profiled, startChild } from './lib/child.ts';
import { type LoadItem, runLoad } from './lib/load.ts';
import { machineInfo } from './lib/machine.ts';
import { numberFlag } from './lib/report.ts';
import { interleavedRounds, reportThroughput } from './lib/throughput.ts';

type Variant = 'bare' | 'association' | 'direct' | 'association-before';
const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };

async function main(): Promise<void> {
  const duration = numberFlag('duration', 10);
  const rounds = numberFlag('rounds', 3);
  const connections = numberFlag('connections', 10);
  const beforeDir = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);
  const VARIANTS: readonly Variant[] = beforeDir
    ? ['bare', 'association', 'association-before', 'direct']
    : ['bare', 'association', 'direct'];
  const machine = machineInfo();
  const pki = makeTestPki(['mail.test']);
  const tmp = mkdtempSync(join(tmpdir(), 'bsso-bench-site-'));
  const provider = await startChild(resolve(import.meta.dirname, 'servers/provider-server.ts'));
  const site = await startChild(resolve(import.meta.dirname, 'servers/site-server.ts'));
  const before = beforeDir
    ? await startChild(resolve(beforeDir, 'bench/src/servers/site-server.ts'))
    : undefined;
  try {
    const p = await provider.call<{ dataDir: string; httpsPort: number }>('start', {
      pki,
      ...ALICE,
    });
    const args = { pki, providerPort: p.httpsPort };
    const ports = await site.call<Record<`${Variant}Port`, number>>('start', args);
    if (before) {
      const theirs = await before.call<{ associationPort: number }>('start', args);
      ports['association-beforePort'] = theirs.associationPort;
    }
    const paths: Record<Variant, string> = {
      bare: '/login',
      association: '/bsso',
      'association-before': '/bsso',
      direct: '/bsso',
    };
    const run = async (v: Variant, seconds: number, count: number) => {
      const file = join(tmp, `${v}.json`);
      const server = v === 'association-before' && before ? before : site;
      const mode = v === 'association-before' ? 'association' : v;
      await server.call('prepare', { mode, count, file, providerDataDir: p.dataDir });
      const items = JSON.parse(readFileSync(file, 'utf8')) as LoadItem[];
      const result = await profiled(server, `site-${v}`, () =>
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
    // pools of one-use requests (the bare endpoint may reuse its requests). A pool stays
    // below the site's nonce store cap (memoryCapacity.nonces, 100 000): beyond it the first
    // nonces prepared are pushed out and their deliveries answer 400.
    const pools = new Map<Variant, number>();
    for (const v of VARIANTS) {
      const warm = await run(v, 2, 20_000);
      pools.set(v, Math.min(95_000, Math.ceil(warm.requestsPerSecond * duration * 3) + 5000));
    }
    const results = await interleavedRounds(VARIANTS, rounds, (v) =>
      run(v, duration, pools.get(v) ?? 50_000),
    );
    reportThroughput({
      name: 'site-verify',
      title: 'Site delivery POST throughput',
      variants: VARIANTS,
      results,
      machine,
      durationSeconds: duration,
      rounds,
      connections,
    });
  } finally {
    await site.stop();
    await before?.stop();
    await provider.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
