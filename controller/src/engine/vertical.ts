/**
 * The vertical axis: every 30 s, from the last window of history, adjust the target concurrency per pod.
 * Asymmetric like Clipper's AIMD and Chiron's local backpressure: a quick multiplicative cut when any
 * stress signal crosses its cut threshold, a slow raise only when every signal has stayed under its
 * lower (raise) threshold for several windows and the limit is actually binding. The runtime kind picks
 * the meaningful signals (GPU utilisation is pegged for vLLM: KV-cache and runtime queue instead; see
 * llm-d / GKE guidance in docs/engine.md).
 */
import type { EngineConfig } from "./config.ts";
import { covers, statsOf, windowOf, type WindowStats } from "./signals.ts";
import type { ConcurrencyReason, DecisionInput, EndpointSpec, EngineMemory, RuntimeKind } from "./types.ts";

export interface VerticalResult {
  readonly target: number;
  readonly reason: ConcurrencyReason;
  readonly message: string;
  /** Stats of the window the decision read (undefined when it did not run or had no data). */
  readonly stats: WindowStats | undefined;
  readonly ran: boolean;
  readonly baselineServiceMs: number | undefined;
  readonly baselineInFlight: number | undefined;
  readonly calmWindows: number;
  readonly stressWindows: number;
  readonly lastChangeAtMs: number | undefined;
  readonly lastChangeDir: number;
  readonly ceiling: number | undefined;
  readonly ceilingUntilMs: number | undefined;
}

/** The target to start from when none is in force: the spec's, else the geometric middle of the range. */
export function initialTarget(spec: EndpointSpec): number {
  if (spec.initialTargetConcurrency !== undefined) return spec.initialTargetConcurrency;
  return clampInt(Math.round(Math.sqrt(spec.concurrency.min * spec.concurrency.max)), spec.concurrency.min, spec.concurrency.max);
}

export function clampInt(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(x)));
}

const isBatching = (r: RuntimeKind) => r === "vllm" || r === "triton";
/** Latency inflation and compute utilisation mean stress only where the pod is not a batching engine. */
const usesInflation = (r: RuntimeKind) => !isBatching(r);

interface Signal {
  readonly name: string;
  readonly value: number;
  readonly cut: number;
  readonly raise: number;
  /** Target this signal suggests when it is over its cut threshold. */
  readonly suggest: number;
}

const f2 = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** Efficient concurrency of a batching pod from a linear latency model S(x) = a + b·x (see docs). */
export function efficientConcurrency(
  a: number,
  b: number,
  p99Ratio: number,
  sloP99Ms: number | undefined,
  sloFraction: number,
  maxC: number,
  fraction: number,
): number | undefined {
  if (!(b > 0) || !(a > 0)) return undefined;
  let xs = maxC;
  if (sloP99Ms !== undefined) xs = Math.min(xs, ((sloFraction * sloP99Ms) / p99Ratio - a) / b);
  if (!(xs > 0)) return 1;
  const k = fraction * (xs / (a + b * xs));
  const denom = 1 - k * b;
  if (denom <= 0) return undefined;
  return Math.min(xs, (k * a) / denom);
}

export function decideVertical(input: DecisionInput, cfg: EngineConfig): VerticalResult {
  const { spec, state, history, nowMs, memory } = input;
  const lo = spec.concurrency.min;
  const hi = spec.concurrency.max;
  const extra = memory?.extra ?? {};
  const base = {
    stats: undefined,
    ran: false,
    baselineServiceMs: memory?.baselineServiceMs,
    baselineInFlight: extra["baselineInFlight"],
    calmWindows: memory?.calmWindows ?? 0,
    stressWindows: memory?.stressWindows ?? 0,
    lastChangeAtMs: memory?.lastConcurrencyChangeAtMs,
    lastChangeDir: extra["lastChangeDir"] ?? 0,
    ceiling: extra["ceiling"],
    ceilingUntilMs: extra["ceilingUntilMs"],
  };
  const current = state.targetConcurrency;
  if (!(Number.isFinite(current) && current > 0)) {
    const t = initialTarget(spec);
    return { ...base, target: t, reason: "Initial", message: `no target in force; starting at ${t} (range ${lo}–${hi})`, lastChangeAtMs: nowMs };
  }
  if (current < lo || current > hi || !Number.isInteger(current)) {
    const t = clampInt(current, lo, hi);
    return { ...base, target: t, reason: "Bounds", message: `target ${current} is outside the range ${lo}–${hi}; set to ${t}`, lastChangeAtMs: nowMs };
  }
  const hold = (reason: ConcurrencyReason, message: string) => ({ ...base, target: current, reason, message });
  if (memory === undefined) {
    return hold("Hold", `engine (re)started: keeping target ${current} until it has ${cfg.verticalIntervalMs / 1000} s of history`);
  }
  if (nowMs < memory.lastVerticalAtMs + cfg.verticalIntervalMs) {
    return hold("NotDue", `next vertical decision at ${memory.lastVerticalAtMs + cfg.verticalIntervalMs} ms`);
  }
  const samples = windowOf(history, nowMs, cfg.verticalIntervalMs);
  const latest = history[history.length - 1];
  if (latest === undefined || latest.atMs < nowMs - cfg.stalenessMs) {
    return { ...hold("NoMetrics", `no fresh samples; keeping target ${current}`), ran: true };
  }
  if (!covers(samples, cfg.verticalIntervalMs, cfg.sampleIntervalMs, cfg.minWindowCoverage) || nowMs - memory.sinceMs < cfg.verticalIntervalMs) {
    return { ...hold("NoMetrics", `less than ${cfg.verticalIntervalMs / 1000} s of history; keeping target ${current}`), ran: true };
  }
  const w = statsOf(samples, cfg.sampleIntervalMs, state.readyReplicas);
  if (w.completions < cfg.minCompletionsPerWindow || w.serviceMs === undefined || w.perPodInFlight === undefined) {
    return { ...hold("Hold", `only ${w.completions} completions in the window (need ${cfg.minCompletionsPerWindow}); keeping target ${current}`), ran: true, stats: w };
  }
  const x = w.perPodInFlight;
  const s = w.serviceMs;

  // Learn the low-load service time: the lowest window seen, drifting up slowly so it can follow a
  // model that got slower.
  let s0 = memory.baselineServiceMs;
  let x0 = extra["baselineInFlight"];
  if (s0 === undefined || s <= s0) {
    s0 = s;
    x0 = x;
  } else {
    s0 = Math.min(s, s0 * (1 + cfg.baselineDriftPerWindow));
  }
  const inflation = s / s0;
  const podP99 = w.p99Ms !== undefined ? Math.max(s, w.p99Ms - (w.queueMs ?? 0)) : undefined;
  const errorFrac = w.arrivalsPerS > 0 ? w.errorsPerS / w.arrivalsPerS : 0;
  const rt = spec.runtime;
  const p = w.pod;

  const signals: Signal[] = [];
  if (usesInflation(rt)) {
    signals.push({ name: "latency inflation", value: inflation, cut: cfg.inflationCut, raise: cfg.inflationRaise, suggest: x / inflation });
  }
  if (podP99 !== undefined && spec.sloP99Ms !== undefined) {
    const ratio = podP99 / spec.sloP99Ms;
    const mid = (cfg.sloCutFraction + cfg.sloRaiseFraction) / 2;
    signals.push({ name: "pod p99 / SLO", value: ratio, cut: cfg.sloCutFraction, raise: isBatching(rt) ? cfg.sloCutFraction : cfg.sloRaiseFraction, suggest: (x * mid) / ratio });
  }
  signals.push({ name: "error fraction", value: errorFrac, cut: Math.max(cfg.errorCutFraction, 1e-12), raise: cfg.errorRaiseFraction, suggest: x * 0.75 });
  if (usesInflation(rt)) {
    for (const [name, v] of [["cpu", p.cpuUtil], ["gpu", p.gpuUtil]] as const) {
      if (v === undefined) continue;
      // Compute saturated without inflation is the ideal operating point: stress only with inflation.
      const stressed = v >= cfg.computeCutUtil && inflation >= cfg.inflationRaise;
      signals.push({ name: `${name} utilisation`, value: stressed ? Math.max(v, cfg.computeCutUtil) : Math.min(v, cfg.computeCutUtil - 1e-9), cut: cfg.computeCutUtil, raise: cfg.computeRaiseUtil, suggest: x / inflation });
    }
  }
  if (p.memoryUtil !== undefined) {
    signals.push({ name: "memory utilisation", value: p.memoryUtil, cut: cfg.memoryCutUtil, raise: cfg.memoryRaiseUtil, suggest: (x * cfg.memoryRaiseUtil) / p.memoryUtil });
  }
  if (p.gpuMemoryUtil !== undefined && rt !== "vllm") {
    signals.push({ name: "GPU memory utilisation", value: p.gpuMemoryUtil, cut: cfg.gpuMemoryCutUtil, raise: cfg.gpuMemoryRaiseUtil, suggest: (x * cfg.gpuMemoryRaiseUtil) / p.gpuMemoryUtil });
  }
  if (p.kvCacheUtil !== undefined) {
    signals.push({ name: "KV-cache utilisation", value: p.kvCacheUtil, cut: cfg.kvCacheCutUtil, raise: cfg.kvCacheRaiseUtil, suggest: (x * cfg.kvCacheRaiseUtil) / p.kvCacheUtil });
  }
  if (p.runtimeQueueLength !== undefined) {
    signals.push({ name: "runtime queue per pod", value: p.runtimeQueueLength, cut: cfg.runtimeQueueCut, raise: cfg.runtimeQueueRaise, suggest: x - p.runtimeQueueLength });
  }

  // Batching pods: latency grows by design; the efficient point comes from a linear latency model
  // through the low-load point and the current one (see docs/engine.md, "batching").
  let efficient: number | undefined;
  if (isBatching(rt) && x0 !== undefined && x - x0 >= 0.5 && s > s0 * 1.02) {
    const b = (s - s0) / (x - x0);
    const a = Math.max(s0 - b * x0, 0.01 * s0);
    const ratio = podP99 !== undefined ? Math.max(1, podP99 / s) : 1;
    efficient = efficientConcurrency(a, b, ratio, spec.sloP99Ms, cfg.sloCutFraction, hi, cfg.efficientThroughputFraction);
  }

  const next = {
    ...base,
    ran: true,
    stats: w,
    baselineServiceMs: s0,
    baselineInFlight: x0,
  };
  const state0 = `per-pod in-flight ${f2(x)}, service ${f2(s)} ms (low-load ${f2(s0)} ms)`;
  const over = signals.filter((g) => g.value >= g.cut);
  const modelCut = efficient !== undefined && current > Math.ceil(efficient * 1.2);
  if (over.length > 0 || modelCut) {
    const suggestions = over.map((g) => g.suggest);
    if (modelCut && efficient !== undefined) suggestions.push(efficient);
    const floorByCap = Math.ceil(current * cfg.maxCutFactor);
    const t = clampInt(Math.min(current - 1, Math.max(floorByCap, Math.floor(Math.min(...suggestions)))), lo, hi);
    const names = over.map((g) => `${g.name} ${f2(g.value)} ≥ ${g.cut}`);
    if (modelCut && efficient !== undefined) names.push(`past the efficient concurrency ${f2(efficient)}`);
    if (t >= current) {
      return { ...next, target: current, reason: "Bounds", message: `stress (${names.join(", ")}) but target ${current} is at the minimum ${lo}`, stressWindows: base.stressWindows + 1, calmWindows: 0 };
    }
    return {
      ...next,
      target: t,
      reason: "StressCut",
      message: `${names.join(", ")}; ${state0}; cut ${current} → ${t}`,
      stressWindows: base.stressWindows + 1,
      calmWindows: 0,
      lastChangeAtMs: nowMs,
      lastChangeDir: -1,
      ceiling: current,
      ceilingUntilMs: nowMs + cfg.ceilingHoldMs,
    };
  }

  const notCalm = signals.filter((g) => g.value > g.raise);
  const binding = x >= cfg.bindingFraction * current || w.meanQueued >= 1;
  if (notCalm.length > 0 || !binding) {
    const why = notCalm.length > 0 ? notCalm.map((g) => `${g.name} ${f2(g.value)} > ${g.raise}`).join(", ") : `limit not binding (per-pod in-flight ${f2(x)} < ${cfg.bindingFraction} × ${current})`;
    return { ...next, target: current, reason: "Hold", message: `${why}; ${state0}; keeping ${current}`, stressWindows: 0, calmWindows: notCalm.length > 0 ? 0 : base.calmWindows };
  }
  const calm = base.calmWindows + 1;
  const momentum = base.lastChangeDir > 0 && base.lastChangeAtMs !== undefined && nowMs - base.lastChangeAtMs <= 2 * cfg.verticalIntervalMs;
  const need = momentum ? 1 : cfg.calmWindowsToRaise;
  if (calm < need) {
    return { ...next, target: current, reason: "Hold", message: `calm and binding for ${calm}/${need} windows; ${state0}; keeping ${current}`, stressWindows: 0, calmWindows: calm };
  }
  let t = Math.max(current + 1, Math.floor(current * cfg.maxRaiseFactor));
  const limits: string[] = [];
  const u = cfg.targetUtilization;
  if (usesInflation(rt)) {
    for (const [name, v] of [["cpu", p.cpuUtil], ["gpu", p.gpuUtil]] as const) {
      if (v === undefined || v <= 0) continue;
      // Utilisation grows with in-flight: keep the extrapolated figure at the raised target under the cut line.
      const cap = Math.floor((cfg.computeCutUtil * x) / (v * u));
      if (cap < t) {
        t = cap;
        limits.push(`${name} extrapolation`);
      }
    }
  }
  if (p.kvCacheUtil !== undefined && p.kvCacheUtil > 0) {
    const cap = Math.floor((cfg.kvCacheCutUtil * x) / (p.kvCacheUtil * u));
    if (cap < t) {
      t = cap;
      limits.push("KV-cache extrapolation");
    }
  }
  if (efficient !== undefined && Math.ceil(efficient) < t) {
    t = Math.ceil(efficient);
    limits.push(`efficient concurrency ${f2(efficient)}`);
  }
  if (base.ceiling !== undefined && base.ceilingUntilMs !== undefined && nowMs < base.ceilingUntilMs && t >= base.ceiling) {
    t = base.ceiling - 1;
    limits.push(`stress seen at ${base.ceiling} until ${base.ceilingUntilMs} ms`);
  }
  t = clampInt(t, lo, hi);
  if (t <= current) {
    return { ...next, target: current, reason: "Hold", message: `calm and binding, but a raise is capped (${limits.join(", ") || `maximum ${hi}`}); ${state0}; keeping ${current}`, stressWindows: 0, calmWindows: calm };
  }
  return {
    ...next,
    target: t,
    reason: "CalmRaise",
    message: `every stress signal under its raise threshold for ${calm} windows and the limit is binding; ${state0}; raise ${current} → ${t}${limits.length ? ` (capped by ${limits.join(", ")})` : ""}`,
    stressWindows: 0,
    calmWindows: 0,
    lastChangeAtMs: nowMs,
    lastChangeDir: 1,
  };
}

/** Carry the vertical state into the engine memory's `extra` map. */
export function verticalExtra(v: VerticalResult): Record<string, number> {
  const out: Record<string, number> = { lastChangeDir: v.lastChangeDir };
  if (v.baselineInFlight !== undefined) out["baselineInFlight"] = v.baselineInFlight;
  if (v.ceiling !== undefined) out["ceiling"] = v.ceiling;
  if (v.ceilingUntilMs !== undefined) out["ceilingUntilMs"] = v.ceilingUntilMs;
  return out;
}

export type { EngineMemory };
