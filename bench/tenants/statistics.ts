// The statistics of `bench:tenants`: rank-based, so a few slow outliers (GC, a neighbour's burst on a
// shared machine) cannot decide the answer.

export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export interface MannWhitney {
  /** U of the first sample. */
  readonly u: number;
  /** The standardised U (normal approximation, with the tie correction). */
  readonly z: number;
  /** Two-sided p-value: how likely a difference at least this large is when both come from one distribution. */
  readonly p: number;
  /** P(a random value of the first sample > one of the second), 0.5 when they are alike. */
  readonly probabilityOfSuperiority: number;
}

/** The Mann-Whitney U test of two independent samples. */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitney {
  const all = [...a.map((value) => ({ value, first: true })), ...b.map((value) => ({ value, first: false }))].sort((x, y) => x.value - y.value);
  const n = all.length;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && all[end + 1]!.value === all[start]!.value) end++;
    const rank = (start + end) / 2 + 1; // ties share the mean of their ranks
    const ties = end - start + 1;
    tieTerm += ties ** 3 - ties;
    for (let i = start; i <= end; i++) if (all[i]!.first) rankSumA += rank;
    start = end + 1;
  }
  const n1 = a.length;
  const n2 = b.length;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = sigma === 0 ? 0 : (u - mean) / sigma;
  return { u, z, p: 2 * (1 - normalCdf(Math.abs(z))), probabilityOfSuperiority: u / (n1 * n2) };
}

/** The difference of medians (a − b) with a bootstrap confidence interval. */
export function medianDifference(a: readonly number[], b: readonly number[], confidence = 0.95, resamples = 2000, seed = 42): { estimate: number; low: number; high: number } {
  const random = mulberry32(seed);
  const resample = (values: readonly number[]) => Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)]!);
  const differences = Array.from({ length: resamples }, () => quantile(resample(a), 0.5) - quantile(resample(b), 0.5)).sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  return { estimate: quantile(a, 0.5) - quantile(b, 0.5), low: quantile(differences, tail), high: quantile(differences, 1 - tail) };
}

function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

// Abramowitz and Stegun 7.1.26: |error| < 1.5e-7, plenty for a p-value.
function erf(x: number): number {
  const sign = Math.sign(x);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
