// Summary statistics of latency samples (ms).

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
  /** Interquartile range: the spread that one slow outlier does not move. */
  iqr: number;
}

/** Linear-interpolated percentile of a sorted array; q in [0, 1]. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((x, y) => x - y);
  const mean = s.reduce((sum, v) => sum + v, 0) / (s.length || 1);
  return {
    n: s.length,
    median: percentile(s, 0.5),
    p95: percentile(s, 0.95),
    p99: percentile(s, 0.99),
    mean,
    min: s[0] ?? Number.NaN,
    max: s.at(-1) ?? Number.NaN,
    iqr: percentile(s, 0.75) - percentile(s, 0.25),
  };
}

/** Rounds for printing and JSON: 3 significant decimals below 10, 1 above. */
export function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  return Math.abs(v) < 10 ? Math.round(v * 1000) / 1000 : Math.round(v * 10) / 10;
}

/** Fisher-Yates shuffle (a copy): interleaves variants in a different order every round. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
