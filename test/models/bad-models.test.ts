/**
 * Bad models through the whole program (offline evaluation): every bad endpoint is reported in one
 * DeclarationError, each naming the endpoint, the field, the value and what is allowed, before any resource is
 * registered; the good endpoints beside them are not blamed. A model too big for its pool is refused at preview
 * naming where its size came from (MLmodel `model_size_bytes`, config.json's parameters × dtype), the size and the
 * pool's limit.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { declareEndpoints, EXAMPLE_MODELS } from "../../infra/endpoints.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("bad models fail the plan together, before any resource", () => {
  const work = mkdtempSync(join(tmpdir(), "bad-models-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("missing MLmodel, unsupported flavor, unpinned requirements, no such directory, unknown model field, bad scheme", { timeout: 120_000 }, async () => {
    const dir = (name: string, files: Record<string, string>) => {
      const d = join(work, name);
      mkdirSync(d, { recursive: true });
      for (const [f, c] of Object.entries(files)) writeFileSync(join(d, f), c);
      return d;
    };
    const unpinned = join(work, "unpinned");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), unpinned, { recursive: true });
    writeFileSync(join(unpinned, "requirements.txt"), "mlflow==3.17.2\nscikit-learn\n");
    const ep = (name: string, model: EndpointDeclaration["model"]): EndpointDeclaration => ({ name, model, computePool: "cpu", concurrency: { min: 1, max: 2 }, replicas: { min: 1, max: 1 } });
    const bad = [
      ep("no-mlmodel", { uri: dir("weights-only", { "model.pkl": "x" }) }),
      ep("mleap", { uri: dir("mleap", { MLmodel: "flavors:\n  mleap: {mleap_version: 0.23}\n" }) }),
      ep("unpinned", { uri: unpinned }),
      ep("nowhere", { uri: join(work, "does-not-exist") }),
      ep("typo", { uri: EXAMPLE_MODELS.sklearn, flavour: "sklearn" } as never),
      ep("scheme", { uri: "hf://org/model" }),
    ];
    await assert.rejects(evaluateStack("local", { declare: (ctx) => [...declareEndpoints(ctx), ...bad] }), (e: Error & { errors?: { subject: string }[] }) => {
      assert.equal(e.name, "DeclarationError");
      const wants = [
        /endpoint "no-mlmodel": field "model.uri" has value ".*weights-only" \(.*weights-only has no MLmodel file\); allowed: an MLflow model/,
        /endpoint "mleap": field "model.uri \(MLmodel flavors\)" has value \["mleap"\] \(.* has no flavor the platform serves\); allowed: a model with one of the flavors onnx, transformers, sklearn/,
        /endpoint "unpinned": field "model.uri \(requirements\)" has value \["scikit-learn \(requirements.txt\)"\]/,
        /endpoint "nowhere": field "model.uri" has value ".*does-not-exist" \(.*does-not-exist: no such directory/,
        /endpoint "typo": field "model.flavour" has value "sklearn"; allowed: no such field \(allowed: uri, flavor, format, parameterCount, dtype, bytes\)/,
        /endpoint "scheme": field "model.uri" has value "hf:\/\/org\/model" \(the scheme "hf:" is not supported\)/,
      ];
      for (const re of wants) assert.match(e.message, re);
      assert.deepEqual([...new Set((e.errors ?? []).map((x) => x.subject))].sort(), ["mleap", "no-mlmodel", "nowhere", "scheme", "typo", "unpinned"]);
      return true;
    });
  });

  it("a model too big for its pool: the field its size came from, the size and the pool's limit", { timeout: 120_000 }, async () => {
    // An MLflow model whose MLmodel says 40 GB, on the laptop's 7 GiB node (its declared resources do not matter).
    const huge = join(work, "huge-sklearn");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), huge, { recursive: true });
    writeFileSync(join(huge, "MLmodel"), readFileSync(join(huge, "MLmodel"), "utf8").replace(/^model_size_bytes: \d+$/m, "model_size_bytes: 40000000000"));
    const ep = (name: string, uri: string, computePool = "cpu"): EndpointDeclaration => ({ name, model: { uri }, computePool, concurrency: { min: 1, max: 2 }, replicas: { min: 1, max: 1 }, resources: { cpu: 0.25, memoryGiB: 0.5 } });
    await assert.rejects(evaluateStack("local", { declare: (ctx) => [...declareEndpoints(ctx), ep("huge", huge)] }), (e: Error & { errors?: { subject: string; field: string; value: unknown }[] }) => {
      assert.equal(e.name, "DeclarationError");
      assert.match(e.message, /endpoint "huge": field "model\.uri \(MLmodel model_size_bytes\)" has value 40000000000 \(the model is 40\.0 GB \(.*huge-sklearn\); a pod needs ≥ 44\.95 GiB of memory to hold it\); allowed: ≤ \d+ bytes \(\d\.\d GB\): weights × 1\.2 \+ 0\.25 GiB within the \d+(\.\d+)? GiB of one node of pool "cpu", or a pool with bigger nodes/);
      assert.deepEqual((e.errors ?? []).map((x) => x.subject), ["huge"], "the example endpoints beside it are not blamed");
      return true;
    });
    // An LLM whose config.json makes it 405B parameters in bf16, on staging's GPU pool: its GPUs cannot hold it.
    const llm = join(work, "llm-405b");
    mkdirSync(llm);
    const config = JSON.parse(readFileSync(join(ROOT, "infra/offline-models/s3/autopilot-example-models/llama-3-8b-instruct/config.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(llm, "config.json"), JSON.stringify({ ...config, hidden_size: 16384, intermediate_size: 53248, num_hidden_layers: 126, num_attention_heads: 128 }));
    writeFileSync(join(llm, "model.safetensors"), "weights");
    await assert.rejects(evaluateStack("staging-aws", { declare: (ctx) => [...declareEndpoints(ctx), { name: "big-llm", model: { uri: llm }, computePool: "gpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 1 } }] }),
      /endpoint "big-llm": field "model\.uri \(config\.json parameters × dtype\)" has value \d{12} \(the model is \d+\.\d GB \(.*llm-405b\); it needs \d+ GB of GPU memory = \d+×\S+, but a node of pool "gpu" has \d+×\S+\); allowed: ≤ \d+ bytes/);
  });
});
