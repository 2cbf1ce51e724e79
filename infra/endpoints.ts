/**
 * The endpoints this platform serves — the file users edit. Each entry names its model by reference
 * (`model: { uri }`: a registry model, a run, a store prefix or a directory); flavor, size, version and digest are
 * read from the model itself, the runtime is chosen and sized from them and the pool, and `pulumi up` publishes
 * the model's files into the environment's cache — all before anything is created (docs/models.md).
 *
 * The examples serve the models shipped in examples/models/ (made by scripts there: the iris classifier as
 * scikit-learn and ONNX, and a tiny Llama-architecture LLM), so the example set comes up on a fresh stack from what
 * the program itself publishes. On the GPU stacks, stack config `exampleLlmUri` points `llm-chat` at a real LLM
 * instead (e.g. Llama 3 weights in your bucket or registry), sized for the stack's GPUs.
 *
 * Every image the default set runs is one the program builds (the MLflow serving images) or pins in
 * components/images.ts (test/infra/example-images.test.ts checks it). The custom-runtime example `support-agent`
 * runs your own image, so it is declared only when stack config `exampleCustomImage` names one.
 */
import type { EndpointDeclaration } from "../components/endpoint-types.ts";
import type { PoolPlacement } from "../components/types.ts";

/** The shipped example models (paths relative to the project root). */
export const EXAMPLE_MODELS = {
  sklearn: "examples/models/iris-sklearn",
  onnx: "examples/models/iris-onnx",
  llm: "examples/models/tiny-llm",
} as const;

/** What the endpoint list may depend on. */
export interface EndpointContext {
  readonly environment: "dev" | "staging" | "prod";
  /** The GPU pool, when the stack has one. */
  readonly gpuPool?: PoolPlacement;
  /** The LLM `llm-chat` serves on a GPU stack (stack config `exampleLlmUri`). @default the shipped tiny LLM */
  readonly llmUri?: string;
  /** The image `support-agent` runs (stack config `exampleCustomImage`). @default none: no support-agent */
  readonly customImage?: string;
}

/** The example endpoint set. */
export function declareEndpoints(ctx: EndpointContext): EndpointDeclaration[] {
  const gpu = ctx.gpuPool;
  // dev is the local stack: one kind node of 4 CPUs and 8 GiB holds the whole platform, so the examples take
  // small, explicit resources and one replica each (test/infra/capacity.test.ts checks the fit).
  const dev = ctx.environment === "dev";
  const list: EndpointDeclaration[] = [
    {
      // A scikit-learn classifier on CPU (the shipped iris example: flavor, size and requirements come from its MLmodel).
      name: "fraud-classifier",
      model: { uri: EXAMPLE_MODELS.sklearn },
      computePool: "cpu",
      concurrency: { min: 2, max: 16 },
      ...(dev ? { replicas: { min: 1, max: 4 }, resources: { cpu: 0.25, memoryGiB: 0.5 } } : { replicas: { min: 2, max: 50 }, provisionedConcurrency: 8 }),
      sloP99Ms: 50,
      // 1% of requests and answers go to the inference table, card numbers redacted.
      payloadLogging: { sampleRate: 0.01, redactFields: ["card_number"] },
    },
    {
      // An ONNX model on Triton (GPU when the stack has a GPU pool) behind the MLflow-protocol adapter; big batches.
      name: "text-embedder",
      model: { uri: EXAMPLE_MODELS.onnx },
      computePool: gpu ? "gpu" : "cpu",
      concurrency: { min: 8, max: 128 },
      replicas: { min: 1, max: dev ? 2 : 10 },
      ...(dev ? { resources: { cpu: 0.5, memoryGiB: 1.5 } } : {}),
    },
  ];
  if (ctx.customImage !== undefined && ctx.customImage !== "") {
    list.push({
      // An I/O-bound agent in the user's own image: hundreds of slow requests per pod.
      name: "support-agent",
      // Its image brings its own code; the model files it reads are the sklearn example's.
      model: { uri: EXAMPLE_MODELS.sklearn, flavor: "custom" },
      runtime: { kind: "custom", image: ctx.customImage },
      computePool: "cpu",
      port: 8080,
      metricsPort: 9090,
      resources: dev ? { cpu: 0.25, memoryGiB: 0.5 } : { cpu: 1, memoryGiB: 1 },
      concurrency: { min: 32, max: 512 },
      replicas: { min: 1, max: dev ? 2 : 20 },
    });
  }
  if (gpu !== undefined && ctx.llmUri !== undefined && ctx.llmUri !== "" && gpu.gpu !== undefined && gpu.gpu.memoryGiB >= 80 && gpu.gpu.perNode >= 8) {
    // Your LLM on 8×80 GB GPUs (a 70B bf16 model needs 2; 8 leave room for a large KV cache).
    list.push({
      name: "llm-chat",
      model: { uri: ctx.llmUri, format: "safetensors" },
      computePool: "gpu",
      gpus: 8,
      concurrency: { min: 16, max: 256 },
      replicas: { min: 1, max: 4 },
      provisionedConcurrency: 32,
    });
  } else if (gpu !== undefined) {
    // vLLM on the fewest GPUs the model needs: the shipped tiny LLM (one GPU), or yours on smaller GPUs (staging).
    list.push({
      name: "llm-chat",
      model: { uri: ctx.llmUri !== undefined && ctx.llmUri !== "" ? ctx.llmUri : EXAMPLE_MODELS.llm, format: "safetensors" },
      computePool: "gpu",
      concurrency: { min: 8, max: 64 },
      replicas: { min: 1, max: 4 },
    });
  }
  return list;
}
