/**
 * Scenario file shapes (after validation and defaults). The JSON Schema in `scenario.schema.json`
 * is the user-facing contract; these types mirror it. Units are in the names.
 */

export interface SineSpec {
  readonly base: number;
  readonly amplitude: number;
  readonly periodS: number;
  /** Seconds into the period at the segment start. @default 0 */
  readonly phaseS?: number;
}

export interface BurstySpec {
  /** Rate while a burst is on. */
  readonly onQps: number;
  /** Rate between bursts. */
  readonly offQps: number;
  readonly onS: number;
  readonly offS: number;
  /** The segment starts with the off phase unless this is true. @default false */
  readonly startOn?: boolean;
}

export interface TraceSpec {
  /** CSV path, relative to the scenario file's folder. */
  readonly path: string;
  /** Arrival time column: a number of seconds, or a `YYYY-MM-DD HH:MM:SS(.fff)` timestamp (UTC). @default "TIMESTAMP" */
  readonly timeColumn?: string;
  /** Column whose value is the per-request cost (normalised to mean 1). */
  readonly costColumn?: string;
  /** Time compression: trace time / speedup. @default 1 */
  readonly speedup?: number;
  /** Load multiplier: superposes copies of the trace, each circularly shifted; a fraction thins the last copy. @default 1 */
  readonly scale?: number;
  /** Data attribution, printed with every result and chart that uses this trace. */
  readonly attribution?: string;
}

/** Multiplicative noise on the rate: a log-normal factor (coefficient of variation `cv`) redrawn every `periodS`. */
export interface NoiseSpec {
  readonly cv: number;
  readonly periodS: number;
}

/** One traffic segment, active from the previous segment's `untilS` (or 0) up to its own `untilS`. Exactly one shape key. */
export interface TrafficSegment {
  readonly untilS: number;
  readonly qps?: number;
  /** Linear ramp from `fromQps` (default: the previous segment's final rate) to this rate. */
  readonly rampToQps?: number;
  readonly fromQps?: number;
  readonly sine?: SineSpec;
  readonly bursty?: BurstySpec;
  readonly trace?: TraceSpec;
  readonly noise?: NoiseSpec;
  /** Arrival process for rate-based shapes. @default "poisson" */
  readonly arrivals?: "poisson" | "uniform";
}

export interface CostSpec {
  readonly kind: "bimodal";
  /** Fraction of requests that are heavy. */
  readonly heavyFraction: number;
  /** Cost of a heavy request relative to a light one (light = 1). */
  readonly heavyFactor: number;
}

interface ModelCommon {
  /** Log-normal jitter of each request's work (coefficient of variation). @default 0 */
  readonly jitter: number;
  /** Synthetic per-request cost distribution (trace cost columns take precedence). */
  readonly cost?: CostSpec;
  /** CPU request of one pod, cores (HPA's denominator). Defaults per kind, see docs/simulator.md. */
  readonly cpuRequestCores: number;
  /** Opt-in: memory utilisation grows by this per request in flight; undefined = flat memory. */
  readonly memoryPerInFlight?: number;
}

/** Processor sharing over `parallelism` cores. */
export interface CpuModel extends ModelCommon {
  readonly kind: "cpu";
  readonly serviceMs: number;
  readonly parallelism: number;
}

/** GPU-style continuous batching: latency = baseMs + perRequestMs × in-flight; beyond `maxInFlight` requests fail. */
export interface BatchingModel extends ModelCommon {
  readonly kind: "batching";
  readonly baseMs: number;
  readonly perRequestMs: number;
  readonly maxInFlight: number;
}

/** I/O bound: constant latency up to `maxInFlight`, processor sharing beyond it. */
export interface IoModel extends ModelCommon {
  readonly kind: "io";
  readonly latencyMs: number;
  readonly maxInFlight: number;
  /** CPU cores used per in-flight request. @default 0.004 */
  readonly cpuPerRequestCores: number;
}

/**
 * An LLM engine the APA does not assume: decode step time is a smooth roofline, L(n) = √(baseMs² + (perRequestMs·n)²)
 * (flat while memory-bound, linear once compute-bound: throughput saturates at 1/perRequestMs). The KV-cache holds
 * `kvCapacity` requests: past it the engine runs that many and preempts the rest by recompute (throughput saturates,
 * then falls by `preemptionOverhead` per capacity of excess; the excess is the runtime queue it reports). Requests
 * beyond `maxInFlight` (vLLM max_num_seqs) fail at once.
 */
export interface LlmModel extends ModelCommon {
  readonly kind: "llm";
  readonly baseMs: number;
  readonly perRequestMs: number;
  readonly maxInFlight: number;
  /** KV-cache capacity in requests. @default maxInFlight (no preemption) */
  readonly kvCapacity: number;
  /** Throughput lost to recomputing preempted requests per `kvCapacity` of excess in flight, fraction. @default 0.5 */
  readonly preemptionOverhead: number;
}

export type ModelSpec = CpuModel | BatchingModel | IoModel | LlmModel;

export interface ClusterSpec {
  /** Scheduled-to-ready time of a pod on a node that has the image (pull + model load + readiness). */
  readonly podStartS: number;
  /** Pod slots on pre-provisioned (warm) nodes. @default 0 */
  readonly warmPoolPods: number;
  /** Time to add a node when no slot is free. */
  readonly nodeStartS: number;
  /** Extra image pull on a brand-new node. @default 0 */
  readonly imagePullS: number;
  /** Pod slots the cluster can ever have; beyond it pods stay unschedulable. */
  readonly maxPods: number;
  /** Idle time after which a non-warm node slot is removed (cluster-autoscaler scale-down-unneeded-time). @default 600 */
  readonly nodeIdleS: number;
  /** Longest drain of a deleted pod; requests still running after it fail. @default 30 */
  readonly terminationGraceS: number;
  /** Coefficient of variation of a pod's start time (log-normal around `podStartS`). @default 0 */
  readonly podStartSpread: number;
  /** Extra start time per other pod starting at the same moment, s. @default 0 */
  readonly podStartPerConcurrentS: number;
  /** Fraction of starts that fail before ready; the pod retries after `podStartRetryS`. @default 0 */
  readonly podStartFailureFraction: number;
  /** Back-off before a failed start is retried, s. @default 10 */
  readonly podStartRetryS: number;
  /** Serving pods run at 1/(1 + this × pods starting) while pods start on shared nodes. @default 0 */
  readonly startSlowdownPerPod: number;
}

/** Which signals the APA engine gets (docs/simulator.md, "Signals"). */
export interface SignalSpec {
  /** gateway: per-request timings through the production reader's functions (what production gives the engine); exact: the simulator's own accumulators (an opt-in). @default "gateway" */
  readonly mode: "exact" | "gateway";
  /** Pod resource metrics refresh period, s (metrics-server ~15 s). @default 15 */
  readonly podMetricsIntervalS: number;
  /** Requests over the objective go to the engine. @default true in gateway mode, false in exact mode */
  readonly overObjective: boolean;
  /**
   * The pod signals the pod-metrics reader reports (the others the model produces are withheld): metrics-server
   * and the runtime's scrape give them all; the local loop's `/proc` reader gives `["cpuUtil"]`. @default all six
   */
  readonly podSignals: readonly PodSignalKey[];
}

/** A pod signal of `PodSample` (every field but `ready`). */
export type PodSignalKey = "cpuUtil" | "memoryUtil" | "gpuUtil" | "gpuMemoryUtil" | "kvCacheUtil" | "runtimeQueueLength";
export const POD_SIGNAL_KEYS: readonly PodSignalKey[] = ["cpuUtil", "memoryUtil", "gpuUtil", "gpuMemoryUtil", "kvCacheUtil", "runtimeQueueLength"];

export interface SloSpec {
  /** Latency objective for one request, end to end (queue + service). */
  readonly p99Ms: number;
  /** Longest wait in the gateway queue before a 429. */
  readonly queueTimeoutMs: number;
}

export interface GatewaySpec {
  /** Queue bound: arrivals beyond it are answered 429 at once. @default 10000 */
  readonly maxQueue: number;
}

export interface EndpointScenarioSpec {
  readonly concurrency: { readonly min: number; readonly max: number };
  readonly replicas: { readonly min: number; readonly max: number };
  readonly provisionedConcurrency: number;
  readonly initialTargetConcurrency?: number;
  /** Ready replicas at t = 0 for every policy. @default sized for the first 10 s at the optimal concurrency */
  readonly initialReplicas?: number;
}

export interface BaselineSpec {
  readonly kpa?: { readonly containerConcurrency?: number; readonly targetUtilization?: number };
  readonly hpa?: { readonly targetCpuUtil?: number; readonly metricResolutionS?: number };
  readonly ray?: {
    readonly targetOngoingRequests?: number;
    readonly maxOngoingRequests?: number;
    readonly lookBackPeriodS?: number;
    readonly upscaleDelayS?: number;
    readonly downscaleDelayS?: number;
  };
  readonly static?: { readonly replicas?: number };
}

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly durationS: number;
  readonly seed: number;
  readonly traffic: readonly TrafficSegment[];
  readonly model: ModelSpec;
  readonly cluster: ClusterSpec;
  readonly slo: SloSpec;
  readonly gateway: GatewaySpec;
  readonly endpoint: EndpointScenarioSpec;
  readonly baselines: BaselineSpec;
  readonly signals: SignalSpec;
  /** Engine parameter overrides for the `apa` policy (validated EngineConfig fields). */
  readonly engine: Readonly<Record<string, number>>;
  /** Folder of the scenario file: trace paths resolve against it. */
  readonly baseDir: string;
}
