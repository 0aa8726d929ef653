// Benchmark 3: provider assertion throughput. POST /bsso/assertion for a signed-in session
// (extension Origin, session cookie), signed with an association key and with the provider
// key, against a bare Express endpoint that only looks the session up. Interleaved rounds.
// Also each run's CPU time of the server process per request (Linux /proc): where the time
// of an answer goes, bare against BSSO. It moves with the machine's load too (other work
// slows the same code down), so compare it within one run only.
// --before=<dir>: also both key variants of another checkout (with its own installed
// node_modules), as `*-before` in the same interleaved rounds, so a change is measured
// against the code before it under the same machine load.
// Run: npm run bench:provider -w @bsso/bench [-- --duration=10 --rounds=3 --connections=10]
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createNonce } from '@bsso/protocol';
import { makeTestPki } from '../../e2e/src/pki.ts';
import { type ChildServer, profiled, startChild } from './lib/child.ts';
import { type LoadItem, runLoad } from './lib/load.ts';
import { machineInfo } from './lib/machine.ts';
import { associate, EXTENSION_ORIGIN, signIn } from './lib/provider-client.ts';
import { numberFlag, printTable, RESULTS_DIR } from './lib/report.ts';
import { interleavedRounds, reportThroughput } from './lib/throughput.ts';
import { BARE_SESSION_COOKIE } from './servers/bare.ts';

type Variant =
  | 'bare'
  | 'association-key'
  | 'provider-key'
  | 'association-key-tmpfs'
  | 'association-key-before'
  | 'provider-key-before';
const ALICE = { email: 'alice@mail.test', password: 'correct horse battery staple' };
const AUDIENCE = 'https://site.test/bsso';

function items(count: number, headers: Record<string, string>, handle?: string): LoadItem[] {
  return Array.from({ length: count }, () => ({
    headers,
    body: JSON.stringify({
      email: ALICE.email,
      audience: AUDIENCE,
      nonce: createNonce(),
      ...(handle ? { handle } : {}),
    }),
  }));
}

/** The pids of this process's children (Linux); empty where /proc is missing. */
function childPids(): Set<number> {
  const pids = new Set<number>();
  try {
    for (const task of readdirSync('/proc/self/task')) {
      const text = readFileSync(`/proc/self/task/${task}/children`, 'utf8');
      for (const pid of text.split(' ').filter(Boolean)) pids.add(Number(pid));
    }
  } catch {
    // Not Linux: no CPU figures.
  }
  return pids;
}

/** Starts a server child and finds its pid (the one child that was not there before). */
async function startServer(file: string): Promise<{ server: ChildServer; pid?: number }> {
  const before = childPids();
  const server = await startChild(file);
  const pid = [...childPids()].find((p) => !before.has(p));
  return pid === undefined ? { server } : { server, pid };
}

const TICKS_PER_SECOND = 100; // USER_HZ: `getconf CLK_TCK` is 100 on Linux
/** User plus system CPU time of `pid` in ms (/proc/<pid>/stat, fields 14 and 15). */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

interface Server {
  server: ChildServer;
  pid?: number;
  base: string;
  session: string;
  handle: string;
}

/** Starts a provider child (added to `children` at once), signs Alice in, associates. */
async function startProvider(file: string, args: Record<string, unknown>, children: ChildServer[]) {
  const { server, pid } = await startServer(file);
  children.push(server);
  const ports = await server.call<{ httpPort: number; barePort: number }>('start', args);
  const base = `http://127.0.0.1:${ports.httpPort}`;
  const session = await signIn(base, ALICE.email, ALICE.password);
  const handle = await associate(base, 'https://site.test');
  const started: Server = { server, base, session, handle, ...(pid === undefined ? {} : { pid }) };
  return { ...started, barePort: ports.barePort };
}

async function main(): Promise<void> {
  const duration = numberFlag('duration', 10);
  const rounds = numberFlag('rounds', 3);
  const connections = numberFlag('connections', 10);
  const beforeDir = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);
  const variants: readonly Variant[] = [
    'bare',
    'association-key',
    'provider-key',
    'association-key-tmpfs',
    ...(beforeDir ? (['association-key-before', 'provider-key-before'] as const) : []),
  ];
  const machine = machineInfo();
  const file = resolve(import.meta.dirname, 'servers/provider-server.ts');
  const pki = makeTestPki(['mail.test']);
  const children: ChildServer[] = [];
  const cpuPerRequest = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  try {
    const provider = await startProvider(file, { pki, ...ALICE }, children);
    // The same provider with its database on tmpfs: the cost of the disk, side by side.
    const tmpfs = await startProvider(file, { pki, ...ALICE, dataRoot: '/dev/shm' }, children);
    const beforeFile = beforeDir && resolve(beforeDir, 'bench/src/servers/provider-server.ts');
    const before = beforeFile
      ? await startProvider(beforeFile, { pki, ...ALICE }, children)
      : undefined;
    const bareId = randomBytes(32).toString('base64url');
    await provider.server.call('addBareSession', { id: bareId, email: ALICE.email });
    const json = { 'content-type': 'application/json', origin: EXTENSION_ORIGIN };
    const bare: Server = { ...provider, base: `http://127.0.0.1:${provider.barePort}` };
    // Each variant: its server, and whether it names an association handle.
    const setup: Record<Variant, { at: Server; handle: boolean }> = {
      bare: { at: bare, handle: false },
      'association-key': { at: provider, handle: true },
      'provider-key': { at: provider, handle: false },
      'association-key-tmpfs': { at: tmpfs, handle: true },
      'association-key-before': { at: before ?? provider, handle: true },
      'provider-key-before': { at: before ?? provider, handle: false },
    };
    // Nonces only have to be well formed at the provider: a pool may repeat.
    const pool = (v: Variant): LoadItem[] => {
      const { at, handle } = setup[v];
      const cookie = v === 'bare' ? `${BARE_SESSION_COOKIE}=${bareId}` : at.session;
      return items(20_000, { ...json, cookie }, handle ? at.handle : undefined);
    };
    const pools = new Map(variants.map((v) => [v, pool(v)]));
    const run = async (v: Variant, seconds: number, timed = true) => {
      const { at } = setup[v];
      const cpuBefore = cpuMs(at.pid);
      const r = await profiled(at.server, `provider-${v}`, () =>
        runLoad({
          url: at.base,
          path: v === 'bare' ? '/bare' : '/bsso/assertion',
          items: pools.get(v) ?? [],
          durationSeconds: seconds,
          connections,
          okStatus: 200,
        }),
      );
      const cpuAfter = cpuMs(at.pid);
      if (timed && cpuBefore !== undefined && cpuAfter !== undefined && r.total > 0) {
        cpuPerRequest.get(v)?.push(((cpuAfter - cpuBefore) * 1000) / r.total);
      }
      const bad = Object.keys(r.statusCodes).filter((c) => c !== '200');
      if (bad.length > 0 || r.errors > 0) console.warn(`${v}: ${JSON.stringify(r.statusCodes)}`);
      return r;
    };
    for (const v of variants) await run(v, 2, false);
    const results = await interleavedRounds(variants, rounds, (v) => run(v, duration));
    reportThroughput({
      name: 'provider-assert',
      title: 'Provider assertion throughput',
      variants,
      results,
      machine,
      durationSeconds: duration,
      rounds,
      connections,
    });
    reportCpu(variants, cpuPerRequest);
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

await main();

/**
 * The server's CPU time per answered request, per variant (mean of the rounds), and bare's
 * over each variant's: the share of bare's throughput a variant would reach on a machine of
 * its own, CPU-bound. Printed, and added to the JSON result as `cpu`.
 */
function reportCpu(variants: readonly Variant[], cpuPerRequest: Map<Variant, number[]>): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  const perRequest = Object.fromEntries(variants.map((v) => [v, mean(cpuPerRequest.get(v) ?? [])]));
  if (variants.some((v) => !(perRequest[v] ?? 0))) return; // no /proc: nothing measured
  const bare = perRequest.bare ?? 0;
  printTable(
    'Server CPU time per request',
    variants.map((v) => ({
      variant: v,
      'CPU us/req': perRequest[v] ?? 0,
      'bare/variant': bare / (perRequest[v] ?? 1),
    })),
  );
  const file = join(RESULTS_DIR, 'provider-assert.json');
  const result = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  result.cpu = {
    microsecondsPerRequest: Object.fromEntries(variants.map((v) => [v, round(perRequest[v] ?? 0)])),
    perRound: Object.fromEntries(variants.map((v) => [v, (cpuPerRequest.get(v) ?? []).map(round)])),
    bareOverVariant: Object.fromEntries(
      variants.filter((v) => v !== 'bare').map((v) => [v, round(bare / (perRequest[v] ?? 1))]),
    ),
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
