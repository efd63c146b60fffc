/** Pure statistics and rounding shared by the benchmarks. */

/** Median of an unsorted sample (mean of the two middle values when even); NaN when empty. */
export function median (samples: readonly number[]): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Arithmetic mean of a sample; 0 when empty. */
export function mean (samples: readonly number[]): number {
  return samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)
}

/** Percentile `q` (0..1) by nearest rank of an unsorted sample; NaN when empty. */
export function percentile (samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** Round to two decimals, for the report. */
export function round2 (x: number): number {
  return Math.round(x * 100) / 100
}

/** Round to three decimals, for ratios and fractions. */
export function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}
