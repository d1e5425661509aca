/** Summary of a set of measurements (all in the unit of the input). */
export type Summary = Readonly<{ n: number; min: number; median: number; p99: number; max: number; mean: number }>;

/** Nearest-rank percentiles; with fewer than 100 values the p99 is the maximum. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, min: NaN, median: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: rank(0.5),
    p99: rank(0.99),
    max: sorted.at(-1)!,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

/** Rounds for the report: 3 significant decimals below 10, 1 decimal below 1000, integers above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value);
  if (magnitude >= 10) return Math.round(value * 10) / 10;
  return Math.round(value * 1000) / 1000;
}

/** A summary with every figure rounded. */
export function rounded(summary: Summary): Summary {
  return {
    n: summary.n,
    min: round(summary.min),
    median: round(summary.median),
    p99: round(summary.p99),
    max: round(summary.max),
    mean: round(summary.mean),
  };
}
