/**
 * What users declare for an endpoint in `infra/endpoints.ts`, and the same endpoint once its model references are
 * resolved. Field names follow the ServingEndpoint custom resource (`controller/src/contract/crd/types.ts`) so the
 * declaration maps onto the CR one to one; infra adds what the CR does not carry (GPU count, custom-image ports and
 * resources).
 */

/** MLflow flavor or weight-format family (same list as the CRD). */
export type ModelFlavor =
  | "sklearn"
  | "xgboost"
  | "lightgbm"
  | "pyfunc"
  | "pytorch"
  | "tensorflow"
  | "onnx"
  | "tensorrt"
  | "transformers"
  | "llm"
  | "custom";
export const MODEL_FLAVORS: readonly ModelFlavor[] = [
  "sklearn", "xgboost", "lightgbm", "pyfunc", "pytorch", "tensorflow", "onnx", "tensorrt", "transformers", "llm", "custom",
];

/** Weight dtype (same list as the CRD). */
export type ModelDtype = "float32" | "float16" | "bfloat16" | "fp8" | "int8" | "int4";
export const MODEL_DTYPES: readonly ModelDtype[] = ["float32", "float16", "bfloat16", "fp8", "int8", "int4"];

/** Bytes per parameter of each dtype. */
export const DTYPE_BYTES: Readonly<Record<ModelDtype, number>> = {
  float32: 4, float16: 2, bfloat16: 2, fp8: 1, int8: 1, int4: 0.5,
};

/** Model server kinds; `auto` picks from flavor and size. */
export type RuntimeChoice = "auto" | "mlflow" | "vllm" | "triton" | "custom";
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ["auto", "mlflow", "vllm", "triton", "custom"];

/** Inclusive integer range. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/**
 * The model an endpoint serves, as users write it: where it is (`uri`) and, optionally, facts that override what
 * the model's own files say. Everything else (flavor, size, dtype, digest, version label) is read from the model.
 */
export interface ModelReference {
  /**
   * `models:/<name>/<version>`, `models:/<name>@<alias>` (MLflow Model Registry: tracking URI and token from stack
   * config), `runs:/<run-id>/<path>`, `s3://<bucket>/<prefix>`, `gs://<bucket>/<prefix>`, or a local directory.
   */
  readonly uri: string;
  /** @default the MLmodel file's flavor (or `llm` for a Hugging Face causal LM) */
  readonly flavor?: ModelFlavor;
  /** Free-form format detail (e.g. `safetensors`). */
  readonly format?: string;
  /** @default estimated from config.json (transformers models) */
  readonly parameterCount?: number;
  /** @default config.json's `torch_dtype` */
  readonly dtype?: ModelDtype;
  /** Artifact size in bytes. @default MLmodel's `model_size_bytes`, else the files' total */
  readonly bytes?: number;
}

/** One model version's share of the traffic. */
export interface TrafficTargetDeclaration {
  /** The version's model reference (same forms as `model.uri`; `model`'s overrides apply to it). */
  readonly uri: string;
  /** Percent of requests (0–100); all weights sum to 100. */
  readonly weight: number;
}

/** What users declare besides the model, shared with the resolved form. */
export interface EndpointSettings {
  /** DNS label (lowercase, digits, `-`, ≤ 40 chars): namespace `ep-<name>`, URL `/serving-endpoints/<name>/invocations`. */
  readonly name: string;
  /** @default { kind: "auto" } */
  readonly runtime?: { readonly kind: RuntimeChoice; readonly image?: string };
  /** Pool the pods run on: a pool name the stack creates (`cpu`, `gpu`). */
  readonly computePool: string;
  /** GPUs per pod; defaults to the minimum the model needs on the pool's GPU type. */
  readonly gpus?: number;
  /** Range of the per-pod target concurrency. */
  readonly concurrency: IntRange;
  /** Replica bounds; `min` may be 0 only with `scaleToZero`. */
  readonly replicas: IntRange;
  /** Concurrency always kept ready. @default 0 */
  readonly provisionedConcurrency?: number;
  /** @default false */
  readonly scaleToZero?: boolean;
  /** p99 latency objective, ms. */
  readonly sloP99Ms?: number;
  /**
   * Payload logging (inference tables): record a sample of requests with their size-capped, redacted bodies in
   * the environment's bucket (`payload-logs/endpoint=<name>/date=…/hour=…`). @default off
   */
  readonly payloadLogging?: { readonly sampleRate: number; readonly maxBodyBytes?: number; readonly redactFields?: readonly string[] };
  /** Custom runtime only: serving port. @default 8080 */
  readonly port?: number;
  /** Custom runtime only: Prometheus metrics port (absent: the pod exposes no metrics). */
  readonly metricsPort?: number;
  /**
   * Pod CPU (cores) and memory (GiB), overriding the runtime's sizing (MLflow, Triton, custom; not vLLM). Memory
   * must hold the model (weights × 1.2 + 0.25 GiB). Use it for small environments such as a laptop's kind node.
   * @default the runtime's sizing from the model; custom: { cpu: 1, memoryGiB: 1 }
   */
  readonly resources?: { readonly cpu: number; readonly memoryGiB: number };
}

/** One endpoint as users declare it. */
export interface EndpointDeclaration extends EndpointSettings {
  readonly model: ModelReference;
  /** Traffic split over model versions (a canary). @default 100% to `model.uri` */
  readonly trafficSplit?: readonly TrafficTargetDeclaration[];
}

/** One resolved model version. Its files live under `<bucket>/<endpoint>/<version>/` in the model cache. */
export interface ModelVersionDeclaration {
  /** Version label: `v<N>` (registry), `r-<run id>` (run), `c-<digest>` (content); lowercase, digits, `-`. */
  readonly version: string;
  /** `sha256:<64 hex>` of the version's manifest, computed from its files; keys the node-local cache. */
  readonly digest: string;
  /** Percent of requests (0–100); weights of all versions sum to 100. */
  readonly weight: number;
}

/** What the model's files (and the declaration's overrides) say: the facts runtime selection uses. */
export interface ModelFacts {
  readonly flavor: ModelFlavor;
  readonly format?: string;
  readonly parameterCount?: number;
  readonly dtype?: ModelDtype;
  readonly bytes?: number;
  /**
   * Where the size was read from, for messages: the declaration field and what in the model said it (e.g.
   * `{ field: "model.uri (MLmodel model_size_bytes)", source: "models:/fraud/3" }`). @default `model.bytes`
   */
  readonly sizeFrom?: { readonly field: string; readonly source: string };
}

/** An endpoint after its model references were resolved (components/model/resolve-endpoints.ts). */
export interface ResolvedEndpoint extends EndpointSettings {
  readonly model: ModelFacts;
  /** Model versions and their traffic split (at least one). */
  readonly versions: readonly ModelVersionDeclaration[];
}
