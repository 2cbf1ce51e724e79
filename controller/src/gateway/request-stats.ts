/**
 * Per-request gateway timings → the time fields of the engine's per-endpoint samples. Pure: numbers in,
 * numbers out; no clock, no I/O. One signal path for every caller:
 * - the gateway agent folds each HAProxy log record into cumulative `RequestCounters` per endpoint and
 *   serves them (request-stats-wire.ts);
 * - the controller (and the local loop) takes the increase between two readings (`subtractCounters`), sums
 *   it over gateway replicas (`addCounters`) and turns it into sample fields (`sampleTimeFields`);
 * - the simulator emulates that reader by folding its simulated requests into a `RequestCounters` per
 *   interval with the same `observeRequest` and reading it with the same `sampleTimeFields`.
 *
 * What one request contributes, with the HAProxy 2.6 timers of its log line (request-log.ts):
 * - queue time: `%Tw`, the wait in the endpoint's queue for a pod slot (0 when a slot was free);
 * - service time: `%Tc + %Tr + %Td`, from the moment the request left the queue to the last byte of the
 *   answer: the time it held the pod slot;
 * - latency: queue + service, what the gateway adds up for the caller once the request is in (the client's
 *   own upload and header time are left out: the pod and the queue do not cause them);
 * - over the objective: latency > the endpoint's p99 objective.
 * Only requests a pod answered count (whatever its status): 429s, no-pod 503s and requests refused at the
 * gateway hold no slot and have no service time.
 *
 * Sample fields are means over the requests completed in the interval (each request's own measured times),
 * not an instant in-flight ÷ completions: at 5 req/s that ratio reads 0 or 200 ms for a 100 ms model.
 */

/** One request as the gateway timed it. Times in ms; HAProxy's are whole milliseconds. */
export interface RequestTiming {
  /** Wait in the endpoint queue (`%Tw`); 0 when a pod slot was free at once. */
  readonly queueMs: number;
  /** Time the request held a pod slot (`%Tc + %Tr + %Td`); undefined when no pod answered it. */
  readonly serviceMs: number | undefined;
}

/**
 * Latency histogram buckets: whole milliseconds below 16 ms (bucket i = [i, i+1)), then 8 buckets per
 * doubling (≈9% wide) from 16 ms; the last bucket (from 15.4 million ms, 4.3 h) also holds everything above.
 * Worked example: 5 ms → bucket 5; 16 ms → 16; 100 ms → 16 + floor(8·log2(100/16)) = 37 ([98.7, 107.6) ms).
 */
export const LINEAR_BUCKETS = 16;
export const BUCKETS_PER_DOUBLING = 8;
export const HISTOGRAM_BUCKETS = LINEAR_BUCKETS + BUCKETS_PER_DOUBLING * 20;

/**
 * The smallest service time a sample reports. HAProxy's timers are whole milliseconds, so a sub-millisecond
 * model reads 0 ms on most requests; a mean below this is reported as this (the middle of the resolution),
 * never 0: arrivals × 0 ms would erase real load and a 0 ms baseline would make every later reading look slow.
 */
export const SERVICE_TIME_FLOOR_MS = 0.5;

/** Bucket index of a latency in ms. */
export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  if (ms < LINEAR_BUCKETS) return Math.floor(ms);
  const i = LINEAR_BUCKETS + Math.floor(Math.log2(ms / LINEAR_BUCKETS) * BUCKETS_PER_DOUBLING);
  return i >= HISTOGRAM_BUCKETS ? HISTOGRAM_BUCKETS - 1 : i;
}

/** Lower edge of bucket `i`, ms. */
export function bucketLowerMs(i: number): number {
  return i <= LINEAR_BUCKETS ? i : LINEAR_BUCKETS * 2 ** ((i - LINEAR_BUCKETS) / BUCKETS_PER_DOUBLING);
}

/** Upper edge of bucket `i`, ms (the last bucket's is where it starts to hold overflow). */
export function bucketUpperMs(i: number): number {
  return bucketLowerMs(i + 1);
}

/**
 * Cumulative (or, after `subtractCounters`, per-interval) request counts of one endpoint. Plain data, so a
 * reading can be copied, sent and subtracted. `histogram` is dense, `HISTOGRAM_BUCKETS` long.
 */
export interface RequestCounters {
  /** Requests a pod answered. */
  served: number;
  /** Sum of their service times, ms. */
  serviceMsSum: number;
  /** Sum of their queue times, ms. */
  queueMsSum: number;
  /** Of them, those whose latency exceeded the objective (0 while the endpoint has none). */
  overObjective: number;
  /** Their latencies (queue + service), counts per bucket. */
  readonly histogram: Float64Array;
}

export function emptyCounters(): RequestCounters {
  return { served: 0, serviceMsSum: 0, queueMsSum: 0, overObjective: 0, histogram: new Float64Array(HISTOGRAM_BUCKETS) };
}

/**
 * Folds one request into `c` (in place). `objectiveMs` is the endpoint's p99 latency objective (undefined:
 * none, nothing is counted over it). Requests no pod answered change nothing here.
 */
export function observeRequest(c: RequestCounters, t: RequestTiming, objectiveMs: number | undefined): void {
  if (t.serviceMs === undefined || !(t.serviceMs >= 0)) return;
  const queueMs = t.queueMs > 0 ? t.queueMs : 0;
  const latencyMs = queueMs + t.serviceMs;
  c.served += 1;
  c.serviceMsSum += t.serviceMs;
  c.queueMsSum += queueMs;
  if (objectiveMs !== undefined && latencyMs > objectiveMs) c.overObjective += 1;
  c.histogram[latencyBucket(latencyMs)]! += 1;
}

/** Copy of a reading. */
export function copyCounters(c: RequestCounters): RequestCounters {
  return { served: c.served, serviceMsSum: c.serviceMsSum, queueMsSum: c.queueMsSum, overObjective: c.overObjective, histogram: Float64Array.from(c.histogram) };
}

/** Adds `b` into `a` (in place): sums of replicas, or of several intervals. */
export function addCounters(a: RequestCounters, b: RequestCounters): void {
  a.served += b.served;
  a.serviceMsSum += b.serviceMsSum;
  a.queueMsSum += b.queueMsSum;
  a.overObjective += b.overObjective;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) a.histogram[i]! += b.histogram[i]!;
}

/**
 * The increase from reading `prev` to reading `cur` of one replica's cumulative counters. A reading smaller
 * than the one before (the agent restarted and counted from 0) gives `cur` itself, like a Prometheus counter
 * reset; no previous reading gives nothing (zero): counts since an unknown start are not one interval's.
 */
export function subtractCounters(cur: RequestCounters, prev: RequestCounters | undefined): RequestCounters {
  if (prev === undefined) return emptyCounters();
  if (cur.served < prev.served) return copyCounters(cur);
  const out = emptyCounters();
  out.served = cur.served - prev.served;
  out.serviceMsSum = Math.max(0, cur.serviceMsSum - prev.serviceMsSum);
  out.queueMsSum = Math.max(0, cur.queueMsSum - prev.queueMsSum);
  out.overObjective = Math.max(0, cur.overObjective - prev.overObjective);
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) out.histogram[i] = Math.max(0, cur.histogram[i]! - prev.histogram[i]!);
  return out;
}

/**
 * Latency at quantile `q` (0 < q ≤ 1) of a histogram: the bucket holding rank q·n, linearly interpolated
 * inside it (Prometheus' `histogram_quantile` rule). Undefined when empty.
 * Worked example: 100 requests, 99 in bucket 37 ([98.7, 107.6) ms) and 1 in bucket 45 ([197.4, 215.3) ms):
 * p50 = 98.7 + 8.93·(50/99) ≈ 103.2 ms; p99 = rank 99 → the top of bucket 37 ≈ 107.6 ms.
 */
export function histogramQuantileMs(h: Float64Array, q: number, total?: number): number | undefined {
  let n = total ?? 0;
  if (total === undefined) for (let i = 0; i < h.length; i++) n += h[i]!;
  if (n <= 0) return undefined;
  const rank = q * n;
  let below = 0;
  for (let i = 0; i < h.length; i++) {
    const c = h[i]!;
    if (c > 0 && below + c >= rank) {
      const lo = bucketLowerMs(i);
      return lo + (bucketUpperMs(i) - lo) * Math.min(1, Math.max(0, (rank - below) / c));
    }
    below += c;
  }
  return bucketUpperMs(h.length - 1);
}

/**
 * `histogramQuantileMs` over a sparse histogram: (bucket, count) pairs in ascending bucket order, `total`
 * their sum. Same rule, same result as the dense form.
 */
export function sparseQuantileMs(pairs: readonly number[], q: number, total: number): number | undefined {
  if (total <= 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let k = 0; k + 1 < pairs.length; k += 2) {
    const i = pairs[k]!;
    const c = pairs[k + 1]!;
    if (c > 0 && below + c >= rank) {
      const lo = bucketLowerMs(i);
      return lo + (bucketUpperMs(i) - lo) * Math.min(1, Math.max(0, (rank - below) / c));
    }
    below += c;
  }
  return bucketUpperMs(HISTOGRAM_BUCKETS - 1);
}

/** The `EndpointSample` fields that per-request timings give (engine/types.ts). */
export interface RequestSampleFields {
  /** Mean service time of the requests served in the interval; at least `SERVICE_TIME_FLOOR_MS`. */
  readonly serviceTimeMs?: number;
  /** Mean queue time of the requests served in the interval. */
  readonly queueTimeMs?: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  /** Requests served in the interval whose latency exceeded the objective. */
  readonly overObjective?: number;
}

/**
 * Sample fields of one interval's counts (`subtractCounters` of two readings, summed over replicas). With no
 * request served in the interval every field is absent: there is nothing to measure, and the engine treats
 * an absent field as unknown rather than as 0. `withObjective` says whether the endpoint has an objective
 * (then `overObjective` is reported, 0 included).
 */
export function sampleTimeFields(c: RequestCounters | SparseRequestCounts, withObjective: boolean): RequestSampleFields {
  if (c.served <= 0) return {};
  // Every served request is in the histogram: its total is `served`.
  const dense = "histogram" in c;
  const p50 = dense ? histogramQuantileMs(c.histogram, 0.5, c.served) : sparseQuantileMs(c.buckets, 0.5, c.served);
  const p99 = dense ? histogramQuantileMs(c.histogram, 0.99, c.served) : sparseQuantileMs(c.buckets, 0.99, c.served);
  // Built field by field (no spreads): the controller makes one per busy endpoint per second.
  const out: { -readonly [K in keyof RequestSampleFields]: RequestSampleFields[K] } = {
    serviceTimeMs: Math.max(SERVICE_TIME_FLOOR_MS, c.serviceMsSum / c.served),
    queueTimeMs: c.queueMsSum / c.served,
  };
  if (p50 !== undefined) out.latencyP50Ms = p50;
  if (p99 !== undefined) out.latencyP99Ms = p99;
  if (withObjective) out.overObjective = c.overObjective;
  return out;
}

/** One interval's counts with a sparse histogram: `buckets` holds (bucket, count) pairs, ascending. */
export interface SparseRequestCounts {
  readonly served: number;
  readonly serviceMsSum: number;
  readonly queueMsSum: number;
  readonly overObjective: number;
  readonly buckets: readonly number[];
}

/**
 * Per-interval view for a caller that sees each request once and wants one interval's fields at a time (the
 * simulator's `signals: "gateway"`): `observe` each request answered in the interval, `take` at its end.
 * The same functions as the production reader, over the same buckets.
 */
export class RequestWindow {
  readonly #objectiveMs: number | undefined;
  #counters = emptyCounters();

  /** @param objectiveMs the endpoint's p99 latency objective; undefined when it has none. */
  constructor(objectiveMs: number | undefined) {
    this.#objectiveMs = objectiveMs;
  }

  observe(t: RequestTiming): void {
    observeRequest(this.#counters, t, this.#objectiveMs);
  }

  /** Requests folded in since the last `take`. */
  get served(): number {
    return this.#counters.served;
  }

  /** The fields of the interval that ends now; starts the next one. */
  take(): RequestSampleFields {
    const fields = sampleTimeFields(this.#counters, this.#objectiveMs !== undefined);
    if (this.#counters.served > 0) this.#counters = emptyCounters();
    return fields;
  }
}
