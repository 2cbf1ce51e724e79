/**
 * Vertical stage 1 — learn: merge one vertical window into the pod profile and read what it says now: the
 * low-load service time, the latency inflation, the pod's p50/p99/p99.9 net of gateway queueing, the CPU
 * saturation point, the latency knee, and a batching pod's latency line. Pure.
 */
import type { EngineConfig } from "./config.ts";
import { fitLatencyLine, isProfilePoint, kneeOf, lowLoadServiceMs } from "./profile.ts";
import { learnWindow, resourcesOf } from "./segments.ts";
import { cpuSaturation, type WindowStats } from "./signals.ts";
import type { EndpointSample, LatencyLine, ProfilePoint, ResourceKey, RuntimeKind, VerticalMemory } from "./types.ts";

export const isBatching = (r: RuntimeKind): boolean => r === "vllm" || r === "triton";
/** Latency inflation and compute utilisation mean stress only where the pod is not a batching engine. */
export const usesInflation = (r: RuntimeKind): boolean => !isBatching(r);

/**
 * (z(0.999) − z(0.99)) / z(0.99) for a log-normal tail, derived: p99.9 = p99 · (p99/p50)^this, with
 * z(0.99) = 2.3263 and z(0.999) = 3.0902 the standard normal quantiles.
 */
export const LOG_NORMAL_TAIL_EXPONENT = (3.0902 - 2.3263) / 2.3263;

/** One vertical window as measured: per-pod in-flight, service time and the window's statistics. */
export interface VerticalWindow {
  readonly samples: readonly EndpointSample[];
  readonly stats: WindowStats;
  /** Mean per-pod in-flight. */
  readonly inFlight: number;
  /** Completion-weighted mean pod service time, ms. */
  readonly serviceMs: number;
  readonly readyReplicas: number;
}

/** What the profile says after this window. */
export interface Learned {
  readonly profile: readonly ProfilePoint[];
  /** Low-load service time: the lowest profile point, never above this window's, ms. */
  readonly baselineServiceMs: number;
  /** This window's service time / the low-load one. */
  readonly inflation: number;
  /** The hard resources of this window (memory, KV-cache, GPU memory where meaningful). */
  readonly resources: Readonly<Partial<Record<ResourceKey, number>>>;
  /** Pod p99 and p50: the end-to-end figures less the mean gateway queue time, ms. */
  readonly podP99Ms: number | undefined;
  readonly podP50Ms: number | undefined;
  /** Log-normal estimate of the pod p99.9 from p50 and p99, ms. */
  readonly podP999Ms: number | undefined;
  /** Per-pod in-flight at which CPU saturates, smoothed across windows; undefined when never seen clearly. */
  readonly cpuSaturationInFlight: number | undefined;
  /** The latency knee, unless the present window contradicts it (see below). */
  readonly knee: number | undefined;
  /** A batching pod's latency line through the profile. */
  readonly latencyLine: LatencyLine | undefined;
}

/**
 * Does a window contradict a learned latency knee? The knee's own law (processor sharing past it) predicts an
 * inflation of `inFlight / knee` at a window past the knee; the window contradicts the knee when that
 * prediction reaches the raise threshold and the window shows less — an old point measured during a transient
 * (pods starving for CPU while others start) is not the pod's law. A window just past the knee is not a
 * contradiction: there the law itself predicts inflation under the threshold.
 * Worked examples with the raise threshold 1.1: a knee at 1 in flight and a window at 2 with inflation 1.0
 * (predicted 2.0): contradicted. A knee at 99.4 and a window at 101 with inflation 1.03 (predicted 1.016):
 * not contradicted, the knee stays a cap. A knee at 99.4 and a window at 120 with inflation 1.0 (predicted
 * 1.21): contradicted. Derived (no constant of its own).
 */
export function kneeContradicted(kneeInFlight: number, inFlight: number, inflation: number, inflationRaise: number): boolean {
  return inFlight >= kneeInFlight * inflationRaise && inflation < inflationRaise;
}

/** `merge: false` reads the window against the profile without adding it as a point (a transient window). */
export function learnFromWindow(prev: VerticalMemory, w: VerticalWindow, runtime: RuntimeKind, cfg: EngineConfig, merge = true): Learned {
  const x = w.inFlight;
  const s = w.serviceMs;
  const resources = resourcesOf(w.stats.pod, runtime);
  // Window means, not per-sample points: a sample's in-flight is an instant reading while its service
  // time and utilisations are averages over the second, and regressing on such noisy readings flattens
  // every fitted slope (errors in variables). Windows at different loads give the spread over time.
  const profile = merge ? learnWindow(prev.profile, w.samples, { inFlight: x, serviceMs: s, resources }, w.readyReplicas, cfg, (pm) => resourcesOf(pm, runtime)) : prev.profile;
  // Only a window that is an operating point may lower the baseline; the floor keeps the baseline (and the
  // inflation it divides) finite whatever a window reads.
  const own = isProfilePoint(x, s, cfg) ? s : Infinity;
  const s0 = Math.max(cfg.serviceTimeFloorMs, Math.min(lowLoadServiceMs(profile, cfg.serviceTimeFloorMs) ?? s, own));
  const inflation = s / s0;
  const queueMs = w.stats.queueMs ?? 0;
  const podP99Ms = w.stats.p99Ms !== undefined ? Math.max(s, w.stats.p99Ms - queueMs) : undefined;
  const podP50Ms = w.stats.p50Ms !== undefined ? Math.max(1e-9, w.stats.p50Ms - queueMs) : undefined;
  // The SLO asks for 99.9% of requests within the p99 objective, so the tail beyond p99 matters; with
  // only p50 and p99 at hand, extrapolate it as log-normal. Heavy-tailed per-request costs (LLM output
  // lengths) show up here long before they move the p99.
  const tailFactor = podP99Ms !== undefined && podP50Ms !== undefined ? Math.max(1, podP99Ms / podP50Ms) ** LOG_NORMAL_TAIL_EXPONENT : 1;
  const podP999Ms = podP99Ms !== undefined ? podP99Ms * tailFactor : undefined;

  const inflates = usesInflation(runtime);
  const cpuNow = inflates && merge ? cpuSaturation(w.samples, w.readyReplicas, cfg.computeCutUtil, cfg.computeTrustUtil, cfg.cpuSaturationMinSampleFraction) : undefined;
  const old = prev.cpuSaturationInFlight;
  const cpuSaturationInFlight = cpuNow === undefined ? old : old === undefined ? cpuNow : old + cfg.profileSmoothing * (cpuNow - old);
  // A knee the present window contradicts is not a cap (kneeContradicted): the freshest evidence wins.
  const kneeLearned = inflates ? kneeOf(profile, s0, cfg.inflationRaise, cfg.minStressInFlight) : undefined;
  const knee = kneeLearned !== undefined && !kneeContradicted(kneeLearned, x, inflation, cfg.inflationRaise) ? kneeLearned : undefined;
  const latencyLine = isBatching(runtime) ? fitLatencyLine(profile, cfg) : undefined;
  return { profile, baselineServiceMs: s0, inflation, resources, podP99Ms, podP50Ms, podP999Ms, cpuSaturationInFlight, knee, latencyLine };
}
