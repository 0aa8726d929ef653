// autocannon over loopback for a bounded time, fed with pre-generated one-use requests.
import autocannon, { type RequestParams, type Result } from 'autocannon';

export interface LoadItem {
  headers: Record<string, string>;
  body: string;
}

export interface LoadOptions {
  url: string;
  path: string;
  method?: string;
  items: readonly LoadItem[];
  durationSeconds: number;
  connections: number;
  /** The answer a request counts for; others are reported and not counted. */
  okStatus: number;
}

export interface LoadResult {
  /** Answers with the expected status per second. */
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  total: number;
  statusCodes: Record<string, number>;
  errors: number;
  /** True when the run used more requests than were prepared (later ones repeat). */
  exhausted: boolean;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let i = 0;
  const setupRequest = (req: RequestParams): RequestParams => {
    const item = options.items[i++ % options.items.length] as LoadItem;
    return { ...req, headers: { ...req.headers, ...item.headers }, body: item.body };
  };
  const result: Result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    requests: [{ method: options.method ?? 'POST', path: options.path, setupRequest }],
  });
  return {
    requestsPerSecond: (result.statusCodeStats[options.okStatus]?.count ?? 0) / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.mean,
      max: result.latency.max,
    },
    total: result.requests.total,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]),
    ),
    errors: result.errors + result.timeouts,
    exhausted: i > options.items.length,
  };
}

/** Mean of each number across rounds. */
export function meanOf(results: readonly LoadResult[]) {
  const avg = (f: (r: LoadResult) => number) =>
    results.reduce((s, r) => s + f(r), 0) / (results.length || 1);
  return {
    requestsPerSecond: avg((r) => r.requestsPerSecond),
    latencyMs: {
      p50: avg((r) => r.latencyMs.p50),
      p90: avg((r) => r.latencyMs.p90),
      p99: avg((r) => r.latencyMs.p99),
      mean: avg((r) => r.latencyMs.mean),
    },
    perRound: results.map((r) => r.requestsPerSecond),
  };
}
