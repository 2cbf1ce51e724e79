/**
 * Each bad endpoint declaration fails at evaluation (evaluateStack, before any resource is
 * registered) with a message naming the endpoint, the field and the allowed values.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { declareEndpoints, EXAMPLE_MODELS } from "../../infra/endpoints.ts";

const uri = EXAMPLE_MODELS.sklearn;
const good: EndpointDeclaration = {
  name: "ok-model", model: { uri, bytes: 1e6 }, computePool: "cpu",
  concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 },
};
const llm70: EndpointDeclaration["model"] = { uri, flavor: "llm", parameterCount: 70e9, dtype: "bfloat16" };

const cases: { name: string; decl: EndpointDeclaration; stack?: string; want: string }[] = [
  { name: "name not a DNS label", decl: { ...good, name: "Bad_Name" }, want: `endpoint "Bad_Name": field "name" has value "Bad_Name"; allowed: a DNS label` },
  { name: "unknown flavor", decl: { ...good, model: { uri, flavor: "keras" as never } }, want: `endpoint "ok-model": field "model.flavor" has value "keras"; allowed: sklearn, xgboost, lightgbm, pyfunc, pytorch, tensorflow, onnx, tensorrt, transformers, llm, custom` },
  { name: "unknown dtype", decl: { ...good, model: { uri, flavor: "llm", parameterCount: 7e9, dtype: "fp64" as never } }, want: `field "model.dtype" has value "fp64"; allowed: float32, float16, bfloat16, fp8, int8, int4` },
  { name: "concurrency min above max", decl: { ...good, concurrency: { min: 9, max: 8 } }, want: `endpoint "ok-model": field "concurrency" has value {"min":9,"max":8}; allowed: min ≤ max` },
  { name: "concurrency zero", decl: { ...good, concurrency: { min: 0, max: 8 } }, want: `field "concurrency.min" has value 0; allowed: an integer from 1 to 10000` },
  { name: "zero replicas without scaleToZero", decl: { ...good, replicas: { min: 0, max: 4 } }, want: `field "replicas.min" has value 0; allowed: ≥ 1, or 0 together with scaleToZero: true` },
  { name: "traffic does not sum to 100", decl: { ...good, trafficSplit: [{ uri, weight: 60 }, { uri: EXAMPLE_MODELS.onnx, weight: 30 }] }, want: `field "trafficSplit[].weight" has value [60,30] (they sum to 90); allowed: weights that sum to 100` },
  { name: "typed versions and digests", decl: { ...good, versions: [{ version: "v1", digest: "md5:abc", weight: 100 }] } as never, want: `field "versions" has value [{"version":"v1","digest":"md5:abc","weight":100}]; allowed: unset: versions and digests come from the model` },
  { name: "unknown pool", decl: { ...good, computePool: "tpu" }, want: `endpoint "ok-model": field "computePool" has value "tpu" (this stack creates no such pool); allowed: cpu` },
  { name: "custom runtime without image", decl: { ...good, model: { uri, flavor: "custom" }, runtime: { kind: "custom" } }, want: `endpoint "ok-model": field "runtime.image" has value undefined; allowed: a container image reference (required for the custom runtime)` },
  { name: "image on :latest", decl: { ...good, model: { uri, flavor: "custom" }, runtime: { kind: "custom", image: "ghcr.io/x/y:latest" } }, want: `field "runtime.image" has value "ghcr.io/x/y:latest"; allowed: an image reference pinned by version tag or sha256 digest` },
  { name: "runtime that cannot serve the flavor", decl: { ...good, runtime: { kind: "vllm" } }, want: `endpoint "ok-model": field "runtime.kind" has value "vllm"; allowed: for flavor "sklearn": mlflow, custom, auto` },
  { name: "70B bf16 on a CPU pool", decl: { ...good, model: llm70 }, stack: "staging-aws", want: `endpoint "ok-model": field "computePool" has value "cpu" (a 70B bfloat16 model needs 154 GB of GPU memory; pool "cpu" has no GPUs); allowed: a GPU pool with ≥ 2×80 GB GPUs` },
  { name: "70B on 4×L4 nodes", decl: { ...good, model: llm70, computePool: "gpu" }, stack: "staging-aws", want: `endpoint "ok-model": field "model.parameterCount" has value 140000000000 (the model is 140.0 GB (declared); it needs 154 GB of GPU memory = 8×l4, but a node of pool "gpu" has 4×l4); allowed: ≤ 93708377367 bytes (93.7 GB): weights × 1.1 within the 4×l4 (24 GiB each) of one node of pool "gpu", or a pool whose nodes have ≥ 2×80 GB GPUs` },
  { name: "more GPUs than a node has", decl: { ...good, model: llm70, computePool: "gpu", gpus: 16 }, stack: "prod-gcp", want: `endpoint "ok-model": field "gpus" has value 16 (a node of pool "gpu" has 8 GPUs); allowed: a power of two from 2 to 8` },
  { name: "MLflow model on the GPU pool", decl: { ...good, computePool: "gpu" }, stack: "prod-gcp", want: `endpoint "ok-model": field "computePool" has value "gpu" (the MLflow scoring server does not use GPUs); allowed: a CPU pool` },
  { name: "model bigger than a node", decl: { ...good, model: { uri, bytes: 20e9 } }, want: `endpoint "ok-model": field "model.bytes" has value 20000000000 (the model is 20.0 GB (declared); a pod needs ≥ 22.6 GiB of memory to hold it); allowed: ≤ 6039797760 bytes (6.0 GB): weights × 1.2 + 0.25 GiB within the 7 GiB of one node of pool "cpu", or a pool with bigger nodes` },
  { name: "pod bigger than a node", decl: { ...good, resources: { cpu: 2, memoryGiB: 12 } }, want: `endpoint "ok-model": field "resources" has value {"cpu":2,"memoryGiB":12} (the pod cannot fit any node of the pool); allowed: ≤ 3.5 CPU and ≤ 7 GiB` },
  { name: "misspelled field (sloP99ms)", decl: { ...good, sloP99ms: 50 } as unknown as EndpointDeclaration, want: `endpoint "ok-model": field "sloP99ms" has value 50 (unknown field; did you mean "sloP99Ms"?); allowed: the fields name, model, runtime` },
  { name: "unknown nested field", decl: { ...good, replicas: { min: 1, max: 4, maximum: 9 } } as unknown as EndpointDeclaration, want: `endpoint "ok-model": field "replicas.maximum" has value 9 (unknown field; did you mean "max"?); allowed: the fields min, max` },
  { name: "unknown field with nothing close", decl: { ...good, colour: "blue" } as unknown as EndpointDeclaration, want: `endpoint "ok-model": field "colour" has value "blue" (unknown field); allowed: the fields` },
  { name: "duplicate endpoint name", decl: { ...good, name: "fraud-classifier" }, want: `endpoint "fraud-classifier": field "name" has value "fraud-classifier"; allowed: a name not used by another endpoint` },
];

describe("bad endpoint declarations fail at evaluation", () => {
  for (const c of cases) {
    it(c.name, async () => {
      await assert.rejects(
        evaluateStack(c.stack ?? "local", { declare: (ctx) => [...declareEndpoints(ctx), c.decl] }),
        (e: Error) => {
          assert.ok(e.message.includes(c.want), `message:\n${e.message}\nwanted to contain:\n${c.want}`);
          assert.equal(e.name, "DeclarationError");
          return true;
        },
      );
    });
  }
});
