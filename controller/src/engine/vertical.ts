/**
 * The vertical axis: every 30 s, from the last window of history, adjust the target concurrency per pod.
 * Asymmetric like Clipper's AIMD and Chiron's local backpressure: a quick multiplicative cut when any
 * stress signal crosses its cut threshold, a slow raise only when every signal has stayed under its
 * lower (raise) threshold for several windows and the limit is actually binding. The runtime kind picks
 * the meaningful signals (GPU utilisation is pegged for vLLM: KV-cache and runtime queue instead; see
 * llm-d / GKE guidance in docs/engine.md).
 */
import type { EngineConfig } from "./config.ts";
import {
  efficientConcurrency,
  fitLinear,
  inFlightAt,
  kneeOf,
  lowLoadServiceMs,
  profileAlpha,
  readProfile,
  resourceKeys,
  writeProfile,
  type ProfilePoint,
  type ResourceKey,
} from "./profile.ts";
import { learnWindow, resourcesOf } from "./segments.ts";
import { covers, cpuSaturation, statsOf, windowOf, type WindowStats } from "./signals.ts";
import { accumulateTail, readTail, readTailCounts, tailInFlight, targetForInFlight, writeTail, type TailCounts } from "./tail.ts";
import type { ConcurrencyReason, DecisionInput, EndpointSpec, RuntimeKind } from "./types.ts";

export interface VerticalResult {
  readonly target: number;
  readonly reason: ConcurrencyReason;
  readonly message: string;
  /** Stats of the window the decision read (undefined when it did not run or had no data). */
  readonly stats: WindowStats | undefined;
  readonly ran: boolean;
  readonly baselineServiceMs: number | undefined;
  readonly profile: readonly ProfilePoint[];
  /** True when the learned state (profile, fit, ceiling…) is the memory's as it came in. */
  readonly unchanged: boolean;
  /** Linear latency model of a batching pod (ms, ms per in-flight request), when fitted. */
  readonly fit: { readonly a: number; readonly b: number } | undefined;
  /** Learned in-flight per pod at which CPU saturates (utilisation 1), when seen clearly enough. */
  readonly cpuKnee: number | undefined;
  readonly calmWindows: number;
  readonly stressWindows: number;
  readonly lastChangeAtMs: number | undefined;
  readonly lastChangeDir: number;
  readonly ceiling: number | undefined;
  readonly ceilingUntilMs: number | undefined;
  /** Requests over the objective counted at the current target (see tail.ts). */
  readonly tail: TailCounts | undefined;
  /** After a cut for requests over the objective: raises stay at or below it; a calm count lifts it one step. */
  readonly tailCeil: number | undefined;
}

/**
 * The target to start from when none is in force: the spec's; else, for batching engines, the top of
 * the range; else the geometric middle of the range (a neutral start on a log scale).
 */
export function initialTarget(spec: EndpointSpec): number {
  if (spec.initialTargetConcurrency !== undefined) return spec.initialTargetConcurrency;
  // A batching engine gains throughput with every request it batches up to its own limit, which is
  // what users put as the maximum (vLLM max_num_seqs): start there and let the fitted model cut.
  if (isBatching(spec.runtime)) return spec.concurrency.max;
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
  /** Only meaningful with at least `minStressInFlight` requests per pod (latency, compute). */
  readonly needsLoad?: boolean;
}

/** (z(0.999) − z(0.99)) / z(0.99) for a log-normal tail. */
const tailExponent = (3.0902 - 2.3263) / 2.3263;

const f2 = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

export function decideVertical(input: DecisionInput, cfg: EngineConfig): VerticalResult {
  const { spec, state, history, nowMs, memory } = input;
  const lo = spec.concurrency.min;
  const hi = spec.concurrency.max;
  const extra = memory?.extra ?? {};
  const base = {
    stats: undefined,
    ran: false,
    baselineServiceMs: memory?.baselineServiceMs,
    // Parsed only when the axis actually decides (see `unchanged`): most calls are NotDue.
    profile: [] as readonly ProfilePoint[],
    unchanged: true,
    fit: extra["fitA"] !== undefined && extra["fitB"] !== undefined ? { a: extra["fitA"], b: extra["fitB"] } : undefined,
    cpuKnee: extra["cpuKnee"],
    calmWindows: memory?.calmWindows ?? 0,
    stressWindows: memory?.stressWindows ?? 0,
    lastChangeAtMs: memory?.lastConcurrencyChangeAtMs,
    lastChangeDir: extra["lastChangeDir"] ?? 0,
    ceiling: extra["ceiling"],
    ceilingUntilMs: extra["ceilingUntilMs"],
    tail: readTail(extra),
    tailCeil: extra["tailCeil"],
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

  const rt = spec.runtime;
  const p = w.pod;
  // Compute utilisation means saturation only outside batching engines (a batching GPU is "busy" at
  // any load); vLLM pre-allocates GPU memory, so its GPU memory says nothing either.
  // GPU duty cycle is not a saturation measure even outside batching engines (GKE guidance): CPU only.
  const compute = usesInflation(rt) ? p.cpuUtil : undefined;
  const resources = resourcesOf(p, rt);

  // Window means, not per-sample points: a sample's in-flight is an instant reading while its service
  // time and utilisations are averages over the second, and regressing on such noisy readings flattens
  // every fitted slope (errors in variables). Windows at different loads give the spread over time.
  const profile = learnWindow(readProfile(extra), samples, { x, s, resources }, state.readyReplicas, cfg, (pm) => resourcesOf(pm, rt));
  const s0 = Math.min(lowLoadServiceMs(profile) ?? s, s);
  const inflation = s / s0;
  const podP99 = w.p99Ms !== undefined ? Math.max(s, w.p99Ms - (w.queueMs ?? 0)) : undefined;
  const podP50 = w.p50Ms !== undefined ? Math.max(1e-9, w.p50Ms - (w.queueMs ?? 0)) : undefined;
  // The SLO asks for 99.9% of requests within the p99 objective, so the tail beyond p99 matters; with
  // only p50 and p99 at hand, extrapolate it as log-normal: p99.9 = p99 · (p99/p50)^((3.090−2.326)/2.326).
  // Heavy-tailed per-request costs (LLM output lengths) show up here long before they move the p99.
  const tail = podP99 !== undefined && podP50 !== undefined ? Math.max(1, podP99 / podP50) ** tailExponent : 1;
  const podP999 = podP99 !== undefined ? podP99 * tail : undefined;
  const errorFrac = w.arrivalsPerS > 0 ? w.errorsPerS / w.arrivalsPerS : 0;

  // Stress: each signal with its cut and (lower) raise threshold, and the target it suggests on a cut.
  const signals: Signal[] = [];
  if (usesInflation(rt)) {
    signals.push({ name: "latency inflation", value: inflation, cut: cfg.inflationCut, raise: cfg.inflationRaise, suggest: x / inflation, needsLoad: true });
  }
  // The end-to-end p99 minus the mean queue time stands for the pod's p99 only while the gateway queue
  // is short; a long queue is the horizontal axis's business, not the pod's.
  const queueShort = (w.queueMs ?? 0) <= cfg.podP99MaxQueueFraction * s;
  if (podP99 !== undefined && spec.sloP99Ms !== undefined && queueShort) {
    const ratio = podP99 / spec.sloP99Ms;
    const mid = (cfg.sloCutFraction + cfg.sloRaiseFraction) / 2;
    signals.push({ name: "pod p99 / SLO", value: ratio, cut: cfg.sloCutFraction, raise: isBatching(rt) ? cfg.sloCutFraction : cfg.sloRaiseFraction, suggest: (x * mid) / ratio, needsLoad: true });
    if (podP999 !== undefined && cfg.tailCutFraction > 0) {
      const r999 = podP999 / spec.sloP99Ms;
      const raise = cfg.tailCutFraction * cfg.tailRaiseBand;
      signals.push({ name: "pod p99.9 (log-normal estimate) / SLO", value: r999, cut: cfg.tailCutFraction, raise, suggest: (x * (cfg.tailCutFraction + raise)) / 2 / r999, needsLoad: true });
    }
  }
  signals.push({ name: "error fraction", value: errorFrac, cut: Math.max(cfg.errorCutFraction, 1e-12), raise: cfg.errorRaiseFraction, suggest: x * 0.75 });
  if (compute !== undefined) {
    // Compute saturated without inflation is the ideal operating point: stress only with inflation.
    const stressed = compute >= cfg.computeCutUtil && inflation >= cfg.inflationRaise;
    signals.push({ name: "compute utilisation", value: stressed ? compute : Math.min(compute, cfg.computeCutUtil - 1e-9), cut: cfg.computeCutUtil, raise: 1, suggest: x / inflation, needsLoad: true });
  }
  const thresholds: Record<ResourceKey, readonly [string, number, number]> = {
    compute: ["compute", 1, 1],
    memory: ["memory utilisation", cfg.memoryCutUtil, cfg.memoryRaiseUtil],
    kv: ["KV-cache utilisation", cfg.kvCacheCutUtil, cfg.kvCacheRaiseUtil],
    gpuMemory: ["GPU memory utilisation", cfg.gpuMemoryCutUtil, cfg.gpuMemoryRaiseUtil],
  };
  for (const key of ["memory", "kv", "gpuMemory"] as const) {
    const v = resources[key];
    if (v === undefined) continue;
    const [name, cut, raise] = thresholds[key];
    signals.push({ name, value: v, cut, raise, suggest: inFlightAt(profile, key, raise, { x, v })?.x ?? (x * raise) / v });
  }
  if (p.runtimeQueueLength !== undefined) {
    signals.push({ name: "runtime queue per pod", value: p.runtimeQueueLength, cut: cfg.runtimeQueueCut, raise: cfg.runtimeQueueRaise, suggest: x - p.runtimeQueueLength });
  }

  // Where this pod stops gaining throughput, from what the profile has learned: compute saturates
  // (utilisation 1: the knee of a processor-sharing pod), a hard resource reaches its raise threshold,
  // latency has visibly inflated (the knee is in-flight / inflation), or, for batching engines, the
  // efficient point of the fitted latency model under the SLO.
  // `fitted` caps are learned from a range of in-flight and may cut; guesses only bound a raise.
  const caps: { name: string; x: number; fitted: boolean }[] = [];
  const kneeNow = usesInflation(rt) ? cpuSaturation(samples, state.readyReplicas, cfg.computeCutUtil, cfg.computeTrustUtil) : undefined;
  const cpuKnee = kneeNow === undefined ? base.cpuKnee : base.cpuKnee === undefined ? kneeNow : base.cpuKnee + profileAlpha * (kneeNow - base.cpuKnee);
  if (cpuKnee !== undefined && usesInflation(rt)) caps.push({ name: `CPU saturates at ~${f2(cpuKnee)} in flight`, x: cpuKnee, fitted: true });
  for (const key of resourceKeys) {
    if (key === "compute" || resources[key] === undefined) continue;
    const level = thresholds[key][2];
    const at = inFlightAt(profile, key, level, { x, v: resources[key] });
    // CPU use of a CPU-bound pod grows in proportion to in-flight, so one clear reading is enough.
    if (at !== undefined) caps.push({ name: `${thresholds[key][0]} reaches ${level} at ~${f2(at.x)} in flight${at.fitted ? "" : " (extrapolated)"}`, x: Math.max(at.x, 0), fitted: at.fitted });
  }
  // A knee below the in-flight this window ran at without inflation is contradicted by the freshest
  // evidence (an old point measured during a transient — e.g. pods starving for CPU while others start — is
  // not the pod's law): the present window wins, the knee is not a cap.
  const kneeLearned = usesInflation(rt) ? kneeOf(profile, s0, cfg.inflationRaise) : undefined;
  const knee = kneeLearned !== undefined && !(x > kneeLearned && inflation < cfg.inflationRaise) ? kneeLearned : undefined;
  if (knee !== undefined) caps.push({ name: `latency knee at ~${f2(knee)} in flight`, x: knee, fitted: true });
  const fit = isBatching(rt) ? fitLinear(profile) : undefined;
  if (fit !== undefined) {
    const ratio = podP99 !== undefined ? Math.max(1, podP99 / s) : 1;
    // When the cluster cannot add pods (some cannot be scheduled, or the replica maximum is reached),
    // each pod's throughput is all there is: go for the most the SLO allows, not the efficient point.
    const capped = state.unschedulableReplicas > 0 || state.desiredReplicas >= spec.replicas.max;
    const fraction = capped ? 1 : cfg.efficientThroughputFraction;
    const eff = efficientConcurrency(fit.a, fit.b, ratio, spec.sloP99Ms, cfg.sloCutFraction, hi, fraction) ?? Infinity;
    if (Number.isFinite(eff)) caps.push({ name: `efficient concurrency of the fitted latency ${f2(fit.a)} + ${f2(fit.b)}·x ms is ~${f2(eff)}`, x: eff, fitted: true });
  }
  // Requests over the objective (tail.ts): cut one step toward where the count would fit the budget;
  // after a cut, raises climb back one counted step at a time (`tailCeil`). The pod's latency model: the fitted line of a batching pod; else, once
  // latency has inflated (processor sharing), the service time in proportion to in-flight. Where the
  // service time does not grow with in-flight, the tail is not concurrency's doing and the count is
  // left to the horizontal axis and the user.
  const budget = 1 - cfg.sloTargetAttainment;
  const tailCounts = spec.sloP99Ms !== undefined ? accumulateTail(base.tail, samples, current, state.readyReplicas, cfg.podP99MaxQueueFraction, budget, cfg.overObjectiveMinExpected) : undefined;
  const reading = readTailCounts(tailCounts, budget, cfg.overObjectiveMinExpected, cfg.overObjectiveRaiseBand);
  let tailCeil = base.tailCeil;
  const model = isBatching(rt)
    ? fit !== undefined ? { at: (v: number) => fit.a + fit.b * v, min: fit.a + fit.b } : undefined
    : inflation > cfg.inflationRaise && reading !== undefined ? { at: (v: number) => Math.max(s0, (s * v) / reading.x), min: s0 } : undefined;
  if (reading !== undefined && spec.sloP99Ms !== undefined && model !== undefined && podP99 !== undefined) {
    const slo = spec.sloP99Ms;
    const xAt = (goal: number) => tailInFlight(reading, goal, podP99, slo, model.at, model.min);
    // Aim at the middle of the hysteresis band (as the p99 signal does), both when cutting and when bounding a raise.
    const goal = (budget * (1 + cfg.overObjectiveRaiseBand)) / 2;
    const xGoal = xAt(goal);
    const step = xGoal !== undefined ? targetForInFlight(current, reading.x, xGoal, model.at, cfg.overObjectiveMaxStep) : undefined;
    const name = `requests over the objective ${(reading.fraction * 100).toFixed(3)}% / budget ${(budget * 100).toFixed(3)}%`;
    signals.push({ name, value: reading.ratio, cut: step !== undefined && step < current ? reading.cutAt : Infinity, raise: reading.raiseAt, suggest: step ?? current, needsLoad: true });
    // A calm count lifts the ceiling by one step toward the goal (the tail grows steeply with in-flight,
    // so each step up is earned by a calm count at the level below), or removes it when nothing was late.
    if (reading.ratio <= reading.raiseAt) {
      const up = step !== undefined ? Math.max(current, Math.floor(step)) : undefined;
      tailCeil = up === undefined ? undefined : Math.max(tailCeil ?? up, up);
    }
  }
  const lowest = (cs: typeof caps) => (cs.length > 0 ? cs.reduce((m, c2) => (c2.x < m.x ? c2 : m)) : undefined);
  const cap = lowest(caps);
  const capC = cap !== undefined ? Math.max(lo, Math.round(cap.x)) : undefined;
  const hardCap = lowest(caps.filter((c2) => c2.fitted));
  const hardC = hardCap !== undefined ? Math.max(lo, Math.round(hardCap.x)) : undefined;

  const next = { ...base, ran: true, stats: w, baselineServiceMs: s0, profile, fit, cpuKnee, unchanged: false, tail: tailCounts, tailCeil };
  const state0 = `per-pod in-flight ${f2(x)}, service ${f2(s)} ms (low-load ${f2(s0)} ms)`;
  // Latency and compute stress at under one request in flight per pod is not caused by concurrency
  // (a slow request, the tail of a drain): cutting the limit would not relieve it.
  const loaded = x >= cfg.minStressInFlight;
  const over = signals.filter((g) => g.value >= g.cut && (loaded || !g.needsLoad));
  // A dead band around a learned saturation point: its estimate moves by ~10% window to window, and an
  // integer target must not follow that noise.
  const modelCut = hardCap !== undefined && hardC !== undefined && hardC < current && current > hardCap.x * (1 + cfg.modelTolerance);
  if (over.length > 0 || modelCut) {
    const suggestions = over.map((g) => g.suggest);
    if (hardC !== undefined) suggestions.push(hardC);
    const floorByCap = Math.ceil(current * cfg.maxCutFactor);
    const t = clampInt(Math.min(current - 1, Math.max(floorByCap, Math.floor(Math.min(...suggestions) + 1e-9))), lo, hi);
    const names = over.map((g) => `${g.name} ${f2(g.value)} ≥ ${g.cut}`);
    if (modelCut && hardCap !== undefined) names.push(hardCap.name);
    if (t >= current) {
      return { ...next, target: current, reason: "Bounds", message: `${names.join(", ")}; but target ${current} is at the minimum ${lo}`, stressWindows: base.stressWindows + 1, calmWindows: 0 };
    }
    const wait = over.length === 0 ? refinementWait(current, t, base.lastChangeAtMs, nowMs, cfg) : undefined;
    if (wait !== undefined) {
      return { ...next, target: current, reason: "Hold", message: `${names.join(", ")}; a small refinement ${current} → ${t} waits until ${wait} ms (one per ${cfg.refineIntervalMs / 60_000} min); ${state0}`, stressWindows: 0, calmWindows: 0 };
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
      // Raises stay below the middle of the cut for a while: the level that hurt, and just under it, are not retried at once.
      ceiling: over.length > 0 ? Math.ceil((current + t) / 2) : base.ceiling,
      ceilingUntilMs: over.length > 0 ? nowMs + cfg.ceilingHoldMs : base.ceilingUntilMs,
      tailCeil: over.some((g) => g.name.startsWith("requests over the objective")) ? t : tailCeil,
    };
  }

  const notCalm = signals.filter((g) => g.value > g.raise);
  const binding = x >= cfg.bindingFraction * current || w.meanQueued >= 1;
  // A raise needs evidence about higher concurrency: either the limit binds now, or the profile says
  // where the pod saturates (then the raise goes at most there).
  const evidence = binding || (capC !== undefined && capC > current);
  if (notCalm.length > 0 || !evidence) {
    const why = notCalm.length > 0 ? notCalm.map((g) => `${g.name} ${f2(g.value)} > ${g.raise}`).join(", ") : `limit not binding (per-pod in-flight ${f2(x)} < ${cfg.bindingFraction} × ${current}) and no saturation point learned`;
    return { ...next, target: current, reason: "Hold", message: `${why}; ${state0}; keeping ${current}`, stressWindows: 0, calmWindows: notCalm.length > 0 ? 0 : base.calmWindows };
  }
  const calm = base.calmWindows + 1;
  const momentum = base.lastChangeDir > 0 && base.lastChangeAtMs !== undefined && nowMs - base.lastChangeAtMs <= 2 * cfg.verticalIntervalMs;
  const need = momentum ? 1 : cfg.calmWindowsToRaise;
  if (calm < need) {
    return { ...next, target: current, reason: "Hold", message: `calm for ${calm}/${need} windows; ${state0}; keeping ${current}`, stressWindows: 0, calmWindows: calm };
  }
  let t = Math.max(current + 1, Math.floor(current * cfg.maxRaiseFactor));
  const limits: string[] = [];
  if (capC !== undefined && capC < t && cap !== undefined) {
    t = capC;
    limits.push(cap.name);
    if (current >= cap.x / (1 + cfg.modelTolerance)) t = current;
  }
  if (base.ceiling !== undefined && base.ceilingUntilMs !== undefined && nowMs < base.ceilingUntilMs && t >= base.ceiling) {
    t = base.ceiling - 1;
    limits.push(`stress seen at ${base.ceiling} until ${base.ceilingUntilMs} ms`);
  }
  if (tailCeil !== undefined && t > tailCeil) {
    t = tailCeil;
    limits.push(`requests over the objective: raises go one counted step at a time, now to ${tailCeil}`);
  }

  t = clampInt(t, lo, hi);
  if (t <= current) {
    return { ...next, target: current, reason: "Hold", message: `calm, but a raise is capped (${limits.join(", ") || `maximum ${hi}`}); ${state0}; keeping ${current}`, stressWindows: 0, calmWindows: calm };
  }
  const wait = refinementWait(current, t, base.lastChangeAtMs, nowMs, cfg);
  if (wait !== undefined) {
    return { ...next, target: current, reason: "Hold", message: `calm; a small refinement ${current} → ${t} waits until ${wait} ms (one per ${cfg.refineIntervalMs / 60_000} min); ${state0}`, stressWindows: 0, calmWindows: calm };
  }
  return {
    ...next,
    target: t,
    reason: "CalmRaise",
    message: `every stress signal under its raise threshold for ${calm} windows${binding ? " and the limit is binding" : ""}; ${state0}; raise ${current} → ${t}${limits.length ? ` (capped: ${limits.join(", ")})` : ""}`,
    stressWindows: 0,
    calmWindows: 0,
    lastChangeAtMs: nowMs,
    lastChangeDir: 1,
  };
}

/**
 * Small changes (under `refineFraction` of the target) that no stress signal asks for are refinements:
 * at most one per `refineIntervalMs`, so a steady load sees a steady target. Returns when it may happen,
 * or undefined when it may happen now. Big corrections and stress cuts are never delayed.
 */
function refinementWait(current: number, t: number, lastChangeAtMs: number | undefined, nowMs: number, cfg: EngineConfig): number | undefined {
  if (Math.abs(t - current) >= cfg.refineFraction * current || lastChangeAtMs === undefined) return undefined;
  const at = lastChangeAtMs + cfg.refineIntervalMs;
  return nowMs < at ? at : undefined;
}

/** Carry the vertical state into the engine memory's `extra` map. */
export function verticalExtra(v: VerticalResult): Record<string, number> {
  const out: Record<string, number> = { lastChangeDir: v.lastChangeDir, ...writeProfile(v.profile) };
  if (v.fit !== undefined) {
    out["fitA"] = v.fit.a;
    out["fitB"] = v.fit.b;
  }
  if (v.cpuKnee !== undefined) out["cpuKnee"] = v.cpuKnee;
  if (v.ceiling !== undefined) out["ceiling"] = v.ceiling;
  if (v.ceilingUntilMs !== undefined) out["ceilingUntilMs"] = v.ceilingUntilMs;
  if (v.tailCeil !== undefined) out["tailCeil"] = v.tailCeil;
  return { ...out, ...writeTail(v.tail) };
}

