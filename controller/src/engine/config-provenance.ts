/**
 * Where every engine parameter comes from, with its unit. `basis`:
 * - `cited`: a published default or guidance (the source is named; details in shared research notes and docs/engine.md);
 * - `derived`: follows from another figure or a model (the derivation is named);
 * - `design`: a choice of the platform's design or a structural choice (cadences, windows, bounds);
 * - `empirical`: chosen by trial on the development scenarios (and frozen before the held-out evaluation).
 * docs/engine.md renders the same table; a test keeps both complete.
 */
import type { EngineConfig } from "./config.ts";

export type Basis = "cited" | "derived" | "design" | "empirical";

export interface Provenance {
  readonly unit: string;
  readonly basis: Basis;
  readonly note: string;
}

export const configProvenance: { readonly [K in keyof EngineConfig]: Provenance } = {
  sampleIntervalMs: { unit: "ms", basis: "design", note: "the gateway scrape period (1 s)" },
  stalenessMs: { unit: "ms", basis: "design", note: "10 missed scrapes: the data is no longer about now" },
  minWindowCoverage: { unit: "fraction", basis: "design", note: "a window missing more than 20% of its samples is not trusted" },
  horizontalIntervalMs: { unit: "ms", basis: "cited", note: "APA's 5 s horizontal cadence (Databricks APA description)" },
  scaleUpWindowMs: { unit: "ms", basis: "cited", note: "APA's 20 s up-lookback" },
  scaleUpFastWindowMs: { unit: "ms", basis: "design", note: "one horizontal cycle; Knative's panic window is 6 s" },
  scaleDownWindowMs: { unit: "ms", basis: "cited", note: "APA's ~5 min down-lookback = the HPA's default 300 s stabilisation window" },
  targetUtilization: { unit: "fraction", basis: "derived", note: "1: the headroom comes from square-root staffing instead" },
  staffingBeta: { unit: "β", basis: "derived", note: "Halfin–Whitt: P(wait) ≈ 8% at β = 1.5 when no SLO gives one" },
  minStaffingBeta: { unit: "β", basis: "derived", note: "P(wait) ≈ 22% at β = 1: some headroom for load jumps within a pod start" },
  maxStaffingBeta: { unit: "β", basis: "design", note: "bounded cost for very tight SLOs" },
  sloTargetAttainment: { unit: "fraction", basis: "design", note: "the SLO-attainment goal (99.9%)" },
  surgeRatio: { unit: "×", basis: "cited", note: "Knative panics at 200% of the stable value" },
  backlogDrainMs: { unit: "ms", basis: "design", note: "drain the gateway queue within one horizontal cycle" },
  scaleUpTolerance: { unit: "fraction", basis: "empirical", note: "avoids 1-pod flicker from noise; queueing or 429s override it" },
  scaleDownTolerance: { unit: "fraction", basis: "cited", note: "the HPA's 10% tolerance" },
  maxScaleUpLoadFactor: { unit: "×", basis: "design", note: "growth per cycle capped relative to current load" },
  maxScaleDownRate: { unit: "×", basis: "cited", note: "Knative's max-scale-down-rate 2" },
  scaleToZeroIdleMs: { unit: "ms", basis: "design", note: "conservative next to Knative's 60 s + 30 s grace: model cold starts are long" },
  verticalIntervalMs: { unit: "ms", basis: "cited", note: "APA's 30 s vertical cadence" },
  minCompletionsPerWindow: { unit: "requests", basis: "derived", note: "~5% noise on a mean service time at 0.3 jitter (0.3/√50 ≈ 4%)" },
  minStressInFlight: { unit: "requests per pod", basis: "design", note: "latency stress without a request in flight is not concurrency's doing" },
  bindingFraction: { unit: "fraction", basis: "derived", note: "square-root staffing runs pods at 60–95% of their limit" },
  maxCutFactor: { unit: "×", basis: "cited", note: "Clipper's AIMD: multiplicative decrease; at most halving per window" },
  maxRaiseFactor: { unit: "×", basis: "design", note: "slow to raise (an asymmetric vertical axis: quick cuts, slow raises)" },
  modelTolerance: { unit: "fraction", basis: "empirical", note: "learned saturation points move ~10% window to window" },
  refineFraction: { unit: "fraction", basis: "empirical", note: "a change under 20% of the target is a refinement" },
  refineIntervalMs: { unit: "ms", basis: "design", note: "≤ 1 change per 10 min under steady load (the stability goal)" },
  calmWindowsToRaise: { unit: "windows", basis: "cited", note: "'below its threshold for several windows' (Clipper)" },
  ceilingHoldMs: { unit: "ms", basis: "empirical", note: "a level that caused stress is not retried for 20 min" },
  inflationCut: { unit: "×", basis: "empirical", note: "hysteresis band above the knee of a processor-sharing pod" },
  inflationRaise: { unit: "×", basis: "empirical", note: "hysteresis band below the cut" },
  sloCutFraction: { unit: "fraction of the SLO", basis: "design", note: "pod p99 within 80% of the SLO; the other 20% is the gateway queue's" },
  sloRaiseFraction: { unit: "fraction of the SLO", basis: "design", note: "hysteresis below the cut" },
  tailCutFraction: { unit: "fraction of the SLO", basis: "empirical", note: "off: the log-normal p99.9 estimate over-provisioned on the Azure trace" },
  tailRaiseBand: { unit: "fraction", basis: "empirical", note: "hysteresis of the opt-in p99.9 estimate" },
  overObjectiveMinExpected: { unit: "requests", basis: "derived", note: "Poisson: 10 expected late requests give ±30%" },
  overObjectiveRaiseBand: { unit: "fraction of the budget", basis: "design", note: "hysteresis under the budget" },
  overObjectiveMaxStep: { unit: "fraction of throughput", basis: "empirical", note: "the tail's slope beyond the objective is unseen: small steps" },
  podP99MaxQueueFraction: { unit: "fraction", basis: "design", note: "end-to-end p99 minus queue time is the pod's p99 only with a short queue" },
  errorCutFraction: { unit: "fraction", basis: "design", note: "1% 5xx under load (OOM, crashes) is stress" },
  errorRaiseFraction: { unit: "fraction", basis: "design", note: "hysteresis below the cut" },
  computeCutUtil: { unit: "utilisation", basis: "design", note: "saturated CPU; it cuts only together with inflation" },
  computeTrustUtil: { unit: "utilisation", basis: "empirical", note: "below it one reading is too weak to place the CPU saturation point" },
  memoryCutUtil: { unit: "utilisation", basis: "design", note: "OOM risk" },
  memoryRaiseUtil: { unit: "utilisation", basis: "design", note: "hysteresis below the cut" },
  gpuMemoryCutUtil: { unit: "utilisation", basis: "design", note: "weights fill most of a GPU: only near-full is stress" },
  gpuMemoryRaiseUtil: { unit: "utilisation", basis: "design", note: "hysteresis below the cut" },
  kvCacheCutUtil: { unit: "utilisation", basis: "cited", note: "around llm-d WVA's kvCacheThreshold 0.8" },
  kvCacheRaiseUtil: { unit: "utilisation", basis: "cited", note: "around llm-d WVA's kvCacheThreshold 0.8" },
  runtimeQueueCut: { unit: "requests per pod", basis: "cited", note: "llm-d WVA's queueLengthThreshold 5" },
  runtimeQueueRaise: { unit: "requests per pod", basis: "design", note: "hysteresis below the cut" },
  efficientThroughputFraction: { unit: "fraction", basis: "design", note: "the efficient point: 95% of the best throughput within the SLO" },
  historySlackSamples: { unit: "samples", basis: "design", note: "late or jittered scrapes beyond the longest short window" },
  backlogDrainServiceTimes: { unit: "service times", basis: "design", note: "a queue cannot drain faster than a service time or two" },
  errorCutFactor: { unit: "×", basis: "empirical", note: "errors say a limit is too high, not by how much: a 25% step" },
  raiseMomentumWindows: { unit: "windows", basis: "empirical", note: "a raise that just worked may continue after one calm window" },
  profileBinsPerOctave: { unit: "bins per doubling", basis: "design", note: "half-octave bins: operating points a factor √2 apart" },
  profileMaxBins: { unit: "bins", basis: "design", note: "12 half-octaves cover in-flight 1 → 64 (and memory stays small)" },
  profileMinInFlight: { unit: "requests per pod", basis: "design", note: "the lowest profile bin: a window read at 0 in flight is no operating point" },
  serviceTimeFloorMs: { unit: "ms", basis: "design", note: "HAProxy's timers are whole ms: the gateway's own floor, so a 0 ms reading never becomes the baseline" },
  profileSmoothing: { unit: "weight", basis: "empirical", note: "a new window counts half in its bin (follows a model that changes)" },
  fitMinInFlightRatio: { unit: "×", basis: "empirical", note: "a line through points closer than 1.5× is mostly noise" },
  fitMinInFlightSpan: { unit: "requests per pod", basis: "design", note: "and at least one request of spread" },
  resourceGuessMinUtil: { unit: "utilisation", basis: "design", note: "a reading under 5% is too small to extrapolate" },
  segmentMinFraction: { unit: "fraction of a window", basis: "design", note: "each part of a split window is a mean of ≥ 10 of its 30 samples" },
  cpuSaturationMinSampleFraction: { unit: "fraction of a window", basis: "design", note: "at least half the window unsaturated" },
  overObjectiveForgetFactor: { unit: "×", basis: "derived", note: "halve past 160 expected: one standard deviation stays ~8% of the budget" },
  forecastPeriodMs: { unit: "ms", basis: "design", note: "daily seasonality (weekly needs 7 × 96 buckets: the same code with another period)" },
  forecastBuckets: { unit: "buckets", basis: "design", note: "15 min of a day: fine enough for a morning ramp, 96 numbers to persist" },
  forecastSmoothing: { unit: "weight", basis: "empirical", note: "a new period counts half: follows a drifting pattern within a few periods" },
  forecastMissFraction: { unit: "fraction", basis: "design", note: "a predicted rise that brings under half of it: the pattern broke" },
  forecastLeadMs: { unit: "ms", basis: "design", note: "until a pod start is measured: a typical model pod start" },
  softCutStartingFraction: { unit: "fraction of ready pods", basis: "design", note: "no soft cut while a scale-up's pods are still arriving (a replacement pod or two do not count)" },
};
