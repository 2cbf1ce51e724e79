import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { poolPlacement } from "../../components/node-pool/node-pool-spec.ts";
import type { ResolvedEndpoint, ModelDtype } from "../../components/endpoint-types.ts";
import { minGpusFor, selectRuntime, weightBytes } from "../../components/runtime/select-runtime.ts";

const cpu = poolPlacement("aws", "cpu", "cpu", "m7i.2xlarge");
const h100 = poolPlacement("aws", "gpu", "gpu", "p5.48xlarge");
const l4x4 = poolPlacement("aws", "gpu", "gpu", "g6.12xlarge");
const digest = `sha256:${"a".repeat(64)}`;

function decl(over: Partial<ResolvedEndpoint> & Pick<ResolvedEndpoint, "model">): ResolvedEndpoint {
  return { name: "m", computePool: "cpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 }, versions: [{ version: "v1", digest, weight: 100 }], ...over };
}
const llm70 = { flavor: "llm", parameterCount: 70e9, dtype: "bfloat16" } as const;

describe("runtime selection: table", () => {
  const cases: { name: string; input: ResolvedEndpoint; pool: typeof cpu; want: Record<string, unknown> }[] = [
    { name: "sklearn → MLflow on CPU", input: decl({ model: { flavor: "sklearn", bytes: 2e6 } }), pool: cpu, want: { kind: "mlflow", gpus: 0, port: 8080 } },
    { name: "onnx on CPU → Triton, 0 GPUs", input: decl({ model: { flavor: "onnx", bytes: 4e8 } }), pool: cpu, want: { kind: "triton", gpus: 0 } },
    { name: "onnx on GPU pool → Triton, 1 GPU", input: decl({ model: { flavor: "onnx", bytes: 4e8 }, computePool: "gpu" }), pool: l4x4, want: { kind: "triton", gpus: 1 } },
    { name: "70B bf16 on 8×H100 → vLLM TP 8", input: decl({ model: llm70, computePool: "gpu", gpus: 8 }), pool: h100, want: { kind: "vllm", gpus: 8, tensorParallelSize: 8 } },
    { name: "70B bf16 default GPU count → 2 (≥ 2×80 GB)", input: decl({ model: llm70, computePool: "gpu" }), pool: h100, want: { kind: "vllm", gpus: 2 } },
    { name: "8B bf16 on L4 → 1 GPU", input: decl({ model: { flavor: "llm", parameterCount: 8e9, dtype: "bfloat16" }, computePool: "gpu" }), pool: l4x4, want: { kind: "vllm", gpus: 1 } },
    { name: "custom image", input: decl({ model: { flavor: "custom" }, runtime: { kind: "custom", image: "ghcr.io/x/y:1.0" }, port: 9000 }), pool: cpu, want: { kind: "custom", image: "ghcr.io/x/y:1.0", port: 9000 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const sel = selectRuntime(c.input, c.pool);
      assert.ok(sel.ok, JSON.stringify(!sel.ok && sel.errors));
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual((sel.plan as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it("vLLM args: --max-num-seqs from the concurrency max, tensor parallelism from the GPU count", () => {
    const sel = selectRuntime(decl({ model: llm70, computePool: "gpu", gpus: 8, concurrency: { min: 16, max: 256 } }), h100);
    assert.ok(sel.ok);
    const a = sel.plan.args;
    assert.equal(a[a.indexOf("--max-num-seqs") + 1], "256");
    assert.equal(a[a.indexOf("--tensor-parallel-size") + 1], "8");
    assert.equal(a[a.indexOf("--dtype") + 1], "bfloat16");
  });

  it("Triton serves the repository the adapter prepares, exposes metrics on 8002; the serving port is the adapter's", () => {
    const sel = selectRuntime(decl({ model: { flavor: "onnx", bytes: 4e8 } }), cpu);
    assert.ok(sel.ok);
    assert.ok(sel.plan.args.includes("--model-repository=/triton-repository"));
    assert.deepEqual(sel.plan.metrics, { port: 8002, path: "/metrics" });
    assert.equal(sel.plan.port, 8080);
    assert.equal(sel.plan.probes.readiness.httpGet.path, "/ping");
    assert.deepEqual({ port: sel.plan.adapter?.port, serverPort: sel.plan.adapter?.serverPort }, { port: 8080, serverPort: 8000 });
  });

  it("70B on a CPU pool fails saying why and what would work", () => {
    const sel = selectRuntime(decl({ model: llm70 }), cpu);
    assert.ok(!sel.ok);
    assert.equal(sel.errors[0]!.field, "computePool");
    assert.match(sel.errors[0]!.allowed, /GPU pool with ≥ 2×80 GB GPUs/);
    assert.match(sel.errors[0]!.reason ?? "", /needs 154 GB of GPU memory; pool "cpu" has no GPUs/);
  });

  it("70B on 4×L4 nodes fails: more GPUs than a node has", () => {
    const sel = selectRuntime(decl({ model: llm70, computePool: "gpu" }), l4x4);
    assert.ok(!sel.ok);
    assert.match(sel.errors[0]!.reason ?? "", /a node of pool "gpu" has 4×l4/);
  });

  it("asking for 16 GPUs on an 8-GPU node fails", () => {
    const sel = selectRuntime(decl({ model: llm70, computePool: "gpu", gpus: 16 }), h100);
    assert.ok(!sel.ok);
    assert.equal(sel.errors[0]!.field, "gpus");
    assert.equal(sel.errors[0]!.allowed, "a power of two from 2 to 8");
  });

  it("startup probe budget grows with the model", () => {
    const small = selectRuntime(decl({ model: { flavor: "sklearn", bytes: 2e6 } }), cpu);
    const big = selectRuntime(decl({ model: { flavor: "sklearn", bytes: 3e9 } }), poolPlacement("aws", "cpu", "cpu", "m7i.4xlarge"));
    assert.ok(small.ok && big.ok);
    assert.ok(big.plan.probes.startup.failureThreshold > small.plan.probes.startup.failureThreshold);
  });
});

describe("runtime selection: properties", () => {
  const dtypes: ModelDtype[] = ["float32", "float16", "bfloat16", "fp8", "int8", "int4"];
  it("vLLM plans always hold the weights, fit one node, and use a power-of-two TP", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 500 }).map((b) => b * 1e9), fc.constantFrom(...dtypes), fc.constantFrom(h100, l4x4), fc.integer({ min: 1, max: 1024 }),
      (params, dtype, pool, maxConc) => {
        const d = decl({ model: { flavor: "llm", parameterCount: params, dtype }, computePool: "gpu", concurrency: { min: 1, max: maxConc } });
        const sel = selectRuntime(d, pool);
        const need = weightBytes(d.model) * 1.1;
        const gpu = pool.gpu!;
        if (sel.ok) {
          assert.ok(sel.plan.gpus * gpu.memoryGiB * 2 ** 30 >= need);
          assert.ok(sel.plan.gpus <= gpu.perNode);
          assert.equal(sel.plan.gpus & (sel.plan.gpus - 1), 0);
          assert.ok(sel.plan.cpu <= pool.cpuPerNode && sel.plan.memoryGiB <= pool.memoryGiBPerNode);
          assert.ok(sel.plan.args.includes(String(maxConc)));
        } else {
          // Refused only when even a full node cannot hold the weights.
          assert.ok(minGpusFor(weightBytes(d.model), gpu.memoryGiB) > gpu.perNode || 2 ** Math.ceil(Math.log2(minGpusFor(weightBytes(d.model), gpu.memoryGiB))) > gpu.perNode);
          assert.match(sel.errors[0]!.allowed, /80 GB GPUs/);
        }
      }), { numRuns: 300 });
  });

  it("LLMs never land on CPU pools; classic ML never on GPU pools", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 400 }), fc.constantFrom(...dtypes), (b, dtype) => {
      assert.equal(selectRuntime(decl({ model: { flavor: "llm", parameterCount: b * 1e9, dtype } }), cpu).ok, false);
      assert.equal(selectRuntime(decl({ model: { flavor: "sklearn", bytes: b * 1e6 }, computePool: "gpu" }), h100).ok, false);
    }), { numRuns: 100 });
  });

  it("every plan requests resources and has all three probes", () => {
    fc.assert(fc.property(fc.constantFrom("sklearn", "xgboost", "onnx", "tensorrt", "pytorch"), fc.integer({ min: 1, max: 2000 }), (flavor, mb) => {
      const sel = selectRuntime(decl({ model: { flavor: flavor as "sklearn", bytes: mb * 1e6 } }), poolPlacement("aws", "cpu", "cpu", "m7i.4xlarge"));
      if (!sel.ok) return;
      assert.ok(sel.plan.cpu > 0 && sel.plan.memoryGiB > 0);
      assert.ok(sel.plan.probes.startup.failureThreshold * sel.plan.probes.startup.periodSeconds >= 120);
    }), { numRuns: 100 });
  });
});
