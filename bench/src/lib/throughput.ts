// The shared shape of the throughput benchmarks (2 and 3): variants measured in shuffled,
// interleaved rounds, then one table and one JSON result with each variant's ratio to `bare`.
import { type LoadResult, meanOf } from './load.ts';
import type { MachineInfo } from './machine.ts';
import { printTable, writeResult } from './report.ts';
import { shuffled } from './stats.ts';

/** Runs every variant once per round, in a new random order each round. */
export async function interleavedRounds<V extends string>(
  variants: readonly V[],
  rounds: number,
  run: (variant: V) => Promise<LoadResult>,
): Promise<Map<V, LoadResult[]>> {
  const results = new Map<V, LoadResult[]>(variants.map((v) => [v, []]));
  for (let i = 0; i < rounds; i++) {
    for (const v of shuffled(variants)) {
      const r = await run(v);
      results.get(v)?.push(r);
      console.log(`round ${i + 1} ${v}: ${Math.round(r.requestsPerSecond)} req/s`);
    }
  }
  return results;
}

/** 'association-key' -> 'associationKeyOverBare', the ratio's name in the JSON. */
function ratioName(variant: string): string {
  return `${variant.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}OverBare`;
}

export interface ThroughputReport<V extends string> {
  name: string;
  title: string;
  /** Must include 'bare', the baseline every ratio divides by. */
  variants: readonly V[];
  results: Map<V, LoadResult[]>;
  machine: MachineInfo;
  durationSeconds: number;
  rounds: number;
  connections: number;
}

export function reportThroughput<V extends string>(report: ThroughputReport<V>): void {
  const summary = Object.fromEntries(
    report.variants.map((v) => [v, meanOf(report.results.get(v) ?? [])]),
  ) as Record<V, ReturnType<typeof meanOf>>;
  const bare = summary['bare' as V].requestsPerSecond;
  const ratios = Object.fromEntries(
    report.variants
      .filter((v) => v !== 'bare')
      .map((v) => [ratioName(v), summary[v].requestsPerSecond / bare]),
  );
  printTable(
    `${report.title} (${report.rounds} x ${report.durationSeconds} s interleaved, ${report.connections} connections)`,
    report.variants.map((v) => ({
      variant: v,
      'req/s': summary[v].requestsPerSecond,
      'p50 ms': summary[v].latencyMs.p50,
      'p90 ms': summary[v].latencyMs.p90,
      'p99 ms': summary[v].latencyMs.p99,
      'vs bare': summary[v].requestsPerSecond / bare,
    })),
  );
  writeResult(report.name, report.machine, {
    durationSeconds: report.durationSeconds,
    rounds: report.rounds,
    connections: report.connections,
    summary,
    ratios,
    statusCodes: Object.fromEntries(
      report.variants.map((v) => [v, (report.results.get(v) ?? []).map((r) => r.statusCodes)]),
    ),
  });
}
