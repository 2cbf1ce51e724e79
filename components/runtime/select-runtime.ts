/**
 * Runtime selection: model flavor / size / dtype + the chosen pool → model server, image, args, ports, probes,
 * resources and GPU count. Pure: no Pulumi, no I/O. Impossible combinations come back as FieldErrors that say
 * why and what would work.
 *
 * Sizing rules (documented in docs/infra.md):
 * - weights = parameterCount × bytes(dtype) (or the declared `bytes`, default 100 MB);
 * - a GPU model needs weights × 1.1 of GPU memory (10% for activations / CUDA context; vLLM gives the rest of
 *   `--gpu-memory-utilization` to the KV cache), so a 70B bf16 model (140 GB) needs ≥ 2×80 GB GPUs;
 * - vLLM tensor parallelism must be a power of two (it has to divide the attention heads) and fit one node;
 * - startup budget = 2 × (runtime base + weights / load rate), load rate 500 MB/s per GPU rank or 200 MB/s on CPU.
 */
import { type ImageRole, imageRef } from "../images.ts";
import type { FieldError, PoolPlacement } from "../types.ts";
import {
  DTYPE_BYTES,
  type ResolvedEndpoint,
  type ModelFlavor,
  type RuntimeChoice,
} from "../endpoint-types.ts";
import { probesFor, type ProbeSet } from "./probes.ts";
import { resolveRuntime } from "../../controller/src/contract/crd/resolve-runtime.ts";

/** The model server that will run. */
export type RuntimeKind = Exclude<RuntimeChoice, "auto">;

/** Flavors each explicit runtime can serve. */
export const RUNTIME_FLAVORS: Readonly<Record<RuntimeKind, readonly ModelFlavor[]>> = {
  mlflow: ["sklearn", "xgboost", "lightgbm", "pyfunc", "pytorch", "tensorflow", "onnx", "transformers"],
  vllm: ["llm", "transformers", "pytorch"],
  triton: ["onnx", "tensorrt", "pytorch", "tensorflow"],
  custom: ["sklearn", "xgboost", "lightgbm", "pyfunc", "pytorch", "tensorflow", "onnx", "tensorrt", "transformers", "llm", "custom"],
};

/** Where the model is mounted inside the serving container. */
export const MODEL_MOUNT_PATH = "/models/current";

/** The Triton model repository the adapter's `prepare` step writes (an emptyDir shared with Triton). */
export const TRITON_REPOSITORY_PATH = "/triton-repository";

/**
 * The Triton adapter beside Triton in the pod: answers the MLflow scoring protocol on `port` (the pod's serving
 * port) and calls Triton's KServe v2 API on `serverPort` over localhost. Runs the controller image.
 */
export interface AdapterPlan {
  readonly port: number;
  /** Triton's HTTP port (reached on 127.0.0.1 only). */
  readonly serverPort: number;
  /** Guaranteed resources of the adapter container. */
  readonly cpu: number;
  readonly memoryGiB: number;
  /** The Triton container's own probes (on its port); the pod's serving readiness is the adapter's /ping. */
  readonly serverProbes: ProbeSet;
}

/** Everything the endpoint builder needs to render the serving container. */
export interface RuntimePlan {
  readonly kind: RuntimeKind;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  /** Port requests are served on. */
  readonly port: number;
  /** Prometheus metrics port and path; absent when the runtime exposes none. */
  readonly metrics?: { readonly port: number; readonly path: string };
  readonly probes: ProbeSet;
  /** Requests equal limits (Guaranteed QoS): CPU in cores, memory in GiB. */
  readonly cpu: number;
  readonly memoryGiB: number;
  /** GPUs per pod (0 on CPU). */
  readonly gpus: number;
  readonly tensorParallelSize?: number;
  readonly weightBytes: number;
  /** Shared memory for NCCL between tensor-parallel ranks, GiB (vLLM with TP > 1). */
  readonly shmGiB?: number;
  /** Size of the writable scratch volume at /tmp (HOME and every cache directory point there). */
  readonly scratchGiB: number;
  /** Why this runtime and size, for the plan output. */
  readonly reason: string;
  /** Triton only: the MLflow-protocol adapter container (the serving port and probes are its). */
  readonly adapter?: AdapterPlan;
}

/** Result of a selection: a plan or the reasons there is none. */
export type RuntimeSelection = { readonly ok: true; readonly plan: RuntimePlan } | { readonly ok: false; readonly errors: FieldError[] };

/** Weight bytes of a declared model. */
export function weightBytes(model: ResolvedEndpoint["model"]): number {
  if (model.parameterCount !== undefined && model.dtype !== undefined) {
    return model.parameterCount * DTYPE_BYTES[model.dtype];
  }
  return model.bytes ?? 100e6;
}

/**
 * The runtime `auto` picks for a model: the CRD's rule (`resolveRuntime`), so the Deployment this program
 * creates and the gateway's routing (which reads the ServingEndpoint) can never disagree.
 */
export function autoRuntime(model: ResolvedEndpoint["model"]): RuntimeKind {
  const size = model.parameterCount === undefined ? undefined : { parameterCount: model.parameterCount };
  return resolveRuntime(size === undefined ? { flavor: model.flavor } : { flavor: model.flavor, size }, undefined);
}

/** Minimum GPUs of `gpuMemoryGiB` each that hold `bytes` of weights plus 10%. */
export function minGpusFor(bytes: number, gpuMemoryGiB: number): number {
  return Math.max(1, Math.ceil((bytes * 1.1) / (gpuMemoryGiB * 2 ** 30)));
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

const GIB = 2 ** 30;

/**
 * Environment every model server gets: pods run as the platform UID with a read-only root filesystem, and the
 * runtime images either default to root (vLLM, MLflow) or to a user of their own (Triton: triton-server), so
 * none has a passwd entry or a writable home for our UID. HOME and USER/LOGNAME (Python's getpass.getuser() reads
 * them before the passwd database, which has no entry for the UID) point the runtimes at /tmp, an emptyDir.
 */
export const NON_ROOT_ENV: readonly { readonly name: string; readonly value: string }[] = [
  { name: "HOME", value: "/tmp" },
  { name: "USER", value: "autopilot" },
  { name: "LOGNAME", value: "autopilot" },
  { name: "XDG_CACHE_HOME", value: "/tmp/.cache" },
];

/** vLLM's (and torch's, Triton-lang's, Hugging Face's) caches, all under the scratch volume. */
const VLLM_CACHE_ENV = [
  { name: "HF_HOME", value: "/tmp/hf" },
  { name: "VLLM_CACHE_ROOT", value: "/tmp/vllm" },
  { name: "TORCHINDUCTOR_CACHE_DIR", value: "/tmp/torchinductor" },
  { name: "TRITON_CACHE_DIR", value: "/tmp/triton" },
  { name: "NUMBA_CACHE_DIR", value: "/tmp/numba" },
  { name: "OUTLINES_CACHE_DIR", value: "/tmp/outlines" },
];

/** Memory a pod needs at least to hold its model: weights × 1.2 + 0.25 GiB. Worked example: 440 MB → 0.74 GiB. */
export function memoryFloorGiB(bytes: number): number {
  return Math.round(((bytes * 1.2) / GIB + 0.25) * 100) / 100;
}

/** Selects and sizes the runtime of `decl` on `pool` (undefined when the declared pool does not exist). */
export function selectRuntime(
  decl: ResolvedEndpoint,
  pool: PoolPlacement | undefined,
  digestOverrides: Readonly<Record<string, string>> = {},
): RuntimeSelection {
  const name = decl.name;
  const err = (field: string, value: unknown, allowed: string, reason?: string): RuntimeSelection => ({
    ok: false,
    errors: [{ subject: name, field, value, allowed, ...(reason !== undefined ? { reason } : {}) }],
  });
  if (pool === undefined) return err("computePool", decl.computePool, "a pool this stack creates", "no such pool");

  const choice = decl.runtime?.kind ?? "auto";
  const kind: RuntimeKind = choice === "auto" ? autoRuntime(decl.model) : choice;
  if (!RUNTIME_FLAVORS[kind].includes(decl.model.flavor)) {
    return err("runtime.kind", kind, `for flavor "${decl.model.flavor}": ${runtimesFor(decl.model.flavor)}`);
  }
  if (kind === "custom" && decl.runtime?.image === undefined) {
    return err("runtime.image", undefined, "a container image reference (required for the custom runtime)");
  }
  const bytes = weightBytes(decl.model);
  const weightGiB = bytes / GIB;
  const gpuPool = pool.gpu;
  // A model too big for the pool is named by where its size came from (model_size_bytes, the files, config.json).
  const sizeField = decl.model.sizeFrom?.field ?? (decl.model.parameterCount !== undefined && decl.model.dtype !== undefined ? "model.parameterCount" : "model.bytes");
  const sizeSaid = `${fmtBytes(bytes)}${decl.model.sizeFrom !== undefined ? ` (${decl.model.sizeFrom.source})` : ""}`;
  const tooBig = (limitBytes: number, limit: string, need: string, instead = "a pool with bigger nodes"): RuntimeSelection =>
    err(sizeField, bytes, `≤ ${Math.floor(limitBytes)} bytes (${fmtBytes(limitBytes)}): ${limit}, or ${instead}`, `the model is ${sizeSaid}; ${need}`);

  const cpuTooBig = () => tooBig((pool.memoryGiBPerNode - 0.25) * GIB / 1.2, `weights × 1.2 + 0.25 GiB within the ${pool.memoryGiBPerNode} GiB of one node of pool "${pool.poolName}"`,
    `a pod needs ≥ ${memoryFloorGiB(bytes)} GiB of memory to hold it`);

  if (kind === "vllm") {
    if (decl.resources !== undefined) return err("resources", decl.resources, "unset for vLLM (it is sized from the model and the GPUs)");
    if (decl.model.parameterCount === undefined || decl.model.dtype === undefined) {
      return err("model.parameterCount", decl.model.parameterCount, "a parameter count and dtype (vLLM sizes GPUs from them)");
    }
    const need = `${(bytes * 1.1 / 1e9).toFixed(0)} GB of GPU memory`;
    if (gpuPool === undefined) {
      const g80 = minGpusFor(bytes, 80);
      return err("computePool", decl.computePool, `a GPU pool with ≥ ${g80}×80 GB GPUs`,
        `a ${fmtParams(decl.model.parameterCount)} ${decl.model.dtype} model needs ${need}; pool "${pool.poolName}" has no GPUs`);
    }
    const min = minGpusFor(bytes, gpuPool.memoryGiB);
    const minTp = nextPowerOfTwo(min);
    if (minTp > gpuPool.perNode) {
      return tooBig(gpuPool.perNode * gpuPool.memoryGiB * GIB / 1.1, `weights × 1.1 within the ${gpuPool.perNode}×${gpuPool.type} (${gpuPool.memoryGiB} GiB each) of one node of pool "${pool.poolName}"`,
        `it needs ${need} = ${minTp}×${gpuPool.type}, but a node of pool "${pool.poolName}" has ${gpuPool.perNode}×${gpuPool.type}`,
        `a pool whose nodes have ≥ ${minGpusFor(bytes, 80)}×80 GB GPUs`);
    }
    const gpus = decl.gpus ?? minTp;
    if (gpus < min || gpus > gpuPool.perNode || nextPowerOfTwo(gpus) !== gpus) {
      return err("gpus", gpus, `a power of two from ${minTp} to ${gpuPool.perNode}`,
        gpus < min ? `${gpus}×${gpuPool.type} hold ${gpus * gpuPool.memoryGiB} GiB but the model needs ${need}`
          : gpus > gpuPool.perNode ? `a node of pool "${pool.poolName}" has ${gpuPool.perNode} GPUs` : "tensor parallelism must divide the attention heads");
    }
    const cpu = Math.min(4 * gpus, Math.floor(pool.cpuPerNode) - 1);
    const memoryGiB = Math.min(Math.floor(pool.memoryGiBPerNode * 0.8), Math.ceil(16 + weightGiB));
    const dtype = decl.model.dtype === "bfloat16" || decl.model.dtype === "float16" || decl.model.dtype === "float32" ? decl.model.dtype : "auto";
    return ok({
      kind, image: decl.runtime?.image ?? img("vllm", digestOverrides),
      args: ["--model", MODEL_MOUNT_PATH, "--served-model-name", name, "--host", "0.0.0.0", "--port", "8000",
        "--tensor-parallel-size", String(gpus), "--max-num-seqs", String(decl.concurrency.max), "--dtype", dtype,
        "--gpu-memory-utilization", "0.90"],
      env: [...NON_ROOT_ENV, ...VLLM_CACHE_ENV, { name: "HF_HUB_OFFLINE", value: "1" }, { name: "VLLM_NO_USAGE_STATS", value: "1" }],
      port: 8000, metrics: { port: 8000, path: "/metrics" },
      probes: probesFor("/health", 8000, 180 + bytes / (gpus * 500e6)),
      cpu, memoryGiB, gpus, tensorParallelSize: gpus, weightBytes: bytes,
      ...(gpus > 1 ? { shmGiB: 16 } : {}), scratchGiB: 20,
      reason: `flavor ${decl.model.flavor} → vLLM; ${(bytes / 1e9).toFixed(1)} GB weights need ≥ ${min}×${gpuPool.type} (${gpuPool.memoryGiB} GB); tensor parallel ${gpus}; --max-num-seqs ${decl.concurrency.max}`,
    });
  }

  if (kind === "mlflow" && gpuPool !== undefined) {
    return err("computePool", decl.computePool, "a CPU pool", "the MLflow scoring server does not use GPUs");
  }

  if (kind === "triton") {
    const gpus = gpuPool !== undefined ? (decl.gpus ?? 1) : 0;
    if (gpuPool !== undefined && minGpusFor(bytes, gpuPool.memoryGiB) > 1) {
      return tooBig(gpuPool.memoryGiB * GIB / 1.1, `weights × 1.1 within one ${gpuPool.type} (${gpuPool.memoryGiB} GiB; Triton serves a model from one GPU)`,
        `it needs ${(bytes * 1.1 / 1e9).toFixed(1)} GB of GPU memory (use vLLM for multi-GPU models)`);
    }
    if (gpuPool === undefined && memoryFloorGiB(bytes) > pool.memoryGiBPerNode) return cpuTooBig();
    if (gpuPool !== undefined && (gpus !== 1 || minGpusFor(bytes, gpuPool.memoryGiB) > 1)) {
      return err("gpus", gpus, "1 (Triton runs one model instance per GPU here; use vLLM for multi-GPU models)",
        minGpusFor(bytes, gpuPool.memoryGiB) > 1 ? `the model needs more than one ${gpuPool.type}` : undefined);
    }
    if (gpuPool === undefined && decl.gpus !== undefined && decl.gpus > 0) {
      return err("gpus", decl.gpus, `0 on CPU pool "${pool.poolName}"`, "the pool has no GPUs");
    }
    const cpu = decl.resources?.cpu ?? (gpuPool !== undefined ? 4 : 2);
    const memoryGiB = decl.resources?.memoryGiB ?? Math.max(2, Math.ceil(weightGiB * 3 + 1));
    const loadS = 90 + bytes / 200e6;
    const tritonProbes = probesFor("/v2/health/ready", 8000, loadS);
    // Every endpoint answers the MLflow protocol: the adapter (the pod's serving port) translates to KServe v2.
    // Inputs, outputs and batching come from the ONNX file (Triton's auto-complete); batches up to 64 rows.
    return fit(ok({
      kind, image: decl.runtime?.image ?? img("triton", digestOverrides), command: ["tritonserver"],
      args: [`--model-repository=${TRITON_REPOSITORY_PATH}`, "--http-port=8000", "--grpc-port=8001", "--metrics-port=8002",
        "--model-control-mode=none", "--strict-readiness=true", "--exit-on-error=true", "--backend-config=default-max-batch-size=64"],
      env: [...NON_ROOT_ENV],
      port: 8080, metrics: { port: 8002, path: "/metrics" },
      probes: probesFor("/ping", 8080, loadS),
      cpu, memoryGiB, gpus, weightBytes: bytes, scratchGiB: 4,
      adapter: { port: 8080, serverPort: 8000, cpu: 0.5, memoryGiB: 0.25, serverProbes: tritonProbes },
      reason: `flavor ${decl.model.flavor} → Triton on ${gpus > 0 ? `1×${gpuPool?.type}` : "CPU"}, MLflow protocol through the adapter`,
    }), pool, name);
  }

  if (kind === "mlflow") {
    if (memoryFloorGiB(bytes) > pool.memoryGiBPerNode) return cpuTooBig();
    const workers = decl.resources !== undefined ? Math.max(1, Math.min(2, Math.floor(decl.resources.cpu))) : Math.min(2, Math.max(1, decl.concurrency.max));
    const memoryGiB = decl.resources?.memoryGiB ?? Math.ceil(0.5 + workers * Math.max(0.25, weightGiB * 2));
    return fit(ok({
      kind, image: decl.runtime?.image ?? img("mlflow", digestOverrides), command: ["mlflow"],
      args: ["models", "serve", "-m", MODEL_MOUNT_PATH, "-h", "0.0.0.0", "-p", "8080", "--env-manager", "local", "--workers", String(workers)],
      env: [...NON_ROOT_ENV, { name: "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT", value: "60" }],
      port: 8080, probes: probesFor("/ping", 8080, 60 + bytes / 200e6),
      cpu: decl.resources?.cpu ?? workers, memoryGiB, gpus: 0, weightBytes: bytes, scratchGiB: 2,
      reason: `flavor ${decl.model.flavor} → MLflow scoring server, ${workers} workers on CPU`,
    }), pool, name);
  }

  // custom
  const gpus = decl.gpus ?? 0;
  if (gpus > 0 && (gpuPool === undefined || gpus > gpuPool.perNode)) {
    return err("gpus", gpus, gpuPool === undefined ? `0 on CPU pool "${pool.poolName}"` : `0 to ${gpuPool.perNode}`,
      gpuPool === undefined ? "the pool has no GPUs" : `a node has ${gpuPool.perNode} GPUs`);
  }
  const port = decl.port ?? 8080;
  return fit(ok({
    kind, image: decl.runtime?.image ?? "", args: [], env: [...NON_ROOT_ENV],
    port, ...(decl.metricsPort !== undefined ? { metrics: { port: decl.metricsPort, path: "/metrics" } } : {}),
    probes: probesFor("/healthz", port, 60 + bytes / 200e6),
    cpu: decl.resources?.cpu ?? 1, memoryGiB: decl.resources?.memoryGiB ?? 1, gpus, weightBytes: bytes, scratchGiB: 2,
    reason: "custom image",
  }), pool, name);
}

function ok(plan: RuntimePlan): RuntimeSelection {
  return { ok: true, plan };
}

/** Refuses plans that cannot fit one node of the pool. */
function fit(sel: RuntimeSelection, pool: PoolPlacement, name: string): RuntimeSelection {
  if (!sel.ok) return sel;
  // The whole pod: the server and, for Triton, the adapter beside it.
  const cpu = sel.plan.cpu + (sel.plan.adapter?.cpu ?? 0);
  const memoryGiB = sel.plan.memoryGiB + (sel.plan.adapter?.memoryGiB ?? 0);
  const floor = memoryFloorGiB(sel.plan.weightBytes);
  if (sel.plan.kind !== "custom" && sel.plan.memoryGiB < floor) {
    return { ok: false, errors: [{
      subject: name, field: "resources.memoryGiB", value: sel.plan.memoryGiB,
      allowed: `≥ ${floor} GiB (the model's ${(sel.plan.weightBytes / 1e9).toFixed(2)} GB of weights × 1.2 + 0.25 GiB)`,
      reason: "the model would not fit in the pod's memory",
    }] };
  }
  if (cpu > pool.cpuPerNode || memoryGiB > pool.memoryGiBPerNode) {
    return { ok: false, errors: [{
      subject: name, field: "resources", value: { cpu, memoryGiB },
      allowed: `≤ ${pool.cpuPerNode} CPU and ≤ ${pool.memoryGiBPerNode} GiB (one node of pool "${pool.poolName}"), or a pool with bigger nodes`,
      reason: "the pod cannot fit any node of the pool",
    }] };
  }
  return sel;
}

/** `40.0 GB`, `512.0 MB`, `3.2 kB` (decimal units, as model sizes are quoted). */
function fmtBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
}

const img = (role: ImageRole, overrides: Readonly<Record<string, string>>): string => imageRef(role, overrides);

function runtimesFor(flavor: ModelFlavor): string {
  return [...(Object.keys(RUNTIME_FLAVORS) as RuntimeKind[]).filter((k) => RUNTIME_FLAVORS[k].includes(flavor)), "auto"].join(", ");
}

function fmtParams(n: number): string {
  return n >= 1e9 ? `${Math.round(n / 1e9)}B` : `${Math.round(n / 1e6)}M`;
}
