/**
 * The tail signal of the vertical axis: the fraction of requests that finished over the latency
 * objective, counted at the gateway (`EndpointSample.overObjective`), held under the SLO's budget
 * 1 − `sloTargetAttainment` (0.1% by default).
 *
 * Why a count: the SLO asks for 99.9% of requests within the objective, and a 0.1% tail is invisible in
 * per-second p50/p99 (a second holds ~100 completions). Heavy-tailed per-request costs (LLM output
 * lengths) put requests over the objective long before they move the p99. Counting them is exact and
 * cheap; judging a 0.1% rate needs many requests, so counts accumulate across vertical windows while the
 * target stays the same, and the signal speaks only once the budget predicts `overObjectiveMinExpected` of them.
 * Both thresholds widen by one Poisson standard deviation (√count), so noise alone rarely cuts or raises.
 */
import type { EndpointSample, TailCounts } from "./types.ts";

/** The p99 leaves this fraction of requests above it (by definition): the upper anchor of the fitted power law. */
const P99_EXCEEDANCE = 0.01;
/** `tailInFlight` and `targetForInFlight` search within [0, this × the current in-flight or target]. */
const SEARCH_RANGE_FACTOR = 4;

export type { TailCounts };

/**
 * Add one window's samples to the counts kept at one operating point: the same target and the same
 * number of ready pods (the tail grows steeply with per-pod in-flight, and after a change the pods take
 * a while to settle; a sample at another point starts the counts afresh). A sample counts only when it
 * reports `overObjective` and completed requests, answered no 429, and its mean queue time is at most
 * `maxQueueFraction` of its service time: requests late because they queued at the gateway are the
 * horizontal axis's business, not the pod's. Counts are halved once the budget predicts
 * `forgetFactor × minExpected` of them (16 × 10 = 160 by default: a slow forgetting, since the load mix
 * drifts; more would keep a rate 10% over the budget within one standard deviation for ever).
 */
export function accumulateTail(
  prev: TailCounts | undefined,
  samples: readonly EndpointSample[],
  target: number,
  fallbackReady: number,
  maxQueueFraction: number,
  budget: number,
  minExpected: number,
  forgetFactor: number,
): TailCounts | undefined {
  const cur = prev !== undefined && prev.target === target ? prev : undefined;
  let n = cur?.completions ?? 0;
  let over = cur?.overObjective ?? 0;
  let xSum = cur?.inFlightSum ?? 0;
  let pods = cur?.readyPods ?? -1;
  let seen = prev !== undefined;
  for (const s of samples) {
    if (s.overObjective === undefined || s.completions <= 0) continue;
    seen = true;
    const service = s.serviceTimeMs ?? 0;
    if ((s.queueTimeMs ?? 0) > maxQueueFraction * service || s.rejections > 0) continue;
    const ready = s.pods !== undefined ? s.pods.filter((p) => p.ready).length : fallbackReady;
    if (ready <= 0) continue;
    if (ready !== pods) {
      n = 0;
      over = 0;
      xSum = 0;
      pods = ready;
    }
    n += s.completions;
    over += Math.min(s.overObjective, s.completions);
    xSum += (s.inFlight / ready) * s.completions;
    if (n * budget > forgetFactor * minExpected) {
      n /= 2;
      over /= 2;
      xSum /= 2;
    }
  }
  if (!seen) return undefined;
  return { completions: n, overObjective: over, inFlightSum: xSum, target, readyPods: pods };
}

/** What the counts say, once there are enough of them. */
export interface TailReading {
  /** Fraction of counted requests over the objective. */
  readonly fraction: number;
  /** fraction / budget. */
  readonly ratio: number;
  /** Cut at or above this ratio: 1 plus one standard deviation of the count. */
  readonly cutAt: number;
  /** Raise only at or below this ratio: `raiseBand` minus one standard deviation. */
  readonly raiseAt: number;
  /** Mean per-pod in-flight of the counted requests. */
  readonly inFlight: number;
}

export function readTailCounts(t: TailCounts | undefined, budget: number, minExpected: number, raiseBand: number): TailReading | undefined {
  if (t === undefined || !(t.completions > 0) || t.completions * budget < minExpected) return undefined;
  const expected = t.completions * budget;
  const sd = Math.sqrt(Math.max(t.overObjective, 1)) / expected;
  const fraction = t.overObjective / t.completions;
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return { fraction, ratio: fraction / budget, cutAt: r3(1 + sd), raiseAt: r3(Math.max(0, raiseBand - sd)), inFlight: t.inFlightSum / t.completions };
}

/**
 * The per-pod in-flight at which the fraction over the objective would be `goal`, from a reading at
 * in-flight `x`: a request's latency scales with the pod's service time S(x) (processor sharing,
 * batching), so the latency survival curve at x' is the one at x stretched by S(x')/S(x). Between the
 * pod p99 (1% over) and the objective (`fraction` over) the curve is taken as a power law (a straight
 * line on log-log axes), whose slope k = ln(0.01/fraction) / ln(objective/p99) gives the stretch:
 * S(x')/S(x) = (fraction/goal)^(−1/k). `serviceAt` is the pod's latency model (non-decreasing);
 * `minService` the least it can be (one request alone). Searched within [0, 4x]; a goal below the least
 * service time gives the lowest in-flight. Undefined when nothing was over the objective (no slope), the
 * p99 is not below the objective (the p99 signal's case), or the service time is already at its least
 * (the tail is not concurrency's doing).
 */
export function tailInFlight(
  reading: TailReading,
  goal: number,
  podP99Ms: number,
  objectiveMs: number,
  serviceAt: (x: number) => number,
  minService: number,
): number | undefined {
  const f = reading.fraction;
  if (!(f > 0) || f >= P99_EXCEEDANCE || !(podP99Ms < objectiveMs) || !(goal > 0)) return undefined;
  const k = Math.log(P99_EXCEEDANCE / f) / Math.log(objectiveMs / podP99Ms);
  const now = serviceAt(reading.inFlight);
  if (!(now > minService * 1.0001)) return undefined;
  // Below the least service time the pod can reach, go as low as it goes (a step bound follows).
  const want = Math.max(now * (goal / f) ** (1 / k), minService * 1.0001);
  let lo = 0;
  let hi = SEARCH_RANGE_FACTOR * reading.inFlight;
  if (serviceAt(hi) <= want) return hi;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (serviceAt(mid) > want) hi = mid;
    else lo = mid;
  }
  return lo > 0 ? lo : undefined;
}

/**
 * The target that brings per-pod in-flight from `x` to `xWant` when the current target `c` gives `x`:
 * the horizontal axis sizes the pods for a throughput per pod T(c) = c / S(c) less its headroom, so the
 * target that gives T(xWant) is the one whose T is scaled by T(xWant)/T(x), bounded to 1 ± `maxStep`.
 * `serviceAt` as above.
 */
export function targetForInFlight(c: number, x: number, xWant: number, serviceAt: (x: number) => number, maxStep: number): number {
  const T = (v: number) => v / serviceAt(v);
  // One step changes the throughput per pod by at most `maxStep`: the power law between the p99 and the
  // objective cannot see how fast the tail falls beyond the objective (a capped cost, e.g. an LLM's
  // max_tokens, makes it fall much faster), so a step is followed by a fresh count before the next.
  const ratio = Math.min(1 + maxStep, Math.max(1 - maxStep, T(xWant) / T(x)));
  const want = T(c) * ratio;
  // T is non-decreasing in concurrency for the latency models used here: bisection on [0, 4c]
  let lo = 0;
  let hi = SEARCH_RANGE_FACTOR * c;
  if (T(hi) <= want) return hi;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (T(mid) > want) hi = mid;
    else lo = mid;
  }
  return lo;
}
