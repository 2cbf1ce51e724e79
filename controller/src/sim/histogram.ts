/**
 * Log-bucketed latency histograms (16 buckets per doubling, ≈4.4% resolution, 0.01 ms to ~2e6 ms),
 * so a run keeps counts per second instead of every latency.
 */

export const BUCKETS = 448;
const MIN_MS = 0.01;
const PER_DOUBLING = 16;

/** Bucket index of a latency in ms. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.floor(Math.log2(ms / MIN_MS) * PER_DOUBLING);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** Representative latency of a bucket (geometric middle), ms. */
export function bucketValue(i: number): number {
  return MIN_MS * 2 ** ((i + 0.5) / PER_DOUBLING);
}

/** Upper edge of a bucket, ms: every latency in buckets ≤ i is below it. */
export function bucketUpper(i: number): number {
  return MIN_MS * 2 ** ((i + 1) / PER_DOUBLING);
}

/**
 * Quantile q in (0, 1] of the counts in `h[off, off + BUCKETS)`; NaN when empty.
 */
export function quantile(h: Uint32Array | Float64Array, q: number, off = 0, total?: number): number {
  let n = total;
  if (n === undefined) {
    n = 0;
    for (let i = 0; i < BUCKETS; i++) n += h[off + i]!;
  }
  if (n === 0) return NaN;
  const rank = Math.ceil(q * n);
  let acc = 0;
  for (let i = 0; i < BUCKETS; i++) {
    acc += h[off + i]!;
    if (acc >= rank) return bucketValue(i);
  }
  return bucketValue(BUCKETS - 1);
}
