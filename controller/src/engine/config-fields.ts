/**
 * Every parameter of the APA decision engine, with its unit and default (`defaultEngineConfig`). The allowed
 * ranges and validation are in config.ts; the rationale for each default is in docs/engine.md.
 */
export interface EngineConfig {
  /** Expected spacing of metric samples, ms. @default 1000 */
  readonly sampleIntervalMs: number;
  /** Newest sample older than this (relative to `nowMs`) makes the metrics stale: no change at all, ms. @default 10000 */
  readonly stalenessMs: number;
  /** Fraction of the expected samples a window must hold before the engine acts on it. @default 0.8 */
  readonly minWindowCoverage: number;

  /** Horizontal decision cadence, ms. @default 5000 */
  readonly horizontalIntervalMs: number;
  /** Scale-up looks at the mean demand over this window, ms. @default 20000 */
  readonly scaleUpWindowMs: number;
  /** ... and at the mean over this shorter, most recent window (whichever is higher), ms. @default 5000 */
  readonly scaleUpFastWindowMs: number;
  /** Scale-down takes the max of the per-cycle recommendations over this window, ms. @default 300000 */
  readonly scaleDownWindowMs: number;
  /** Fraction of the request slots (replicas × target) the horizontal axis fills, before the √ headroom. @default 1 */
  readonly targetUtilization: number;
  /** Square-root staffing headroom without an SLO: slots = demand / utilisation + β·√demand. @default 1.5 */
  readonly staffingBeta: number;
  /** With an SLO, β is derived from it (see `staffingBetaFor`) and clamped to [min, max]; the floor absorbs load jumps within a pod start. @default 1 */
  readonly minStaffingBeta: number;
  /** @default 4 */
  readonly maxStaffingBeta: number;
  /** Fraction of requests meant to wait no longer than the SLO's slack (for β). @default 0.999 */
  readonly sloTargetAttainment: number;
  /** A last sample whose demand is at least this multiple of the up-window mean is a step: acted on at once, off-cadence. @default 2 */
  readonly surgeRatio: number;
  /** The gateway queue of the newest sample is drained within max(this, 2 service times): extra demand queued × S / that, ms. @default 5000 */
  readonly backlogDrainMs: number;
  /** A scale-up smaller than this fraction of the current replicas waits, unless requests queue. @default 0.05 */
  readonly scaleUpTolerance: number;
  /** A scale-down smaller than this fraction of the current replicas is skipped. @default 0.1 */
  readonly scaleDownTolerance: number;
  /** One cycle never asks for more than this multiple of the replicas the most recent load needs. @default 1.5 */
  readonly maxScaleUpLoadFactor: number;
  /** One cycle removes at most `current - current / maxScaleDownRate` replicas. @default 2 */
  readonly maxScaleDownRate: number;
  /** Idle time (no arrivals, nothing in flight) before scaling to zero, when the spec allows it, ms. @default 600000 */
  readonly scaleToZeroIdleMs: number;

  /** Vertical decision cadence (and the window it reads), ms. @default 30000 */
  readonly verticalIntervalMs: number;
  /** Completions a vertical window needs before it is trusted (the mean service time of 50 has ~5% noise at 0.3 jitter). @default 50 */
  readonly minCompletionsPerWindow: number;
  /** Latency and compute stress count only with at least this many requests in flight per pod. @default 1 */
  readonly minStressInFlight: number;
  /** Per-pod in-flight / target at or above which the limit counts as binding (a raise needs it). @default 0.6 */
  readonly bindingFraction: number;
  /** Smallest factor one cut may apply (new ≥ old × this). @default 0.5 */
  readonly maxCutFactor: number;
  /** Largest factor one raise may apply (new ≤ old × this, and at least +1). @default 1.5 */
  readonly maxRaiseFactor: number;
  /** Dead band around a learned saturation point x: cut only above x·(1 + this), raise toward it only below x / (1 + this). @default 0.15 */
  readonly modelTolerance: number;
  /** A change under this fraction of the target that no stress signal asks for is a refinement. @default 0.2 */
  readonly refineFraction: number;
  /** At most one refinement per this long after the last change, ms. @default 600000 */
  readonly refineIntervalMs: number;
  /** Consecutive calm, binding windows before the first raise. @default 2 */
  readonly calmWindowsToRaise: number;
  /** After a stress cut from level c to t, raises stay below the middle of c and t for this long, ms. @default 1200000 */
  readonly ceilingHoldMs: number;

  /** Latency inflation (service time / low-load service time): cut at or above. @default 1.25 */
  readonly inflationCut: number;
  /** ... raise only at or below. @default 1.1 */
  readonly inflationRaise: number;
  /** Pod p99 / SLO p99: cut at or above. @default 0.8 */
  readonly sloCutFraction: number;
  /** ... raise only at or below. @default 0.7 */
  readonly sloRaiseFraction: number;
  /**
   * Estimated pod p99.9 (log-normal from p50 and p99) / SLO: cut at or above; 0 = off. Off by default:
   * from per-second quantiles the estimate runs high, and on the Azure LLM trace it over-provisions
   * (see docs/engine.md). @default 0
   */
  readonly tailCutFraction: number;
  /** ... raise only at or below `tailCutFraction` × this. @default 0.9 */
  readonly tailRaiseBand: number;
  /**
   * Requests over the objective (`EndpointSample.overObjective`) are judged once the budget
   * 1 − `sloTargetAttainment` predicts at least this many of them at one target (a rate of 0.1% needs
   * ~10 000 requests to be told from noise). @default 10
   */
  readonly overObjectiveMinExpected: number;
  /** ... a raise needs their fraction at or below this fraction of the budget (less one standard deviation). @default 0.8 */
  readonly overObjectiveRaiseBand: number;
  /** One change for requests over the objective moves the throughput per pod by at most this fraction (see tail.ts). @default 0.1 */
  readonly overObjectiveMaxStep: number;
  /** The p99 signal counts only while the mean gateway queue time is at most this fraction of the service time. @default 0.1 */
  readonly podP99MaxQueueFraction: number;
  /** Errors (5xx other than 429) / arrivals: cut at or above. @default 0.01 */
  readonly errorCutFraction: number;
  /** ... raise only at or below. @default 0.001 */
  readonly errorRaiseFraction: number;
  /** CPU utilisation: a cut needs this together with inflation ≥ `inflationRaise`; above it a reading says nothing about where saturation starts. @default 0.95 */
  readonly computeCutUtil: number;
  /** CPU utilisation from which one reading is trusted to place the CPU saturation point (cut or raise to it). @default 0.25 */
  readonly computeTrustUtil: number;
  /** Memory utilisation: cut at or above. @default 0.9 */
  readonly memoryCutUtil: number;
  /** ... raise only at or below. @default 0.8 */
  readonly memoryRaiseUtil: number;
  /** GPU memory utilisation (not vLLM, which pre-allocates; weights fill most of it): cut at or above. @default 0.98 */
  readonly gpuMemoryCutUtil: number;
  /** ... raise only at or below. @default 0.95 */
  readonly gpuMemoryRaiseUtil: number;
  /** KV-cache utilisation (vLLM/Triton LLMs): cut at or above. @default 0.9 */
  readonly kvCacheCutUtil: number;
  /** ... raise only at or below. @default 0.75 */
  readonly kvCacheRaiseUtil: number;
  /** Requests waiting inside the runtime per pod: cut at or above. @default 5 */
  readonly runtimeQueueCut: number;
  /** ... raise only at or below. @default 1 */
  readonly runtimeQueueRaise: number;
  /** Batching runtimes: the efficient concurrency is the smallest giving this fraction of the best throughput within the SLO. @default 0.95 */
  readonly efficientThroughputFraction: number;

  /** Samples kept beyond the longest short window (late or jittered scrapes), samples. @default 5 */
  readonly historySlackSamples: number;
  /** The gateway backlog is drained within at least this many service times (and `backlogDrainMs`). @default 2 */
  readonly backlogDrainServiceTimes: number;
  /** A cut for errors (5xx other than 429) suggests this fraction of the per-pod in-flight. @default 0.75 */
  readonly errorCutFactor: number;
  /** Right after a raise, the next raise needs one calm window if it comes within this many vertical windows. @default 2 */
  readonly raiseMomentumWindows: number;
  /** Profile bins per doubling of per-pod in-flight (2 = half-octave bins). @default 2 */
  readonly profileBinsPerOctave: number;
  /** Most profile bins kept; the ones farthest from the latest observation go first. @default 12 */
  readonly profileMaxBins: number;
  /** A window under this per-pod in-flight is no profile point (a reading of 0 in flight says nothing of concurrency). @default 0.015625 */
  readonly profileMinInFlight: number;
  /** Service times under this are no profile point, and the low-load baseline never falls under it, ms. @default 0.5 */
  readonly serviceTimeFloorMs: number;
  /** Weight of a new window in its profile bin's exponential average (and in the CPU saturation estimate). @default 0.5 */
  readonly profileSmoothing: number;
  /** A line is fitted through the profile only when its points span at least this ratio of in-flight... @default 1.5 */
  readonly fitMinInFlightRatio: number;
  /** ... and at least this many requests of in-flight. @default 1 */
  readonly fitMinInFlightSpan: number;
  /** Below this utilisation one reading is too small to extrapolate a resource's saturation point from. @default 0.05 */
  readonly resourceGuessMinUtil: number;
  /** A window split at a change of ready pods needs each part to hold at least this fraction of its samples. @default 1/3 */
  readonly segmentMinFraction: number;
  /** CPU saturation is learned from a window only when at least this fraction of its samples are unsaturated. @default 0.5 */
  readonly cpuSaturationMinSampleFraction: number;
  /** Requests-over-objective counts are halved once the budget predicts this multiple of `overObjectiveMinExpected`. @default 16 */
  readonly overObjectiveForgetFactor: number;
  /**
   * While more pods than this fraction of the ready ones are starting (a scale-up under way), or the window holds
   * a step in arrivals, soft stress (latency inflation, CPU, a pod p99 still under the SLO, learned saturation
   * points) does not cut the target: the few ready pods are at their limit until the new ones arrive. Hard
   * stress (errors, memory, KV-cache, runtime queue, a pod p99 over the SLO itself) still cuts. @default 0.25
   */
  readonly softCutStartingFraction: number;

  /** The seasonal period the forecaster learns, ms (a day; a scenario with a compressed clock sets its own). @default 86400000 */
  readonly forecastPeriodMs: number;
  /** Buckets per period (96: 15 min of a day). @default 96 */
  readonly forecastBuckets: number;
  /** Weight of a new period's peak in its bucket's average. @default 0.5 */
  readonly forecastSmoothing: number;
  /** A forecast rise whose bucket then peaks under this fraction of the forecast is a miss: no forecast for a period. @default 0.5 */
  readonly forecastMissFraction: number;
  /** The forecast looks this far ahead until a pod start has been measured, ms. @default 60000 */
  readonly forecastLeadMs: number;
}

export const defaultEngineConfig: EngineConfig = Object.freeze({
  sampleIntervalMs: 1000,
  stalenessMs: 10_000,
  minWindowCoverage: 0.8,
  horizontalIntervalMs: 5000,
  scaleUpWindowMs: 20_000,
  scaleUpFastWindowMs: 5000,
  scaleDownWindowMs: 300_000,
  targetUtilization: 1,
  staffingBeta: 1.5,
  minStaffingBeta: 1,
  maxStaffingBeta: 4,
  sloTargetAttainment: 0.999,
  surgeRatio: 2,
  backlogDrainMs: 5000,
  scaleUpTolerance: 0.05,
  scaleDownTolerance: 0.1,
  maxScaleUpLoadFactor: 1.5,
  maxScaleDownRate: 2,
  scaleToZeroIdleMs: 600_000,
  verticalIntervalMs: 30_000,
  minCompletionsPerWindow: 50,
  minStressInFlight: 1,
  bindingFraction: 0.6,
  maxCutFactor: 0.5,
  maxRaiseFactor: 1.5,
  modelTolerance: 0.15,
  refineFraction: 0.2,
  refineIntervalMs: 600_000,
  calmWindowsToRaise: 2,
  ceilingHoldMs: 1_200_000,
  inflationCut: 1.25,
  inflationRaise: 1.1,
  sloCutFraction: 0.8,
  sloRaiseFraction: 0.7,
  podP99MaxQueueFraction: 0.1,
  tailCutFraction: 0,
  tailRaiseBand: 0.9,
  overObjectiveMinExpected: 10,
  overObjectiveRaiseBand: 0.8,
  overObjectiveMaxStep: 0.1,
  errorCutFraction: 0.01,
  errorRaiseFraction: 0.001,
  computeCutUtil: 0.95,
  computeTrustUtil: 0.25,
  memoryCutUtil: 0.9,
  memoryRaiseUtil: 0.8,
  gpuMemoryCutUtil: 0.98,
  gpuMemoryRaiseUtil: 0.95,
  kvCacheCutUtil: 0.9,
  kvCacheRaiseUtil: 0.75,
  runtimeQueueCut: 5,
  runtimeQueueRaise: 1,
  efficientThroughputFraction: 0.95,
  historySlackSamples: 5,
  backlogDrainServiceTimes: 2,
  errorCutFactor: 0.75,
  raiseMomentumWindows: 2,
  profileBinsPerOctave: 2,
  profileMaxBins: 12,
  profileMinInFlight: 1 / 64,
  serviceTimeFloorMs: 0.5,
  profileSmoothing: 0.5,
  fitMinInFlightRatio: 1.5,
  fitMinInFlightSpan: 1,
  resourceGuessMinUtil: 0.05,
  segmentMinFraction: 1 / 3,
  cpuSaturationMinSampleFraction: 0.5,
  overObjectiveForgetFactor: 16,
  softCutStartingFraction: 0.25,
  forecastPeriodMs: 86_400_000,
  forecastBuckets: 96,
  forecastSmoothing: 0.5,
  forecastMissFraction: 0.5,
  forecastLeadMs: 60_000,
});
