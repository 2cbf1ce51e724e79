/**
 * Traffic forecasting: the engine learns the seasonal shape of demand (a daily period by default; a scenario with
 * a compressed clock sets its own) and raises the replica floor ahead of predicted demand by the pod start time.
 *
 * What is learned: per bucket of the period (96 buckets = 15 min of a day), an exponential average of the peak
 * demand seen in it (concurrency units, as the horizontal axis measures it). It is small (one number per bucket)
 * and lives apart from the engine's memory (`DecisionInput.seasonality` → `Decision.seasonality`) so a caller
 * persists it (`encodeSeasonality`, ~0.4 kB base64) and a restarted controller keeps it.
 *
 * When it acts: only after a full period has been seen, and only while the pattern holds: each bucket boundary
 * compares the bucket's realised peak with what was forecast for it; a forecast rise that did not come (realised
 * under `forecastMissFraction` of the forecast) switches the forecast off until a full period confirms the
 * pattern again. So when the pattern breaks it costs at most one bucket's extra pods, never a 429.
 */
import type { EngineConfig } from "./config.ts";
import type { Seasonality } from "./types.ts";

export type { Seasonality };

/** A fresh, empty seasonality for the engine config's period. */
export function emptySeasonality(cfg: EngineConfig, nowMs: number): Seasonality {
  const bucketMs = cfg.forecastPeriodMs / cfg.forecastBuckets;
  const bucket = Math.floor(nowMs / bucketMs);
  return { periodMs: cfg.forecastPeriodMs, bucketMs, peaks: new Array<number>(cfg.forecastBuckets).fill(Number.NaN), bucket, running: 0, folded: 0, trustedFromBucket: bucket + cfg.forecastBuckets };
}

const slot = (s: Seasonality, absolute: number): number => ((absolute % s.peaks.length) + s.peaks.length) % s.peaks.length;

/** The forecast peak demand of an absolute bucket; NaN when unknown. */
function forecastOf(s: Seasonality, absolute: number): number {
  return s.peaks[slot(s, absolute)] ?? Number.NaN;
}

/**
 * Fold the demand of one decision at `nowMs` into the seasonality (a new bucket closes the previous one: its peak
 * joins the average, and a forecast rise that did not come stops the forecast for a period).
 */
export function observeDemand(prev: Seasonality | undefined, demand: number | undefined, nowMs: number, cfg: EngineConfig): Seasonality {
  let s = prev !== undefined && prev.periodMs === cfg.forecastPeriodMs && prev.peaks.length === cfg.forecastBuckets ? prev : emptySeasonality(cfg, nowMs);
  const bucket = Math.floor(nowMs / s.bucketMs);
  if (bucket > s.bucket) {
    const peaks = [...s.peaks];
    let trusted = s.trustedFromBucket;
    // close the bucket being filled (gaps: buckets with no decision at all are left as they were)
    const i = slot(s, s.bucket);
    const before = peaks[i]!;
    const forecastRise = Number.isFinite(before) && isRise(s, s.bucket);
    if (s.bucket >= s.trustedFromBucket && forecastRise && s.running < cfg.forecastMissFraction * before) trusted = bucket + peaks.length;
    peaks[i] = Number.isFinite(before) ? before + cfg.forecastSmoothing * (s.running - before) : s.running;
    s = { ...s, peaks, bucket, running: 0, folded: s.folded + 1, trustedFromBucket: trusted };
  }
  if (demand !== undefined && Number.isFinite(demand) && demand > s.running) s = { ...s, running: demand };
  return s;
}

/** A bucket whose forecast peak is well above the one before it: a predicted rise. */
function isRise(s: Seasonality, absolute: number): boolean {
  const here = forecastOf(s, absolute);
  const before = forecastOf(s, absolute - 1);
  return Number.isFinite(here) && Number.isFinite(before) && here > 1.5 * before;
}

/**
 * The demand to be ready for at `nowMs`: the highest forecast peak of the buckets from now to `leadMs` ahead,
 * or undefined while the forecast is not trusted (less than a full period seen, or a recent miss).
 * Example: a burst bucket at 600 s each 600 s period, lead 40 s: from 560 s on the floor is the burst's peak.
 */
export function forecastDemand(s: Seasonality | undefined, nowMs: number, leadMs: number): number | undefined {
  if (s === undefined) return undefined;
  const bucket = Math.floor(nowMs / s.bucketMs);
  if (bucket < s.trustedFromBucket || s.folded < s.peaks.length) return undefined;
  let peak = 0;
  const last = Math.floor((nowMs + leadMs) / s.bucketMs);
  for (let b = bucket; b <= last; b++) {
    const f = forecastOf(s, b);
    if (Number.isFinite(f)) peak = Math.max(peak, f);
  }
  return peak > 0 ? peak : undefined;
}

/** Compact form for persistence (a status field): period and bucket counts, then the peaks as float32, base64. */
export function encodeSeasonality(s: Seasonality): string {
  // the counters as text (bucket indices of epoch milliseconds do not fit a float32), the peaks as float32
  const head = [s.periodMs, s.peaks.length, s.bucket, s.folded, s.trustedFromBucket, s.running];
  const f = Float32Array.from(s.peaks);
  return `v1:${head.join(",")}:${Buffer.from(f.buffer).toString("base64")}`;
}

/** The inverse of `encodeSeasonality`; undefined for anything else (a caller then starts afresh). */
export function decodeSeasonality(text: string | undefined): Seasonality | undefined {
  if (text === undefined) return undefined;
  const m = /^v1:([0-9.,eE+-]+):([A-Za-z0-9+/=]*)$/.exec(text);
  if (m === null) return undefined;
  const head = m[1]!.split(",").map(Number);
  if (head.length !== 6 || head.some((v) => !Number.isFinite(v))) return undefined;
  const [periodMs, n, bucket, folded, trustedFromBucket, running] = head as [number, number, number, number, number, number];
  const bytes = Buffer.from(m[2]!, "base64");
  if (!Number.isInteger(n) || n < 1 || bytes.length !== n * 4) return undefined;
  const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return { periodMs, bucketMs: periodMs / n, peaks: Array.from(f), bucket, running, folded, trustedFromBucket };
}
