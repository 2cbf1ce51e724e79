/**
 * Leaf types of the APA decision engine. Only the contract's types are imported: the engine, the simulator,
 * the gateway agent, the local loop and the Kubernetes controller all depend on these shapes.
 *
 * Units are in the names: `...Ms` milliseconds, `...S` seconds, `...Util` a fraction in [0, 1].
 */

/** Which model server runs the endpoint's pods (defined by the ServingEndpoint contract). */
import type { RuntimeKind } from "../contract/crd/types.ts";
export type { RuntimeKind };

/** Inclusive integer range. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** What the user declared for one endpoint (the parts the autoscaler needs). */
export interface EndpointSpec {
  /** Bounds of the target concurrency per pod (requests one pod serves at once). */
  readonly concurrency: IntRange;
  /** Bounds of the replica count. `min` may be 0 only when `scaleToZero` is true. */
  readonly replicas: IntRange;
  /** Concurrency that must always be ready (a floor of ready capacity). @default 0 */
  readonly provisionedConcurrency: number;
  /**
   * Replicas asked for through the scale subresource (HPA, KEDA, `kubectl scale`), within `replicas`: a floor
   * under the engine's decision. Absent or 0: none.
   */
  readonly scaleSubresourceReplicas?: number;
  /** Allow scaling to zero replicas when idle. @default false */
  readonly scaleToZero: boolean;
  /** Model server kind; selects which pod stress signals are meaningful. */
  readonly runtime: RuntimeKind;
  /** Latency objective at p99 in ms, when the user has one; sharpens the vertical axis. */
  readonly sloP99Ms?: number;
  /** Target concurrency to start from before any history exists. @default midpoint-ish, see config */
  readonly initialTargetConcurrency?: number;
}

/** Resource and runtime metrics of one pod at one sample time. Absent fields are unknown. */
export interface PodSample {
  readonly ready: boolean;
  /** CPU used / CPU limit (or request when unlimited). */
  readonly cpuUtil?: number;
  /** Memory used / memory limit. */
  readonly memoryUtil?: number;
  readonly gpuUtil?: number;
  readonly gpuMemoryUtil?: number;
  /** vLLM `kv_cache_usage_perc`. */
  readonly kvCacheUtil?: number;
  /** Requests waiting inside the model server itself (vLLM waiting, Triton pending). */
  readonly runtimeQueueLength?: number;
}

/**
 * One per-endpoint sample, normally every 1 s, as seen at the gateway (summed across gateway replicas).
 * Counters (`arrivals`, `completions`, `rejections`, `errors`) are deltas over the interval that ends at `atMs`.
 */
export interface EndpointSample {
  /** End of the sampling interval, ms since an arbitrary epoch (the caller's clock). */
  readonly atMs: number;
  /** Length of the interval the counters cover. @default 1000 */
  readonly intervalMs?: number;
  /** Requests being served by pods right now. */
  readonly inFlight: number;
  /** Requests waiting in the gateway queue right now. */
  readonly queued: number;
  readonly arrivals: number;
  readonly completions: number;
  /** Requests answered 429 (queue full or queue wait over the bound). */
  readonly rejections: number;
  /** 5xx answers other than 429. */
  readonly errors?: number;
  /** Mean time a completed request waited in the queue. */
  readonly queueTimeMs?: number;
  /** Mean time a completed request spent at the pod (excludes queue time). */
  readonly serviceTimeMs?: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  /**
   * Completions in the interval whose end-to-end latency (gateway queue + pod) exceeded the endpoint's
   * latency objective `EndpointSpec.sloP99Ms`. Optional and additive: the vertical axis's tail signal
   * uses it only when present (docs/engine.md, "Requests over the objective", says how a gateway counts it).
   */
  readonly overObjective?: number;
  /** Per-pod resource metrics, where known. */
  readonly pods?: readonly PodSample[];
}

/** What the cluster looks like right now for this endpoint. */
export interface ReplicaState {
  /** The replica count currently asked for (Deployment spec.replicas). */
  readonly desiredReplicas: number;
  /** Pods ready to serve. */
  readonly readyReplicas: number;
  /** Pods created and scheduled (or schedulable) but not yet ready: image pull, model load. */
  readonly startingReplicas: number;
  /** Pods that cannot be scheduled (no capacity). Counted apart from `startingReplicas`. */
  readonly unschedulableReplicas: number;
  /** The per-pod concurrency limit currently enforced at the gateway. */
  readonly targetConcurrency: number;
}

/** Machine-readable reason for a horizontal (replica) decision. */
export type ReplicaReason =
  | "ScaleUp"
  | "ScaleUpLimited"
  | "ScaleDown"
  | "HoldDownWindow"
  | "Steady"
  | "ProvisionedFloor"
  | "ReplicaBounds"
  | "UnschedulableHold"
  | "NoMetrics"
  | "StaleMetrics"
  | "NotDue"
  | "ScaleToZero"
  | "ScaleFromZero"
  | "ForecastFloor"
  | "ScaleSubresource";

/** Machine-readable reason for a vertical (target concurrency) decision. */
export type ConcurrencyReason =
  | "Initial"
  | "StressCut"
  | "CalmRaise"
  | "Hold"
  | "Bounds"
  | "NoMetrics"
  | "NotDue";

/** A stretch of time covered by samples without a hole: (startMs, endMs]. */
export interface CoveredSpan {
  readonly startMs: number;
  readonly endMs: number;
}

/** What the engine remembers of its long windows (see engine/coverage.ts). */
export interface Coverage {
  /** Covered stretches, oldest first, pruned to the longest long window. Normally one. */
  readonly spans: readonly CoveredSpan[];
  /** `atMs` of the newest sample folded in. */
  readonly lastSampleAtMs: number;
  /** `atMs` of the newest sample with an arrival, a request in flight or one queued; undefined if none seen. */
  readonly lastActiveAtMs: number | undefined;
}

/** Resource signals the profile learns against in-flight. */
export type ResourceKey = "memory" | "kv" | "gpuMemory";

/** One operating point of the learned pod profile (one half-octave bin of per-pod in-flight). */
export interface ProfilePoint {
  /** Bin index: round(binsPerOctave · log2(inFlight)). */
  readonly bin: number;
  /** Mean per-pod in-flight of the windows merged into the bin. */
  readonly inFlight: number;
  /** Mean pod service time at that in-flight, ms. */
  readonly serviceMs: number;
  /** Mean resource utilisations at that in-flight, where reported. */
  readonly resources: Readonly<Partial<Record<ResourceKey, number>>>;
}

/** A batching pod's fitted latency model: service time S(x) = interceptMs + slopeMs · x at per-pod in-flight x. */
export interface LatencyLine {
  readonly interceptMs: number;
  /** Extra service time per request in flight, ms. */
  readonly slopeMs: number;
}

/** Requests over the objective counted at one operating point (see engine/tail.ts). */
export interface TailCounts {
  /** Completions counted (from samples that report `overObjective`, with a short gateway queue). */
  readonly completions: number;
  /** ... of which finished over the objective. */
  readonly overObjective: number;
  /** Completion-weighted sum of the per-pod in-flight of the samples counted. */
  readonly inFlightSum: number;
  /** The target concurrency in force while they were counted. */
  readonly target: number;
  /** Ready pods while they were counted (−1: none yet). */
  readonly readyPods: number;
}

/** What the vertical axis remembers between windows. */
export interface VerticalMemory {
  /** Learned low-load service time of one pod, ms; undefined until observed. */
  readonly baselineServiceMs: number | undefined;
  /** Consecutive vertical windows with every stress signal under its raise threshold. */
  readonly calmWindows: number;
  /** Consecutive vertical windows with a stress signal over its cut threshold. */
  readonly stressWindows: number;
  /** When the target last changed. */
  readonly lastChangeAtMs: number | undefined;
  /** Direction of the last change: −1 cut, +1 raise, 0 none yet. */
  readonly lastChangeDirection: -1 | 0 | 1;
  /** The learned pod profile, ascending by bin. */
  readonly profile: readonly ProfilePoint[];
  /** A batching pod's fitted latency model, once the profile spans enough in-flight. */
  readonly latencyLine: LatencyLine | undefined;
  /** Learned per-pod in-flight at which CPU saturates (utilisation 1). */
  readonly cpuSaturationInFlight: number | undefined;
  /** After a stress cut: raises stay below `target` until `untilMs`. */
  readonly stressCeiling: { readonly target: number; readonly untilMs: number } | undefined;
  /** Requests over the objective counted at the current operating point. */
  readonly tail: TailCounts | undefined;
  /** After a cut for requests over the objective: raises stay at or below it; each calm count lifts it one step. */
  readonly tailCeiling: number | undefined;
  /** Slow start (vertical-slow-start.ts): the last raise and the service time before it; `closed` once stress was seen. */
  readonly slowStart?: { readonly closed: boolean; readonly lastRaiseAtMs: number | undefined; readonly serviceMs: number | undefined };
}

/**
 * What the engine remembers between calls. It is returned with each decision and passed back in
 * with the next call; the engine stays pure. Lost on a controller restart by design: the engine must
 * then change nothing until it has rebuilt enough history. (What must survive a restart, the learned
 * seasonality, travels apart: `DecisionInput.seasonality`.)
 */
export interface EngineMemory {
  readonly lastHorizontalAtMs: number;
  readonly lastVerticalAtMs: number;
  /** When memory started (first call after a (re)start). */
  readonly sinceMs: number;
  /** Per-cycle replica recommendations over the down-window that can still be its max, oldest first. */
  readonly recommendations: readonly { readonly atMs: number; readonly replicas: number }[];
  /** Sample coverage of the long windows (down-window, idle window); rebuilt from `history` when absent. */
  readonly coverage?: Coverage;
  /**
   * Request slots (desired replicas × target concurrency) when the memory started. Until a full down-window of
   * memory backs a scale-down, the endpoint keeps at least these slots (a raised target may consolidate pods).
   */
  readonly restartSlots?: number;
  /** Pod start as measured: since when pods have been starting, and the smoothed start time. */
  readonly podStart?: { readonly startingSinceMs: number | undefined; readonly estimateMs: number | undefined };
  /** The last call that saw a scale-up under way (starting pods over `softCutStartingFraction` of the ready ones). */
  readonly scaleUpSeenAtMs?: number;
  readonly vertical: VerticalMemory;
}

/** The learned seasonal demand (engine/seasonality.ts): persisted by the caller, it survives restarts. */
export interface Seasonality {
  readonly periodMs: number;
  readonly bucketMs: number;
  /** EMA of the peak demand per bucket; NaN where never seen. */
  readonly peaks: readonly number[];
  /** Absolute index (time / bucketMs) of the bucket being filled. */
  readonly bucket: number;
  /** Peak demand seen so far in that bucket. */
  readonly running: number;
  /** Buckets folded so far (a full period = peaks.length). */
  readonly folded: number;
  /** The forecast is trusted from this bucket index on (after a miss: one full period later). */
  readonly trustedFromBucket: number;
}

/** Everything one decision needs. */
export interface DecisionInput {
  readonly spec: EndpointSpec;
  readonly state: ReplicaState;
  /**
   * Samples in ascending `atMs`. The engine reads raw samples over its short windows only
   * (`historyWindowMsFor(config)`, 35 s by default); longer windows live in `memory.coverage`.
   */
  readonly history: readonly EndpointSample[];
  /** The previous decision's memory; undefined on the first call or after a restart. */
  readonly memory: EngineMemory | undefined;
  readonly nowMs: number;
  /** The learned seasonality (engine/seasonality.ts), persisted by the caller across restarts; undefined to start afresh. */
  readonly seasonality?: Seasonality;
}

/** One decision with a reason for each axis. */
export interface Decision {
  readonly desiredReplicas: number;
  readonly replicasReason: ReplicaReason;
  readonly replicasMessage: string;
  readonly targetConcurrency: number;
  readonly concurrencyReason: ConcurrencyReason;
  readonly concurrencyMessage: string;
  /** Concurrency (in-flight + queued, or estimated demand) the horizontal axis used; undefined without data. */
  readonly observedConcurrency: number | undefined;
  /** When the engine next wants to run, ms on the caller's clock: the next sample (a step in demand is acted on at once). */
  readonly nextRunAtMs: number;
  /**
   * The next regular run (5 s horizontal / 30 s vertical cadence). Between `nextRunAtMs` and this, a call
   * only matters when `decisionNeeded` says so.
   */
  readonly regularRunAtMs: number;
  readonly memory: EngineMemory;
  /** The seasonality to pass back (and persist): survives a restart, unlike `memory`. */
  readonly seasonality: Seasonality;
}
