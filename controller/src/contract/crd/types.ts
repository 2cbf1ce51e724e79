/**
 * TypeScript shapes of the ServingEndpoint custom resource (`serving.autopilot.dev/v1alpha1`).
 * Leaf module: imports nothing. The OpenAPI schema in `spec-schema.ts` and `status-schema.ts` (assembled by `crd.ts`) describes the same shapes for the API
 * server; `test/controller/crd.test.ts` checks that sample objects typed here pass that schema.
 */

/** API group of the ServingEndpoint resource. */
export const SERVING_GROUP = "serving.autopilot.dev";
/** The only served and stored version. */
export const SERVING_VERSION = "v1alpha1";
/** `apiVersion` value of a ServingEndpoint object. */
export const SERVING_API_VERSION = "serving.autopilot.dev/v1alpha1";
export const SERVING_KIND = "ServingEndpoint";
export const SERVING_PLURAL = "servingendpoints";
export const SERVING_SINGULAR = "servingendpoint";
/** Short name for `kubectl get se`. */
export const SERVING_SHORT_NAMES: readonly string[] = ["se", "sep"];

/** Model flavors (MLflow flavor or weight format family) the platform knows how to serve. */
export const MODEL_FLAVORS = [
  "sklearn",
  "xgboost",
  "lightgbm",
  "pyfunc",
  "pytorch",
  "tensorflow",
  "onnx",
  "tensorrt",
  "transformers",
  "llm",
  "custom",
] as const;
export type ModelFlavor = (typeof MODEL_FLAVORS)[number];

/** Numeric type of the weights; with the parameter count it gives the weight bytes. */
export const MODEL_DTYPES = ["float32", "float16", "bfloat16", "fp8", "int8", "int4"] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** `auto` lets the platform pick from flavor and size; the rest pin a model server. */
export const RUNTIME_KINDS = ["auto", "mlflow", "vllm", "triton", "custom"] as const;
export type RuntimeChoice = (typeof RUNTIME_KINDS)[number];
/** Which model server runs an endpoint's pods (a choice once `auto` is resolved). */
export type RuntimeKind = Exclude<RuntimeChoice, "auto">;

/** Size of the model; drives runtime and GPU selection. */
export interface ModelSize {
  /** Number of parameters (e.g. 70000000000 for a 70B model). */
  readonly parameterCount?: number;
  /** Weight dtype; set together with `parameterCount`. */
  readonly dtype?: ModelDtype;
  /** Size of the model artifact in bytes. */
  readonly bytes?: number;
}

/** The model to serve. */
export interface ModelRef {
  /** Where the model lives: `s3://<bucket>/…`, `gs://<bucket>/…`, `models:/` (MLflow registry) or `runs:/` (MLflow run). */
  readonly uri: string;
  /** MLflow flavor or weight format family. */
  readonly flavor: ModelFlavor;
  /** Free-form artifact format detail, e.g. `safetensors`, `gguf`, `savedmodel`. */
  readonly format?: string;
  readonly size?: ModelSize;
}

/** Which model server runs the pods. */
export interface RuntimeSelection {
  /** @default "auto" */
  readonly kind: RuntimeChoice;
  /** Container image; required for `custom`, an override for explicit runtimes, forbidden for `auto`. */
  readonly image?: string;
}

/** Inclusive integer range. */
export interface IntRangeSpec {
  readonly min: number;
  readonly max: number;
}

/** Replica bounds, and the count asked for through the scale subresource. */
export interface ReplicaRangeSpec extends IntRangeSpec {
  /**
   * Replicas asked for through the scale subresource (`specReplicasPath`: HPA, KEDA, `kubectl scale`), within
   * min..max; the controller keeps at least this many. 0 asks for nothing. @default 0
   */
  readonly desired?: number;
}

/** One model version's share of the traffic. */
export interface TrafficTarget {
  /** Version label, unique within the list (e.g. `v3`). */
  readonly version: string;
  /** Model URI of that version. */
  readonly modelUri: string;
  /** Percent of requests, 0–100; all weights sum to 100. */
  readonly weight: number;
}

/** What the user declares. */
export interface ServingEndpointSpec {
  readonly model: ModelRef;
  /** @default { kind: "auto" } */
  readonly runtime?: RuntimeSelection;
  /** Name of the node pool (compute pool) the pods run on. */
  readonly computePool: string;
  /** Range of the per-pod target concurrency the autoscaler may choose. */
  readonly concurrency: IntRangeSpec;
  /** Replica bounds. `min` may be 0 only with `scaleToZero`. */
  readonly replicas: ReplicaRangeSpec;
  /** Concurrency that is always ready. @default 0 */
  readonly provisionedConcurrency?: number;
  /** Allow zero replicas when idle. @default false */
  readonly scaleToZero?: boolean;
  /** Latency objective at p99, ms. */
  readonly sloP99Ms?: number;
  /** Split across model versions; absent means 100% to `model`. */
  readonly trafficSplit?: readonly TrafficTarget[];
  /** Payload logging (inference tables); absent: off. */
  readonly payloadLogging?: PayloadLoggingSpec;
}

/** Which requests the gateway records with their bodies, and how the bodies are cut down. */
export interface PayloadLoggingSpec {
  /** Share of requests recorded, (0, 1]. */
  readonly sampleRate: number;
  /** Bytes kept of each body, 1–12000. @default 8192 */
  readonly maxBodyBytes?: number;
  /** JSON keys whose values are redacted at any depth. @default [] */
  readonly redactFields?: readonly string[];
}

/** A status condition (metav1.Condition shape). */
export interface ServingEndpointCondition {
  /** `Ready`, `ScalingActive`, `MetricsAvailable`, `LeaderActive`. */
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  /** CamelCase machine-readable reason (engine reason codes appear here). */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339 time the status last changed. */
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** What the controller observed and decided. */
export interface ServingEndpointStatus {
  /** `metadata.generation` the controller last acted on. */
  readonly observedGeneration?: number;
  /** Deployment spec.replicas (current asked-for count). */
  readonly replicas?: number;
  readonly readyReplicas?: number;
  /** The engine's latest desired replica count. */
  readonly desiredReplicas?: number;
  /** Per-pod concurrency the gateway enforces (the gateway agent reads it from here). */
  readonly targetConcurrency?: number;
  /** In-flight + queued requests summed across gateway replicas. */
  readonly observedConcurrency?: number;
  /** Requests per second over the last sample. */
  readonly observedQps?: number;
  /** RFC 3339 time of the last replica change. */
  readonly lastScaleTime?: string;
  /** Label selector of the pods (string form), for the scale subresource. */
  readonly selector?: string;
  readonly conditions?: readonly ServingEndpointCondition[];
  /**
   * The autoscaler's learned seasonality (daily demand per 15 min bucket), versioned and compact (`v1:` + counters +
   * float32 peaks in base64, ~0.5 kB): read back by a restarted controller so its forecast survives the restart.
   */
  readonly seasonality?: string;
}

/** Object metadata, the parts this package reads. */
export interface ServingEndpointMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly uid?: string;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A whole ServingEndpoint object. */
export interface ServingEndpoint {
  readonly apiVersion: typeof SERVING_API_VERSION;
  readonly kind: typeof SERVING_KIND;
  readonly metadata: ServingEndpointMetadata;
  readonly spec: ServingEndpointSpec;
  readonly status?: ServingEndpointStatus;
}
