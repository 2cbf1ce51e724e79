/**
 * The endpoints this platform serves — the file users edit. Each entry is validated (names, ranges, traffic
 * split) and its runtime is chosen and sized from flavor, size and the pool before anything is created.
 *
 * Model artifacts live in the model cache under `<endpoint>/<version>/` next to a `SHA256SUMS` manifest; a
 * version's `digest` is the sha256 of that manifest. The digests below are examples (sha256 of the text
 * "<endpoint>/<version>"); replace them with your manifests' digests.
 */
import { createHash } from "node:crypto";
import type { EndpointDeclaration } from "../components/endpoint-types.ts";
import type { PoolPlacement } from "../components/types.ts";

/** Example digest of a model version (see the header). */
export function exampleDigest(endpoint: string, version: string): string {
  return `sha256:${createHash("sha256").update(`${endpoint}/${version}`).digest("hex")}`;
}

/** What the endpoint list may depend on. */
export interface EndpointContext {
  readonly environment: "dev" | "staging" | "prod";
  /** The GPU pool, when the stack has one. */
  readonly gpuPool?: PoolPlacement;
}

/** The example endpoint set. */
export function declareEndpoints(ctx: EndpointContext): EndpointDeclaration[] {
  const gpu = ctx.gpuPool;
  // dev is the local stack: one kind node of 4 CPUs and 8 GiB holds the whole platform, so the examples take
  // small, explicit resources and one replica each (test/infra/capacity.test.ts checks the fit).
  const dev = ctx.environment === "dev";
  const list: EndpointDeclaration[] = [
    {
      // A 2 MB scikit-learn classifier on one CPU; v4 takes 10% of the traffic (canary).
      name: "fraud-classifier",
      model: { flavor: "sklearn", bytes: 2_000_000 },
      computePool: "cpu",
      concurrency: { min: 2, max: 16 },
      ...(dev ? { replicas: { min: 1, max: 4 }, resources: { cpu: 0.25, memoryGiB: 0.5 } } : { replicas: { min: 2, max: 50 }, provisionedConcurrency: 8 }),
      sloP99Ms: 50,
      // 1% of requests and answers go to the inference table, card numbers redacted.
      payloadLogging: { sampleRate: 0.01, redactFields: ["card_number"] },
      versions: [
        { version: "v3", digest: exampleDigest("fraud-classifier", "v3"), weight: 90 },
        { version: "v4", digest: exampleDigest("fraud-classifier", "v4"), weight: 10 },
      ],
    },
    {
      // An ONNX sentence-embedding model on Triton (GPU when the stack has a GPU pool), wants big batches.
      name: "text-embedder",
      model: { flavor: "onnx", format: "onnx", bytes: 440_000_000 },
      computePool: gpu ? "gpu" : "cpu",
      concurrency: { min: 8, max: 128 },
      replicas: { min: 1, max: dev ? 2 : 10 },
      ...(dev ? { resources: { cpu: 0.5, memoryGiB: 1.5 } } : {}),
      versions: [{ version: "v1", digest: exampleDigest("text-embedder", "v1"), weight: 100 }],
    },
    {
      // An I/O-bound agent in the user's own image: hundreds of slow requests per pod.
      name: "support-agent",
      model: { flavor: "custom", bytes: 10_000_000 },
      runtime: { kind: "custom", image: "ghcr.io/example-org/support-agent:1.4.2" },
      computePool: "cpu",
      port: 8080,
      metricsPort: 9090,
      resources: dev ? { cpu: 0.25, memoryGiB: 0.5 } : { cpu: 1, memoryGiB: 1 },
      concurrency: { min: 32, max: 512 },
      replicas: { min: 1, max: dev ? 2 : 20 },
      versions: [{ version: "v7", digest: exampleDigest("support-agent", "v7"), weight: 100 }],
    },
  ];
  if (gpu?.gpu !== undefined && gpu.gpu.memoryGiB >= 80 && gpu.gpu.perNode >= 8) {
    // A fine-tuned 70B LLM in bf16 on 8×80 GB GPUs (the minimum is 2; 8 leaves room for a large KV cache).
    list.push({
      name: "llm-chat",
      model: { flavor: "llm", format: "safetensors", parameterCount: 70_000_000_000, dtype: "bfloat16" },
      computePool: "gpu",
      gpus: 8,
      concurrency: { min: 16, max: 256 },
      replicas: { min: 1, max: 4 },
      provisionedConcurrency: 32,
      versions: [{ version: "ft-2", digest: exampleDigest("llm-chat", "ft-2"), weight: 100 }],
    });
  } else if (gpu !== undefined) {
    // Smaller GPUs (staging): an 8B model in bf16 on one GPU exercises the same vLLM path.
    list.push({
      name: "llm-chat",
      model: { flavor: "llm", format: "safetensors", parameterCount: 8_000_000_000, dtype: "bfloat16" },
      computePool: "gpu",
      concurrency: { min: 8, max: 64 },
      replicas: { min: 1, max: 4 },
      versions: [{ version: "ft-2", digest: exampleDigest("llm-chat", "ft-2"), weight: 100 }],
    });
  }
  return list;
}
