/**
 * The benchmark's reference concurrencies of a model profile, defined by a load test and nothing of the
 * engine's (its 0.8 of the SLO and 95% are its own business):
 * - capacity: the largest concurrency whose pod p99 stays within the SLO — what a competent user finds with a
 *   closed-loop load test and configures as a baseline's per-pod limit (Knative containerConcurrency, Ray
 *   max_ongoing_requests, the model server's own limit behind an HPA);
 * - optimum: among concurrencies reaching `OPTIMUM_THROUGHPUT_FRACTION` (90%) of the capacity's throughput, the
 *   smallest (less queueing in the pod for nearly the same throughput).
 * Measured by a closed-loop simulation of one pod (always exactly c requests in flight), with the scenario's
 * jitter and cost distribution.
 */
import { TripleHeap } from "./heaps.ts";
import { BUCKETS, bucketOf, quantile } from "./histogram.ts";
import { PodModel } from "./model.ts";
import { Prng } from "./prng.ts";
import type { Scenario } from "./scenario-types.ts";
import { costSampler } from "./cost.ts";

export interface SweepPoint {
  readonly concurrency: number;
  /** Completions per second of one pod. */
  readonly throughputRps: number;
  readonly p99Ms: number;
  readonly meanLatencyMs: number;
}

/** The capacity's pod p99 may use this fraction of the SLO (all of it: a load test against the objective). */
export const CAPACITY_P99_FRACTION = 1;
/** The optimum is the smallest concurrency with at least this fraction of the capacity's throughput. */
export const OPTIMUM_THROUGHPUT_FRACTION = 0.9;

export interface Optimum {
  readonly concurrency: number;
  /** The largest concurrency whose pod p99 is within the SLO (the load-tested per-pod capacity). */
  readonly capacity: number;
  /** Throughput of one pod at `capacity`, requests/s. */
  readonly capacityThroughputRps: number;
  readonly throughputRps: number;
  readonly p99Ms: number;
  readonly meanLatencyMs: number;
  /** Every concurrency measured by the search, ascending. */
  readonly points: readonly SweepPoint[];
  /** True when even concurrency = range min breaks 80% of the SLO. */
  readonly sloInfeasible: boolean;
}

/** Closed-loop run of one pod at concurrency c. */
export function measurePod(scenario: Scenario, c: number, completions = 20000, seed = scenario.seed): SweepPoint {
  const model = new PodModel(scenario.model);
  const rng = new Prng(seed * 31 + c);
  const draw = costSampler(scenario, rng);
  const heap = new TripleHeap(c + 1);
  const hist = new Float64Array(BUCKETS);
  let v = 0;
  let t = 0;
  const n = Math.min(c, model.failAt);
  const work = (): number => model.baseWorkMs * draw() * (model.jitter > 0 ? rng.jitterFactor(model.jitter) : 1);
  for (let i = 0; i < n; i++) heap.push(v + work(), 0, 0);
  // enough completions per in-flight request that batch boundaries do not bias the rate
  completions = Math.max(completions, Math.min(200_000, 100 * c));
  const warmup = Math.floor(completions / 10);
  let done = 0;
  let t0 = 0;
  let latSum = 0;
  const rate = model.rate(n);
  while (done < completions + warmup) {
    const next = heap.topKey();
    t += (next - v) / rate;
    v = next;
    const started = heap.topA();
    heap.pop();
    if (done === warmup) t0 = t;
    if (done >= warmup) {
      hist[bucketOf(t - started)]!++;
      latSum += t - started;
    }
    done++;
    heap.push(v + work(), t, t);
  }
  const measured = completions;
  return {
    concurrency: c,
    throughputRps: (measured / (t - t0)) * 1000,
    p99Ms: quantile(hist, 0.99),
    meanLatencyMs: latSum / measured,
  };
}

/**
 * Search the capacity and the optimum within the endpoint's concurrency range, assuming p99 and throughput are
 * non-decreasing in c (true for every model kind): binary search for the largest c within the SLO, then for
 * the smallest c within 10% of its throughput.
 */
export function findOptimum(scenario: Scenario, completions = 20000): Optimum {
  const lo = scenario.endpoint.concurrency.min;
  const model = new PodModel(scenario.model);
  const hi = Math.max(lo, Math.min(scenario.endpoint.concurrency.max, model.failAt));
  const limitMs = CAPACITY_P99_FRACTION * scenario.slo.p99Ms;
  const memo = new Map<number, SweepPoint>();
  const at = (c: number): SweepPoint => {
    let p = memo.get(c);
    if (!p) {
      p = measurePod(scenario, c, completions);
      memo.set(c, p);
    }
    return p;
  };
  let sloInfeasible = false;
  let best = lo;
  if (at(lo).p99Ms > limitMs) sloInfeasible = true;
  else {
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = Math.ceil((a + b) / 2);
      if (at(mid).p99Ms <= limitMs) a = mid;
      else b = mid - 1;
    }
    best = a;
  }
  const top = at(best).throughputRps;
  let a = lo;
  let b = best;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (at(mid).throughputRps >= OPTIMUM_THROUGHPUT_FRACTION * top) b = mid;
    else a = mid + 1;
  }
  const opt = at(a);
  return {
    concurrency: a,
    capacity: best,
    capacityThroughputRps: top,
    throughputRps: opt.throughputRps,
    p99Ms: opt.p99Ms,
    meanLatencyMs: opt.meanLatencyMs,
    points: [...memo.values()].sort((x, y) => x.concurrency - y.concurrency),
    sloInfeasible,
  };
}
