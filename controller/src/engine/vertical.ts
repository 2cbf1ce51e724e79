/**
 * The vertical axis: every 30 s, from the last window of history, adjust the target concurrency per pod.
 * Asymmetric like Clipper's AIMD and Chiron's local backpressure: a quick multiplicative cut when any
 * stress signal crosses its cut threshold, a slow raise only when every signal has stayed under its
 * lower (raise) threshold for several windows and the limit is actually binding.
 *
 * Named pure stages, each in its own module with its own table tests:
 *   gate (this file: due? enough data?) → learn (vertical-learn.ts) → signals and caps (vertical-signals.ts)
 *   → choose: cut / hold / raise (vertical-choose.ts)
 */
import type { EngineConfig } from "./config.ts";
import { covers, statsOf, windowOf, type WindowStats } from "./signals.ts";
import type { ConcurrencyReason, DecisionInput, EndpointSpec, VerticalMemory } from "./types.ts";
import { chooseTarget, clampInt } from "./vertical-choose.ts";
import { isBatching, learnFromWindow, type VerticalWindow } from "./vertical-learn.ts";
import { saturationCaps, stressSignals, tailStage } from "./vertical-signals.ts";
import { slowStartStep } from "./vertical-slow-start.ts";

export { clampInt };

export interface VerticalResult {
  readonly target: number;
  readonly reason: ConcurrencyReason;
  readonly message: string;
  /** True when the axis read a window this call (its cadence came round), whatever it decided. */
  readonly ran: boolean;
  /** Stats of the window the decision read (undefined when it did not run or had no data). */
  readonly stats: WindowStats | undefined;
  /** What the vertical axis remembers for the next call. */
  readonly memory: VerticalMemory;
}

/** The vertical memory of an engine that has learned nothing yet. */
export const emptyVerticalMemory: VerticalMemory = Object.freeze({
  baselineServiceMs: undefined,
  calmWindows: 0,
  stressWindows: 0,
  lastChangeAtMs: undefined,
  lastChangeDirection: 0,
  profile: [],
  latencyLine: undefined,
  cpuSaturationInFlight: undefined,
  stressCeiling: undefined,
  tail: undefined,
  tailCeiling: undefined,
});

/**
 * The target to start from when none is in force: the spec's; else, for batching engines, the top of
 * the range; else the geometric middle of the range (a neutral start on a log scale: 1–64 → 8).
 */
export function initialTarget(spec: EndpointSpec): number {
  if (spec.initialTargetConcurrency !== undefined) return spec.initialTargetConcurrency;
  // A batching engine gains throughput with every request it batches up to its own limit, which is
  // what users put as the maximum (vLLM max_num_seqs): start there and let the fitted model cut.
  if (isBatching(spec.runtime)) return spec.concurrency.max;
  return clampInt(Math.round(Math.sqrt(spec.concurrency.min * spec.concurrency.max)), spec.concurrency.min, spec.concurrency.max);
}

const f2 = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

type Gate = { readonly kind: "done"; readonly result: VerticalResult } | { readonly kind: "window"; readonly window: VerticalWindow };

/** Stage 0 — gate: is a decision due, and is there a window worth reading? */
export function gateVertical(input: DecisionInput, cfg: EngineConfig, prev: VerticalMemory): Gate {
  const { spec, state, history, nowMs, memory } = input;
  const lo = spec.concurrency.min;
  const hi = spec.concurrency.max;
  const current = state.targetConcurrency;
  const done = (target: number, reason: ConcurrencyReason, message: string, extra: Partial<VerticalResult> = {}): Gate => ({
    kind: "done",
    result: { target, reason, message, ran: false, stats: undefined, memory: prev, ...extra },
  });
  if (!(Number.isFinite(current) && current > 0)) {
    const t = initialTarget(spec);
    return done(t, "Initial", `no target in force; starting at ${t} (range ${lo}–${hi})`, { memory: { ...prev, lastChangeAtMs: nowMs } });
  }
  if (current < lo || current > hi || !Number.isInteger(current)) {
    const t = clampInt(current, lo, hi);
    return done(t, "Bounds", `target ${current} is outside the range ${lo}–${hi}; set to ${t}`, { memory: { ...prev, lastChangeAtMs: nowMs } });
  }
  if (memory === undefined) {
    return done(current, "Hold", `engine (re)started: keeping target ${current} until it has ${cfg.verticalIntervalMs / 1000} s of history`);
  }
  if (nowMs + cadenceSlackMs(cfg) < memory.lastVerticalAtMs + cfg.verticalIntervalMs) {
    return done(current, "NotDue", `next vertical decision at ${memory.lastVerticalAtMs + cfg.verticalIntervalMs} ms`);
  }
  const samples = windowOf(history, nowMs, cfg.verticalIntervalMs);
  const latest = history[history.length - 1];
  if (latest === undefined || latest.atMs < nowMs - cfg.stalenessMs) {
    return done(current, "NoMetrics", `no fresh samples; keeping target ${current}`, { ran: true });
  }
  if (!covers(samples, cfg.verticalIntervalMs, cfg.sampleIntervalMs, cfg.minWindowCoverage) || nowMs + cadenceSlackMs(cfg) - memory.sinceMs < cfg.verticalIntervalMs) {
    return done(current, "NoMetrics", `less than ${cfg.verticalIntervalMs / 1000} s of history; keeping target ${current}`, { ran: true });
  }
  const stats = statsOf(samples, cfg.sampleIntervalMs, state.readyReplicas);
  if (stats.completions < cfg.minCompletionsPerWindow || stats.serviceMs === undefined || stats.perPodInFlight === undefined) {
    return done(current, "Hold", `only ${stats.completions} completions in the window (need ${cfg.minCompletionsPerWindow}); keeping target ${current}`, { ran: true, stats });
  }
  if (!(stats.serviceMs >= cfg.serviceTimeFloorMs)) {
    return done(current, "Hold", `the window's service time ${f2(stats.serviceMs)} ms is under the floor of ${cfg.serviceTimeFloorMs} ms (no measurement); keeping target ${current}`, { ran: true, stats });
  }
  return { kind: "window", window: { samples, stats, inFlight: stats.perPodInFlight, serviceMs: stats.serviceMs, readyReplicas: state.readyReplicas } };
}

/**
 * A call a little early still counts as on time: callers tick once per sample, and a tick that lands a few
 * ms before the cadence (timer jitter) must not push a decision back by a whole sample — nor a window that is
 * a few ms short of its length (a first tick 5 ms late, the 31st 1 ms late: 29.996 s of memory) by a whole
 * cadence. Half a sample.
 */
export const cadenceSlackMs = (cfg: EngineConfig): number => cfg.sampleIntervalMs / 2;

/**
 * Why soft stress may not cut now, or undefined: a scale-up was under way within this window (more than
 * `softCutStartingFraction` of the ready pods starting, e.g. 5 ready and 2 starting: the few ready pods ran at
 * their limit until the new ones arrived), or the window's newest sample is a step in arrivals (≥ `surgeRatio` ×
 * the window's mean; its first seconds at the new load are not an operating point yet).
 */
export function scaleUpUnderWay(w: VerticalWindow, state: DecisionInput["state"], cfg: EngineConfig, nowMs: number, scaleUpSeenAtMs: number | undefined): string | undefined {
  if (state.startingReplicas > cfg.softCutStartingFraction * Math.max(1, state.readyReplicas)) {
    return `${state.startingReplicas} pods are starting (${state.readyReplicas} ready)`;
  }
  if (scaleUpSeenAtMs !== undefined && nowMs - scaleUpSeenAtMs < cfg.verticalIntervalMs) {
    return `pods were still starting ${((nowMs - scaleUpSeenAtMs) / 1000).toFixed(0)} s ago, within this window`;
  }
  const newest = w.samples[w.samples.length - 1];
  const meanArrivals = w.stats.arrivals / Math.max(1, w.samples.length);
  if (newest !== undefined && newest.arrivals > 0 && newest.arrivals >= cfg.surgeRatio * meanArrivals) {
    return `the newest sample is a step in arrivals (${newest.arrivals} vs a mean of ${f2(meanArrivals)})`;
  }
  return undefined;
}

export function decideVertical(input: DecisionInput, cfg: EngineConfig, scaleUpSeenAtMs?: number): VerticalResult {
  const prev = input.memory?.vertical ?? emptyVerticalMemory;
  const gate = gateVertical(input, cfg, prev);
  if (gate.kind === "done") {
    // Before the first window is learned, a target that rejects requests at unstressed pods is raised at once.
    const r = gate.result.reason;
    const step = r === "NotDue" || r === "NoMetrics" || (r === "Hold" && input.memory !== undefined) ? slowStartStep(input, cfg, prev) : undefined;
    if (step === undefined) return gate.result;
    if (step.kind === "close") return { ...gate.result, message: `${gate.result.message}; ${step.message}`, memory: step.memory };
    return { target: step.target, reason: "CalmRaise", message: step.message, ran: false, stats: undefined, memory: step.memory };
  }
  const w = gate.window;
  const { spec, state, nowMs } = input;
  const current = state.targetConcurrency;
  const softHold = scaleUpUnderWay(w, state, cfg, nowMs, scaleUpSeenAtMs);
  // A window with a scale-up under way mixes operating points (a step, pods at their limit): not a profile point.
  const learned = learnFromWindow(prev, w, spec.runtime, cfg, softHold === undefined);
  const signals = stressSignals(w, learned, spec, cfg);
  const caps = saturationCaps(w, learned, spec, state, cfg);
  const tail = tailStage(prev.tail, prev.tailCeiling, w, learned, spec, current, cfg);
  if (tail.signal !== undefined) signals.push(tail.signal);
  const choice = chooseTarget(
    {
      current,
      min: spec.concurrency.min,
      max: spec.concurrency.max,
      signals,
      caps,
      inFlight: w.inFlight,
      meanQueued: w.stats.meanQueued,
      prev,
      tailCeiling: tail.tailCeiling,
      nowMs,
      softHold,
      state: `per-pod in-flight ${f2(w.inFlight)}, service ${f2(w.serviceMs)} ms (low-load ${f2(learned.baselineServiceMs)} ms)`,
    },
    cfg,
  );
  return {
    target: choice.target,
    reason: choice.reason,
    message: choice.message,
    ran: true,
    stats: w.stats,
    memory: {
      ...choice.memory,
      baselineServiceMs: learned.baselineServiceMs,
      profile: learned.profile,
      latencyLine: learned.latencyLine,
      cpuSaturationInFlight: learned.cpuSaturationInFlight,
      tail: tail.tail,
      ...(prev.slowStart !== undefined ? { slowStart: prev.slowStart } : {}),
    },
  };
}
