/**
 * Vertical stage before the first window — slow start (as TCP's: grow the window multiplicatively until the first
 * sign of congestion). While the engine has learned nothing about the pod yet (empty profile, no cut so far), the
 * starting target is a guess; when the gateway turns requests away or queues them while the pods run at that limit
 * and show no stress, the limit itself is what rejects, and raising it admits requests at once where new pods take a
 * pod start. So every fast window (5 s of fresh samples at the new target) the target is raised ×`maxRaiseFactor`,
 * until the pods show stress: service time grown by `inflationRaise` since the last step (a CPU pod slows in
 * proportion to its requests; an I/O pool under its size does not), pod p99 over the raise fraction of the SLO,
 * errors, or a hard resource over its raise threshold. Then slow start closes for good and the regular vertical
 * axis (30 s windows, AIMD) takes over; it also closes once the first window is merged into the profile.
 * Example: an I/O pod pool of 100 started at target 23 with requests rejected: 23 → 34 → 51 → 76 → 114 in 20 s; the
 * regular axis cuts back to the knee it then learns. Pure.
 */
import type { EngineConfig } from "./config.ts";
import { resourcesOf } from "./segments.ts";
import { covers, statsOf, windowOf } from "./signals.ts";
import type { DecisionInput, VerticalMemory } from "./types.ts";
import { resourceThresholds } from "./vertical-signals.ts";
import { clampInt } from "./vertical-choose.ts";

/** A slow-start raise: the new target, its message and the memory after it; or a close (stress seen). */
export type SlowStartStep =
  | { readonly kind: "raise"; readonly target: number; readonly message: string; readonly memory: VerticalMemory }
  | { readonly kind: "close"; readonly message: string; readonly memory: VerticalMemory };

const f2 = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** Whether slow start is still open: nothing learned, no cut, no stress seen in a step. */
export function slowStartOpen(prev: VerticalMemory): boolean {
  return prev.slowStart?.closed !== true && prev.profile.length === 0 && prev.lastChangeDirection !== -1 && prev.stressCeiling === undefined;
}

/** One slow-start step at `input.nowMs`, or undefined when none applies (closed, not due, no pressure, not binding). */
export function slowStartStep(input: DecisionInput, cfg: EngineConfig, prev: VerticalMemory): SlowStartStep | undefined {
  const { spec, state, history, nowMs, memory } = input;
  const current = state.targetConcurrency;
  if (memory === undefined || !(current > 0) || current >= spec.concurrency.max || !slowStartOpen(prev)) return undefined;
  const last = prev.slowStart?.lastRaiseAtMs;
  // a fresh fast window at the target in force: a sample covers the second before its timestamp
  const windowMs = cfg.scaleUpFastWindowMs;
  if (last !== undefined && nowMs - last < windowMs + cfg.sampleIntervalMs) return undefined;
  const samples = windowOf(history, nowMs, windowMs);
  const newest = history[history.length - 1];
  if (newest === undefined || newest.atMs < nowMs - cfg.stalenessMs || !covers(samples, windowMs, cfg.sampleIntervalMs, cfg.minWindowCoverage)) return undefined;
  const st = statsOf(samples, cfg.sampleIntervalMs, state.readyReplicas);
  const x = st.perPodInFlight;
  const s = st.serviceMs;
  if (x === undefined || s === undefined || st.completions < cfg.minCompletionsPerWindow) return undefined;
  const pressure = st.rejectionsPerS > 0 || st.meanQueued >= 1;
  if (!pressure || x < cfg.bindingFraction * current) return undefined;
  const close = (why: string): SlowStartStep => ({
    kind: "close",
    message: `slow start ends: ${why}; the regular vertical axis decides from here`,
    memory: { ...prev, slowStart: { closed: true, lastRaiseAtMs: last, serviceMs: prev.slowStart?.serviceMs } },
  });
  const before = prev.slowStart?.serviceMs;
  if (before !== undefined && s > cfg.inflationRaise * before) return close(`service time ${f2(s)} ms is over ${cfg.inflationRaise}× the ${f2(before)} ms before the last raise`);
  const errors = st.arrivalsPerS > 0 ? st.errorsPerS / st.arrivalsPerS : 0;
  if (errors > cfg.errorRaiseFraction) return close(`error fraction ${f2(errors)} > ${cfg.errorRaiseFraction}`);
  const queueShort = (st.queueMs ?? 0) <= cfg.podP99MaxQueueFraction * s;
  if (spec.sloP99Ms !== undefined && st.p99Ms !== undefined && queueShort) {
    const podP99 = Math.max(s, st.p99Ms - (st.queueMs ?? 0));
    if (podP99 > cfg.sloRaiseFraction * spec.sloP99Ms) return close(`pod p99 ${f2(podP99)} ms > ${cfg.sloRaiseFraction} × the SLO`);
  }
  const resources = resourcesOf(st.pod, spec.runtime);
  const thresholds = resourceThresholds(cfg);
  for (const [key, v] of Object.entries(resources) as [keyof typeof thresholds, number][]) {
    if (v > thresholds[key].raise) return close(`${thresholds[key].name} ${f2(v)} > ${thresholds[key].raise}`);
  }
  const t = clampInt(Math.max(current + 1, Math.floor(current * cfg.maxRaiseFactor)), spec.concurrency.min, spec.concurrency.max);
  if (t <= current) return undefined;
  const why = st.rejectionsPerS > 0 ? `the gateway rejected ${f2(st.rejectionsPerS)} req/s` : `${f2(st.meanQueued)} requests queued`;
  return {
    kind: "raise",
    target: t,
    message: `slow start: ${why} while pods ran at the limit (per-pod in-flight ${f2(x)} of ${current}, service ${f2(s)} ms) with no stress; raise ${current} → ${t}`,
    memory: { ...prev, calmWindows: 0, lastChangeAtMs: nowMs, lastChangeDirection: 1, slowStart: { closed: false, lastRaiseAtMs: nowMs, serviceMs: s } },
  };
}
