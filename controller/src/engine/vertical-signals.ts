/**
 * Vertical stage 2 — signals and caps, from one window and what the profile learned:
 * - stress signals, each with its cut and (lower) raise threshold and the target it suggests on a cut;
 * - saturation caps: where the pod stops gaining throughput (CPU saturates, a hard resource reaches its
 *   raise threshold, the latency knee, a batching pod's efficient concurrency); fitted caps may cut,
 *   guesses only bound a raise;
 * - the tail signal: requests over the objective against the SLO's budget (tail.ts).
 * The runtime kind picks the meaningful signals (GPU utilisation is pegged for vLLM: KV-cache and runtime
 * queue instead; see docs/engine.md). Pure.
 */
import type { EngineConfig } from "./config.ts";
import { efficientConcurrency, inFlightAt, lineAt, resourceKeys } from "./profile.ts";
import { accumulateTail, readTailCounts, tailInFlight, targetForInFlight } from "./tail.ts";
import type { EndpointSpec, ReplicaState, ResourceKey, TailCounts } from "./types.ts";
import { isBatching, usesInflation, type Learned, type VerticalWindow } from "./vertical-learn.ts";

export interface Signal {
  readonly name: string;
  readonly value: number;
  /** Cut at or above. */
  readonly cut: number;
  /** Raise only at or below. */
  readonly raise: number;
  /** Target this signal suggests when it is over its cut threshold. */
  readonly suggest: number;
  /** Only meaningful with at least `minStressInFlight` requests per pod (latency, compute). */
  readonly needsLoad: boolean;
  /** The requests-over-the-objective signal (its cut sets the tail ceiling). */
  readonly tail?: boolean;
  /** Hard stress: cuts even while a scale-up's pods are arriving (errors, memory, KV-cache, runtime queue, p99 over the SLO). */
  readonly hard?: boolean;
}

export interface Cap {
  readonly name: string;
  /** Per-pod in-flight at which the pod saturates. */
  readonly inFlight: number;
  /** Learned from a range of in-flight: may cut. Otherwise a guess that only bounds a raise. */
  readonly fitted: boolean;
}

const f2 = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** Display names and thresholds (cut, raise) of the hard resources. */
export function resourceThresholds(cfg: EngineConfig): Record<ResourceKey, { readonly name: string; readonly cut: number; readonly raise: number }> {
  return {
    memory: { name: "memory utilisation", cut: cfg.memoryCutUtil, raise: cfg.memoryRaiseUtil },
    kv: { name: "KV-cache utilisation", cut: cfg.kvCacheCutUtil, raise: cfg.kvCacheRaiseUtil },
    gpuMemory: { name: "GPU memory utilisation", cut: cfg.gpuMemoryCutUtil, raise: cfg.gpuMemoryRaiseUtil },
  };
}

/** The stress signals of one window (not yet the tail signal). */
export function stressSignals(w: VerticalWindow, l: Learned, spec: EndpointSpec, cfg: EngineConfig): Signal[] {
  const rt = spec.runtime;
  const x = w.inFlight;
  const s = w.serviceMs;
  const st = w.stats;
  const signals: Signal[] = [];
  if (usesInflation(rt)) {
    signals.push({ name: "latency inflation", value: l.inflation, cut: cfg.inflationCut, raise: cfg.inflationRaise, suggest: x / l.inflation, needsLoad: true });
  }
  // The end-to-end p99 minus the mean queue time stands for the pod's p99 only while the gateway queue
  // is short; a long queue is the horizontal axis's business, not the pod's.
  const queueShort = (st.queueMs ?? 0) <= cfg.podP99MaxQueueFraction * s;
  if (l.podP99Ms !== undefined && spec.sloP99Ms !== undefined && queueShort) {
    const ratio = l.podP99Ms / spec.sloP99Ms;
    // a cut aims at the middle of the hysteresis band: x · 0.75 / ratio with the default 0.8 / 0.7
    const mid = (cfg.sloCutFraction + cfg.sloRaiseFraction) / 2;
    signals.push({ name: "pod p99 / SLO", value: ratio, cut: cfg.sloCutFraction, raise: isBatching(rt) ? cfg.sloCutFraction : cfg.sloRaiseFraction, suggest: (x * mid) / ratio, needsLoad: true, hard: ratio >= 1 });
    if (l.podP999Ms !== undefined && cfg.tailCutFraction > 0) {
      const r999 = l.podP999Ms / spec.sloP99Ms;
      const raise = cfg.tailCutFraction * cfg.tailRaiseBand;
      signals.push({ name: "pod p99.9 (log-normal estimate) / SLO", value: r999, cut: cfg.tailCutFraction, raise, suggest: (x * (cfg.tailCutFraction + raise)) / 2 / r999, needsLoad: true });
    }
  }
  const errorFraction = st.arrivalsPerS > 0 ? st.errorsPerS / st.arrivalsPerS : 0;
  signals.push({ name: "error fraction", value: errorFraction, cut: Math.max(cfg.errorCutFraction, 1e-12), raise: cfg.errorRaiseFraction, suggest: x * cfg.errorCutFactor, needsLoad: false, hard: true });
  // Compute utilisation means saturation only outside batching engines (a batching GPU is "busy" at any
  // load); GPU duty cycle is not a saturation measure even outside them (GKE guidance): CPU only.
  const compute = usesInflation(rt) ? st.pod.cpuUtil : undefined;
  if (compute !== undefined) {
    // Compute saturated without inflation is the ideal operating point: stress only with inflation.
    const stressed = compute >= cfg.computeCutUtil && l.inflation >= cfg.inflationRaise;
    signals.push({ name: "compute utilisation", value: stressed ? compute : Math.min(compute, cfg.computeCutUtil - 1e-9), cut: cfg.computeCutUtil, raise: 1, suggest: x / l.inflation, needsLoad: true });
  }
  const thresholds = resourceThresholds(cfg);
  for (const key of resourceKeys) {
    const v = l.resources[key];
    if (v === undefined) continue;
    const t = thresholds[key];
    signals.push({ name: t.name, value: v, cut: t.cut, raise: t.raise, suggest: inFlightAt(l.profile, key, t.raise, { inFlight: x, value: v }, cfg)?.inFlight ?? (x * t.raise) / v, needsLoad: false, hard: true });
  }
  const queue = st.pod.runtimeQueueLength;
  if (queue !== undefined) {
    signals.push({ name: "runtime queue per pod", value: queue, cut: cfg.runtimeQueueCut, raise: cfg.runtimeQueueRaise, suggest: x - queue, needsLoad: false, hard: true });
  }
  return signals;
}

/** Where this pod stops gaining throughput, from what the profile has learned. */
export function saturationCaps(w: VerticalWindow, l: Learned, spec: EndpointSpec, state: ReplicaState, cfg: EngineConfig): Cap[] {
  const rt = spec.runtime;
  const caps: Cap[] = [];
  if (l.cpuSaturationInFlight !== undefined && usesInflation(rt)) {
    caps.push({ name: `CPU saturates at ~${f2(l.cpuSaturationInFlight)} in flight`, inFlight: l.cpuSaturationInFlight, fitted: true });
  }
  const thresholds = resourceThresholds(cfg);
  for (const key of resourceKeys) {
    const v = l.resources[key];
    if (v === undefined) continue;
    const level = thresholds[key].raise;
    const at = inFlightAt(l.profile, key, level, { inFlight: w.inFlight, value: v }, cfg);
    // CPU use of a CPU-bound pod grows in proportion to in-flight, so one clear reading is enough.
    if (at !== undefined) caps.push({ name: `${thresholds[key].name} reaches ${level} at ~${f2(at.inFlight)} in flight${at.fitted ? "" : " (extrapolated)"}`, inFlight: Math.max(at.inFlight, 0), fitted: at.fitted });
  }
  if (l.knee !== undefined) caps.push({ name: `latency knee at ~${f2(l.knee)} in flight`, inFlight: l.knee, fitted: true });
  if (l.latencyLine !== undefined) {
    const ratio = l.podP99Ms !== undefined ? Math.max(1, l.podP99Ms / w.serviceMs) : 1;
    // When the cluster cannot add pods (some cannot be scheduled, or the replica maximum is reached),
    // each pod's throughput is all there is: go for the most the SLO allows, not the efficient point.
    const capped = state.unschedulableReplicas > 0 || state.desiredReplicas >= spec.replicas.max;
    const fraction = capped ? 1 : cfg.efficientThroughputFraction;
    const eff = efficientConcurrency(l.latencyLine, ratio, spec.sloP99Ms, cfg.sloCutFraction, spec.concurrency.max, fraction) ?? Infinity;
    if (Number.isFinite(eff)) {
      caps.push({ name: `efficient concurrency of the fitted latency ${f2(l.latencyLine.interceptMs)} + ${f2(l.latencyLine.slopeMs)}·x ms is ~${f2(eff)}`, inFlight: eff, fitted: true });
    }
  }
  return caps;
}

/** The tail stage's result: the counts to remember, the ceiling for raises, and the signal when it speaks. */
export interface TailStage {
  readonly tail: TailCounts | undefined;
  readonly tailCeiling: number | undefined;
  readonly signal: Signal | undefined;
}

/**
 * Requests over the objective (tail.ts): cut one step toward where the count would fit the budget; after a
 * cut, raises climb back one counted step at a time (`tailCeiling`). The pod's latency model: the fitted line
 * of a batching pod; else, once latency has inflated (processor sharing), the service time in proportion to
 * in-flight. Where the service time does not grow with in-flight, the tail is not concurrency's doing and
 * the count is left to the horizontal axis and the user.
 */
export function tailStage(
  prevTail: TailCounts | undefined,
  prevCeiling: number | undefined,
  w: VerticalWindow,
  l: Learned,
  spec: EndpointSpec,
  current: number,
  cfg: EngineConfig,
): TailStage {
  const budget = 1 - cfg.sloTargetAttainment;
  const tail = spec.sloP99Ms !== undefined
    ? accumulateTail(prevTail, w.samples, current, w.readyReplicas, cfg.podP99MaxQueueFraction, budget, cfg.overObjectiveMinExpected, cfg.overObjectiveForgetFactor)
    : undefined;
  const reading = readTailCounts(tail, budget, cfg.overObjectiveMinExpected, cfg.overObjectiveRaiseBand);
  let tailCeiling = prevCeiling;
  const line = l.latencyLine;
  const model = isBatching(spec.runtime)
    ? line !== undefined ? { at: (v: number) => lineAt(line, v), min: lineAt(line, 1) } : undefined
    : l.inflation > cfg.inflationRaise && reading !== undefined ? { at: (v: number) => Math.max(l.baselineServiceMs, (w.serviceMs * v) / reading.inFlight), min: l.baselineServiceMs } : undefined;
  if (reading === undefined || spec.sloP99Ms === undefined || model === undefined || l.podP99Ms === undefined) {
    return { tail, tailCeiling, signal: undefined };
  }
  // Aim at the middle of the hysteresis band (as the p99 signal does), both when cutting and when bounding a raise.
  const goal = (budget * (1 + cfg.overObjectiveRaiseBand)) / 2;
  const xGoal = tailInFlight(reading, goal, l.podP99Ms, spec.sloP99Ms, model.at, model.min);
  const step = xGoal !== undefined ? targetForInFlight(current, reading.inFlight, xGoal, model.at, cfg.overObjectiveMaxStep) : undefined;
  const name = `requests over the objective ${(reading.fraction * 100).toFixed(3)}% / budget ${(budget * 100).toFixed(3)}%`;
  const signal: Signal = { name, value: reading.ratio, cut: step !== undefined && step < current ? reading.cutAt : Infinity, raise: reading.raiseAt, suggest: step ?? current, needsLoad: true, tail: true };
  // A calm count lifts the ceiling by one step toward the goal (the tail grows steeply with in-flight, so
  // each step up is earned by a calm count at the level below), or removes it when nothing was late.
  if (reading.ratio <= reading.raiseAt) {
    const up = step !== undefined ? Math.max(current, Math.floor(step)) : undefined;
    tailCeiling = up === undefined ? undefined : Math.max(tailCeiling ?? up, up);
  }
  return { tail, tailCeiling, signal };
}
