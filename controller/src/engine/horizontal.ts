/**
 * The horizontal axis: replicas = ceil(demand / (target concurrency × utilisation)), every 5 s.
 * Scale-up reads the last 20 s (and the last 5 s, whichever asks more); scale-down takes the max of the
 * per-cycle recommendations over the last 300 s (HPA's stabilisation, kubernetes
 * `normalizeDesiredReplicasWithBehaviors`). Fail static: no scale-down without a full window of fresh data.
 */
import type { EngineConfig } from "./config.ts";
import { coveredMs, windowCovered } from "./coverage.ts";
import { covers, demandSeries, mean, predictServiceMs, statsOf, windowOf, type WindowStats } from "./signals.ts";
import { lineAt } from "./profile.ts";
import { cadenceSlackMs } from "./vertical.ts";
import type { Coverage, DecisionInput, EndpointSample, EndpointSpec, LatencyLine, ReplicaReason } from "./types.ts";

export interface Recommendation {
  readonly atMs: number;
  readonly replicas: number;
}

export interface HorizontalResult {
  readonly desired: number;
  readonly reason: ReplicaReason;
  readonly message: string;
  readonly observed: number | undefined;
  readonly recommendations: readonly Recommendation[];
}

export interface HorizontalArgs {
  readonly input: DecisionInput;
  readonly config: EngineConfig;
  /** Target concurrency in force after this call's vertical decision. */
  readonly targetConcurrency: number;
  readonly baselineServiceMs: number | undefined;
  /** Linear latency model of a batching pod, when the vertical axis has fitted one. */
  readonly latencyLine: LatencyLine | undefined;
  /** Recommendations carried in memory (already rescaled to `targetConcurrency`). */
  readonly recommendations: readonly Recommendation[];
  /** When the engine's memory started; scale-down waits a full down-window after it. */
  readonly sinceMs: number;
  /** Sample coverage of the long windows (the down-window is read from here, not from raw samples). */
  readonly coverage: Coverage | undefined;
  /** Request slots (replicas × target) when the memory started; kept until a full down-window backs a scale-down. */
  readonly restartSlots: number | undefined;
}

/**
 * Replicas needed for `demand` concurrent requests at target `c`: request slots = demand / utilisation
 * + β·√demand (square-root staffing, Halfin–Whitt: the headroom a pool of servers needs for Poisson
 * bursts grows with the square root of the load, not in proportion to it), pods = slots / c.
 */
export function replicasFor(demand: number, c: number, utilization: number, beta: number): number {
  if (demand <= 0) return 0;
  // The epsilon keeps exact multiples (e.g. 50 / 2.5) from rounding up through float error.
  return Math.max(0, Math.ceil((demand / utilization + beta * Math.sqrt(demand)) / c - 1e-9));
}

/**
 * The square-root staffing headroom β. With an SLO: the smallest β for which a request's wait in the
 * gateway queue exceeds the SLO's slack with probability at most 1 − `sloTargetAttainment` in an M/M/k
 * model, P(wait > t) ≤ exp(−β·√a·t / S) with a = demand, S = service time, t = the part of the SLO the
 * vertical axis leaves to queueing ((1 − sloCutFraction) × SLO); clamped to [minStaffingBeta,
 * maxStaffingBeta]. A loose SLO (a ranker that tolerates no queueing is a tight one) needs little
 * headroom, a tight one much. Without an SLO: `staffingBeta`.
 */
export function staffingBetaFor(cfg: EngineConfig, sloP99Ms: number | undefined, serviceMs: number | undefined, demand: number): number {
  if (sloP99Ms === undefined || serviceMs === undefined || !(demand > 0)) return cfg.staffingBeta;
  const slackMs = (1 - cfg.sloCutFraction) * sloP99Ms;
  const beta = (Math.log(1 / (1 - cfg.sloTargetAttainment)) * serviceMs) / (Math.sqrt(demand) * slackMs);
  return Math.min(cfg.maxStaffingBeta, Math.max(cfg.minStaffingBeta, beta));
}

/** The demand estimates of one horizontal decision (concurrency units). */
export interface DemandEstimate {
  /** Mean over the scale-up window (20 s). */
  readonly upWindow: number;
  /** Mean over the fast window (5 s). */
  readonly fast: number;
  /** The last two samples' smaller value (a sustained jump shows in both). */
  readonly lastTwo: number;
  /** The last sample alone, when it is a step of at least `surgeRatio` over the up-window mean; else 0. */
  readonly surge: number;
  /** Extra concurrency to drain the gateway queue of the newest sample within the drain time. */
  readonly backlog: number;
  /** What the decision uses: the max of the above, plus the backlog. */
  readonly demand: number;
}

/** Mean of the last `count` values (all of them when fewer), 0 for none. */
function meanOfLast(xs: readonly number[], count: number): number {
  const from = Math.max(0, xs.length - count);
  let t = 0;
  for (let i = from; i < xs.length; i++) t += xs[i]!;
  return xs.length > from ? t / (xs.length - from) : 0;
}

export function estimateDemand(
  up: readonly EndpointSample[],
  fastCount: number,
  c: number,
  s0: number | undefined,
  readyFallback: number,
  sAtTarget: number | undefined,
  surgeRatio: number,
  growsAbove: boolean,
  drain: { readonly drainMs: number; readonly serviceTimes: number },
): DemandEstimate {
  const ds = demandSeries(up, c, s0, readyFallback, sAtTarget, growsAbove);
  const upWindow = mean(ds);
  const fast = meanOfLast(ds, Math.max(1, fastCount));
  const last = ds[ds.length - 1] ?? 0;
  const prev = ds[ds.length - 2];
  const lastTwo = prev === undefined ? 0 : Math.min(prev, last);
  const surge = last >= surgeRatio * Math.max(upWindow, 1e-9) && last > 0 ? last : 0;
  // The backlog already in the queue is work too: drain it within max(drain time, 2 service times); e.g.
  // 40 queued × 5 ms / max(5000, 10) ms = 0.04 extra concurrency.
  // Bounded by the queue's own bound, unlike Knative's queue / target (knative/serving#13284).
  const newest = up[up.length - 1];
  // the newest sample's service time as rescaled to the target (demand / arrival rate)
  const rate = newest !== undefined ? newest.arrivals / ((newest.intervalMs ?? 1000) / 1000) : 0;
  const s = sAtTarget ?? (rate > 0 && newest?.serviceTimeMs !== undefined ? (last * 1000) / rate : undefined);
  const backlog = newest !== undefined && s !== undefined && newest.queued > 0 ? (newest.queued * s) / Math.max(drain.drainMs, drain.serviceTimes * s) : 0;
  return { upWindow, fast, lastTwo, surge, backlog, demand: Math.max(upWindow, fast, lastTwo, surge) + backlog };
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/**
 * The history's `atMs` and `arrivals`, index for index (a caller that checks every endpoint every second keeps
 * them beside the samples, so the check reads two packed arrays instead of one cold object per sample).
 */
export interface HistoryColumns {
  readonly atMs: readonly number[];
  readonly arrivals: readonly number[];
}

/**
 * The cheap part of `surgeDue` (runs every second, so no window is copied): the newest sample is fresh and its
 * arrivals are a step of `surgeRatio` over the scale-up window's mean, or requests are queued. A step in demand
 * is a step in arrivals or in service time; only then is the per-sample demand worth computing.
 */
export function surgePossible(input: DecisionInput, cfg: EngineConfig, columns?: HistoryColumns): boolean {
  const { history, nowMs, state } = input;
  const latest = history[history.length - 1];
  if (latest === undefined || latest.atMs < nowMs - cfg.stalenessMs) return false;
  if (state.unschedulableReplicas > 0) return false;
  let arrivals = 0;
  let n = 0;
  if (columns !== undefined && columns.atMs.length === history.length) {
    // Same sums in the same order, from two packed number arrays instead of one sample object per second.
    const at = columns.atMs;
    const arr = columns.arrivals;
    for (let i = at.length - 1; i >= 0; i--) {
      const t = at[i]!;
      if (t <= nowMs - cfg.scaleUpWindowMs) break;
      if (t > nowMs) continue;
      arrivals += arr[i]!;
      n++;
    }
  } else {
    for (let i = history.length - 1; i >= 0; i--) {
      const smp = history[i];
      if (smp === undefined || smp.atMs <= nowMs - cfg.scaleUpWindowMs) break;
      if (smp.atMs > nowMs) continue;
      arrivals += smp.arrivals;
      n++;
    }
  }
  const meanArrivals = n > 0 ? arrivals / n : 0;
  return latest.arrivals >= cfg.surgeRatio * meanArrivals || latest.queued !== 0;
}

/**
 * Between cycles: true when the newest sample is a step (see `estimateDemand`) that needs more replicas
 * than asked for. Then the horizontal decision runs at once instead of at its next 5 s tick, like
 * Knative's poke of the decider, so a spike costs one sample of delay, not up to a cycle.
 */
export function surgeDue(
  input: DecisionInput,
  cfg: EngineConfig,
  c: number,
  baselineServiceMs: number | undefined,
  line: LatencyLine | undefined,
): boolean {
  const { history, nowMs, state } = input;
  if (!surgePossible(input, cfg)) return false;
  const up = windowOf(history, nowMs, cfg.scaleUpWindowMs);
  const u = cfg.targetUtilization;
  const sAtTarget = line !== undefined ? lineAt(line, u * c) : undefined;
  const est = estimateDemand(up, 1, c, baselineServiceMs, state.readyReplicas, sAtTarget, cfg.surgeRatio, growsAbove(input.spec, line), drainOf(cfg));
  const beta = staffingBetaFor(cfg, input.spec.sloP99Ms, sAtTarget ?? meanServiceMs(up), est.surge);
  return est.surge > 0 && replicasFor(est.surge, c, u, beta) > state.desiredReplicas * (1 + cfg.scaleUpTolerance);
}

/** A batching pod is slower at higher concurrency; until its latency model is fitted, assume no gain. */
function growsAbove(spec: EndpointSpec, line: LatencyLine | undefined): boolean {
  return (spec.runtime === "vllm" || spec.runtime === "triton") && line === undefined;
}

const drainOf = (cfg: EngineConfig) => ({ drainMs: cfg.backlogDrainMs, serviceTimes: cfg.backlogDrainServiceTimes });

function meanServiceMs(samples: readonly EndpointSample[]): number | undefined {
  let w = 0;
  let t = 0;
  for (const s of samples) {
    if (s.serviceTimeMs !== undefined && s.completions > 0) {
      w += s.completions;
      t += s.serviceTimeMs * s.completions;
    }
  }
  return w > 0 ? t / w : undefined;
}

export function decideHorizontal(a: HorizontalArgs): HorizontalResult {
  const { input, config: cfg, targetConcurrency: c } = a;
  const { state, history, nowMs } = input;
  const current = state.desiredReplicas;
  const keep = (reason: ReplicaReason, message: string, observed?: number): HorizontalResult => ({
    desired: current,
    reason,
    message,
    observed,
    recommendations: a.recommendations,
  });

  const latest = history[history.length - 1];
  if (latest === undefined) return keep("NoMetrics", `no metric samples; holding ${current} replicas`);
  if (latest.atMs < nowMs - cfg.stalenessMs) {
    return keep(
      "StaleMetrics",
      `newest sample is ${((nowMs - latest.atMs) / 1000).toFixed(1)} s old (bound ${cfg.stalenessMs / 1000} s); holding ${current} replicas`,
    );
  }

  const upSamples = windowOf(history, nowMs, cfg.scaleUpWindowMs);
  const fastSamples = windowOf(history, nowMs, cfg.scaleUpFastWindowMs);
  const readyFallback = state.readyReplicas;

  if (current === 0) {
    // Scale from zero does not wait for a full window (Knative's Poke): any request wakes the endpoint.
    const fast = statsOf(fastSamples, cfg.sampleIntervalMs, readyFallback, false);
    const waiting = latest.queued + latest.inFlight + latest.arrivals;
    if (waiting > 0 || fast.arrivals > 0) {
      const d = mean(demandSeries(fastSamples, c, a.baselineServiceMs, readyFallback));
      const want = Math.max(1, replicasFor(d, c, cfg.targetUtilization, staffingBetaFor(cfg, input.spec.sloP99Ms, meanServiceMs(fastSamples), d)));
      return {
        desired: want,
        reason: "ScaleFromZero",
        message: `requests arrived at an endpoint with 0 replicas; starting ${want}`,
        observed: fast.meanInFlight + fast.meanQueued,
        recommendations: a.recommendations,
      };
    }
  }

  if (!covers(fastSamples, cfg.scaleUpFastWindowMs, cfg.sampleIntervalMs, cfg.minWindowCoverage)) {
    return keep(
      "NoMetrics",
      `only ${fastSamples.length} samples in the last ${cfg.scaleUpFastWindowMs / 1000} s; holding ${current} replicas`,
    );
  }
  const fast = statsOf(fastSamples, cfg.sampleIntervalMs, readyFallback, false);
  const up: WindowStats = statsOf(upSamples, cfg.sampleIntervalMs, readyFallback, false);
  const u = cfg.targetUtilization;
  const sAtTarget = a.latencyLine !== undefined ? lineAt(a.latencyLine, u * c) : undefined;
  const est = estimateDemand(upSamples, fastSamples.length, c, a.baselineServiceMs, readyFallback, sAtTarget, cfg.surgeRatio, growsAbove(input.spec, a.latencyLine), drainOf(cfg));
  const demand = est.demand;
  const serviceMs = sAtTarget ?? up.serviceMs;
  const beta = staffingBetaFor(cfg, input.spec.sloP99Ms, serviceMs, demand);
  const rec = replicasFor(demand, c, u, beta);
  // Only what can still be the max over a future down-window is kept: an older recommendation no larger
  // than a newer one never is (the newer one leaves the window later). The max is unchanged and memory stays
  // a few entries instead of 60 (10,000 endpoints in one controller).
  const recs: Recommendation[] = [];
  for (const r of a.recommendations) if (r.atMs > nowMs - cfg.scaleDownWindowMs && r.atMs < nowMs) recs.push(r);
  while (recs.length > 0 && (recs[recs.length - 1]?.replicas ?? Infinity) <= rec) recs.pop();
  recs.push({ atMs: nowMs, replicas: rec });
  const out = (desired: number, reason: ReplicaReason, message: string): HorizontalResult => ({
    desired,
    reason,
    message,
    observed: demand,
    recommendations: recs,
  });
  const why = `demand ${fmt(demand)} (${fmt(up.arrivalsPerS)} req/s × ${fmt(
    sAtTarget ?? predictServiceMs(up.serviceMs ?? 0, up.perPodInFlight, c, a.baselineServiceMs, growsAbove(input.spec, a.latencyLine)),
  )} ms) + ${fmt(beta)}·√demand headroom at target ${c}`;

  if (rec > current) {
    if (state.unschedulableReplicas > 0) {
      return out(
        current,
        "UnschedulableHold",
        `${why} needs ${rec} replicas, but ${state.unschedulableReplicas} pods cannot be scheduled; holding ${current}`,
      );
    }
    const pressure = fast.rejectionsPerS > 0 || fast.meanQueued >= 1;
    if (!pressure && rec <= current * (1 + cfg.scaleUpTolerance)) {
      return out(current, "Steady", `${why} needs ${rec}; within the ${cfg.scaleUpTolerance * 100}% up-tolerance of ${current}`);
    }
    // Never ask for more than the most recent load justifies: no extrapolated backlog.
    const capDemand = cfg.maxScaleUpLoadFactor * Math.max(est.fast, est.lastTwo, est.surge);
    const cap = Math.max(current, replicasFor(capDemand, c, u, staffingBetaFor(cfg, input.spec.sloP99Ms, serviceMs, capDemand)));
    if (rec > cap) {
      return out(cap, "ScaleUpLimited", `${why} needs ${rec}; capped at ${cap} (${cfg.maxScaleUpLoadFactor}× the last ${cfg.scaleUpFastWindowMs / 1000} s load)`);
    }
    return out(rec, "ScaleUp", `${why} needs ${rec} replicas (had ${current})`);
  }

  let maxRec = 0;
  for (const r of recs) maxRec = Math.max(maxRec, r.replicas);
  if (maxRec >= current) {
    if (rec < current) {
      return out(current, "HoldDownWindow", `${why} needs ${rec}; the last ${cfg.scaleDownWindowMs / 1000} s needed up to ${maxRec}; holding ${current}`);
    }
    return out(current, "Steady", `${why} needs ${rec}; holding ${current}`);
  }
  // Scale-down candidate: fail static unless a full down-window of fresh data backs it. Until then (a young
  // memory, a window not yet covered) the endpoint keeps the request slots (replicas × target) it had when the
  // memory started: a target the vertical axis raised since may consolidate pods, no capacity is given up.
  // Example: restarted with 76 pods at target 23 (1748 slots), the target raised to 34 → at least 52 pods.
  // as old as the window within half a sample (timer jitter, as the cadence checks allow)
  const young = nowMs + cadenceSlackMs(cfg) - a.sinceMs < cfg.scaleDownWindowMs;
  const uncovered = !windowCovered(a.coverage, nowMs, cfg.scaleDownWindowMs, cfg);
  if (young || uncovered) {
    const slots = a.restartSlots;
    const keepSlots = slots !== undefined && slots > 0 ? Math.ceil(slots / c - 1e-9) : current;
    const desired = Math.max(maxRec, keepSlots, Math.ceil(current / cfg.maxScaleDownRate));
    const why2 = young
      ? `the engine has only ${((nowMs - a.sinceMs) / 1000).toFixed(0)} s of memory (< ${cfg.scaleDownWindowMs / 1000} s)`
      : `samples cover only ${(coveredMs(a.coverage, nowMs, cfg.scaleDownWindowMs) / 1000).toFixed(0)} s of the last ${cfg.scaleDownWindowMs / 1000} s`;
    if (desired < current && current - desired >= Math.max(1, current * cfg.scaleDownTolerance)) {
      return out(desired, "ScaleDown", `${why} needs ${maxRec}; ${why2}, so the ${slots} request slots it started with are kept: scaling ${current} → ${desired}`);
    }
    return out(current, "HoldDownWindow", `${why} needs ${maxRec}, but ${why2}; holding ${current}`);
  }
  if (current - maxRec < Math.max(1, current * cfg.scaleDownTolerance)) {
    return out(current, "Steady", `${why}; max over the down-window ${maxRec} is within the ${cfg.scaleDownTolerance * 100}% down-tolerance of ${current}`);
  }
  const floor = Math.ceil(current / cfg.maxScaleDownRate);
  const desired = Math.max(maxRec, floor);
  return out(desired, "ScaleDown", `max over the last ${cfg.scaleDownWindowMs / 1000} s needs ${maxRec}; ${why}; scaling ${current} → ${desired}${desired > maxRec ? ` (rate-limited to 1/${cfg.maxScaleDownRate} per cycle)` : ""}`);
}

/**
 * Rescale remembered recommendations when the target concurrency is raised, so the new target feeds
 * the denominator of the max over the down-window at once. A raise only happens when no inflation was
 * seen, so the demand (arrival rate × service time) is taken as unchanged: pods scale by old/new.
 * After a cut the old recommendations are kept as they are: the fresh recommendation at the new target
 * (computed in the same call) is higher when more pods are needed, and the max takes it.
 */
export function rescaleRecommendations(
  recs: readonly Recommendation[],
  oldC: number,
  newC: number,
): readonly Recommendation[] {
  if (newC <= oldC) return recs;
  const factor = oldC / newC;
  return recs.map((r) => ({ atMs: r.atMs, replicas: Math.ceil(r.replicas * factor - 1e-9) }));
}
