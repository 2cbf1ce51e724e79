/**
 * The pure model-reference modules, as tables: URI forms and refusals, what MLmodel / requirements / config.json
 * say, the manifest and version labels, and describeModel's flavor, size and error choices.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { describeModel, type ModelListing } from "../../components/model/describe-model.ts";
import { manifestDigest, manifestText, parseManifest, versionLabel } from "../../components/model/manifest.ts";
import { parseMlmodel, parsePythonRequirements, parseTransformersConfig, platformFlavor } from "../../components/model/model-files.ts";
import { parseModelUri } from "../../components/model/model-uri.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SK = join(ROOT, "examples/models/iris-sklearn");

describe("parseModelUri", () => {
  const ok: [string, Record<string, unknown>][] = [
    ["models:/iris/3", { kind: "registry-version", name: "iris", version: 3 }],
    ["models:/fraud model@champion", { kind: "registry-alias", name: "fraud model", alias: "champion" }],
    [`runs:/${"a".repeat(32)}/model`, { kind: "run", runId: "a".repeat(32), path: "model" }],
    ["s3://bucket-1/models/iris/", { kind: "s3", bucket: "bucket-1", prefix: "models/iris/" }],
    ["gs://b.example/x", { kind: "gcs", bucket: "b.example", prefix: "x/" }],
    ["examples/models/iris-sklearn", { kind: "local", path: "examples/models/iris-sklearn" }],
    ["file:///tmp/m", { kind: "local", path: "/tmp/m" }],
  ];
  for (const [uri, want] of ok) {
    it(`accepts ${uri}`, () => {
      const p = parseModelUri(uri);
      assert.ok(p.ok, JSON.stringify(p));
      for (const [k, v] of Object.entries(want)) assert.deepEqual((p.ref as unknown as Record<string, unknown>)[k], v, k);
    });
  }
  const bad: [unknown, RegExp][] = [
    ["models:/iris", /needs a version or an alias/],
    ["models:/iris/Production", /stages such as Production are not supported: use an alias/],
    ["models:/iris@bad alias", /is not an alias/],
    ["runs:/xyz/model", /is not a run id/],
    [`runs:/${"a".repeat(32)}`, /needs the model's artifact path/],
    ["hf://meta-llama/x", /the scheme "hf:" is not supported/],
    ["https://example.com/m", /the scheme "https:" is not supported/],
    ["s3://B/x", /not a bucket name/],
    ["", /required/],
    [42, /required/],
  ];
  for (const [uri, re] of bad) it(`refuses ${JSON.stringify(uri)}`, () => {
    const p = parseModelUri(uri);
    assert.equal(p.ok, false);
    assert.match((p as { reason: string }).reason, re);
  });
});

describe("model files", () => {
  it("MLmodel of the shipped sklearn example: flavors, loader, size, env files", () => {
    const m = parseMlmodel(readFileSync(join(SK, "MLmodel"), "utf8"));
    assert.deepEqual(m.flavors, ["python_function", "sklearn"]);
    assert.equal(m.pyfuncLoader, "mlflow.sklearn");
    assert.equal(m.modelSizeBytes, 11482);
    assert.equal(m.hasSignature, true);
    assert.deepEqual(m.envFiles, { virtualenv: "python_env.yaml", conda: "conda.yaml" });
    assert.equal(platformFlavor(m.flavors), "sklearn");
  });
  it("flavor preference: onnx over python_function; keras → tensorflow; pyfunc only → pyfunc; none served → undefined", () => {
    assert.equal(platformFlavor(["onnx", "python_function"]), "onnx");
    assert.equal(platformFlavor(["keras", "python_function"]), "tensorflow");
    assert.equal(platformFlavor(["python_function"]), "pyfunc");
    assert.equal(platformFlavor(["mleap"]), undefined);
  });
  it("not an MLmodel", () => {
    assert.throws(() => parseMlmodel("just: text\n"), /no `flavors` mapping/);
    assert.throws(() => parseMlmodel("flavors: [\n"), /not valid YAML/);
  });
  it("requirements: python_env.yaml's -r requirements.txt, normalized and sorted; python version", () => {
    const read = (f: string) => { try { return readFileSync(join(SK, f), "utf8"); } catch { return undefined; } };
    const r = parsePythonRequirements(read, parseMlmodel(read("MLmodel")!))!;
    assert.equal(r.python, "3.11.7");
    assert.equal(r.source, "python_env.yaml");
    assert.deepEqual(r.requirements, ["mlflow==3.17.2", "numpy==2.4.6", "pandas==3.1.1", "scikit-learn==1.9.1", "scipy==1.17.1", "skops==0.16.0"]);
    assert.deepEqual(r.unpinned, []);
  });
  it("requirements: conda.yaml's pip section; unpinned and unresolvable lines are reported", () => {
    const files: Record<string, string> = { "conda.yaml": "dependencies:\n- python=3.10.4\n- pip:\n  - Scikit_Learn==1.5.0\n  - numpy>=1.20\n  - git+https://example.com/x.git\n  - -e ./local\n" };
    const r = parsePythonRequirements((f) => files[f])!;
    assert.equal(r.python, "3.10.4");
    assert.deepEqual(r.requirements, ["scikit-learn==1.5.0"]);
    assert.deepEqual(r.unpinned, ["numpy>=1.20 (conda.yaml)", "git+https://example.com/x.git (conda.yaml)", "-e ./local (conda.yaml: pip options are not allowed in a serving image's requirements)"]);
  });
  it("config.json: Llama 3 8B and 70B parameter counts and dtype; BERT-base; not JSON", () => {
    const c8 = parseTransformersConfig(readFileSync(join(ROOT, "infra/offline-models/s3/autopilot-example-models/llama-3-8b-instruct/config.json"), "utf8"));
    assert.equal(c8.parameterCount, 8_030_261_248);
    assert.equal(c8.dtype, "bfloat16");
    assert.equal(c8.generative, true);
    const c70 = parseTransformersConfig(readFileSync(join(ROOT, "infra/offline-models/gs/autopilot-example-models/llama-3-70b-instruct/config.json"), "utf8"));
    assert.equal(c70.parameterCount, 70_553_706_496);
    const bert = parseTransformersConfig(JSON.stringify({ architectures: ["BertModel"], hidden_size: 768, num_hidden_layers: 12, intermediate_size: 3072, num_attention_heads: 12, vocab_size: 30522, max_position_embeddings: 512, type_vocab_size: 2 }));
    assert.equal(bert.generative, false);
    assert.equal(bert.parameterCount, 109_482_240); // bert-base-uncased: 109.48M
    assert.throws(() => parseTransformersConfig("{"), /config.json is not valid JSON/);
  });
});

describe("manifest and version labels", () => {
  const files = [{ path: "b.bin", bytes: 1, sha256: "b".repeat(64) }, { path: "MLmodel", bytes: 2, sha256: "a".repeat(64) }];
  it("sorted sha256sum lines; digest is sha256 of the text; round trip", () => {
    const text = manifestText(files);
    assert.equal(text, `${"a".repeat(64)}  MLmodel\n${"b".repeat(64)}  b.bin\n`);
    assert.equal(manifestDigest(text), `sha256:${createHash("sha256").update(text).digest("hex")}`);
    assert.deepEqual(parseManifest(text), [{ sha256: "a".repeat(64), path: "MLmodel" }, { sha256: "b".repeat(64), path: "b.bin" }]);
    assert.equal(parseManifest("nonsense\n"), undefined);
  });
  it("labels: v<N> for registry versions, r-<run> for runs, c-<digest> otherwise", () => {
    const d = `sha256:${"c".repeat(64)}`;
    assert.equal(versionLabel({ kind: "registry-alias", uri: "", name: "m", alias: "a" }, 7, d), "v7");
    assert.equal(versionLabel({ kind: "run", uri: "", runId: "0123456789abcdef0123456789abcdef", path: "m" }, undefined, d), "r-0123456789ab");
    assert.equal(versionLabel({ kind: "local", uri: "", path: "x" }, undefined, d), "c-cccccccccccc");
  });
});

describe("describeModel", () => {
  const listing = (texts: Record<string, string>, extra: { path: string; bytes: number }[] = []): ModelListing => ({
    files: [...Object.keys(texts).map((p) => ({ path: p, bytes: texts[p]!.length, sha256: "0".repeat(64) })), ...extra.map((e) => ({ ...e, sha256: "1".repeat(64) }))],
    text: (p) => texts[p], resolvedFrom: "/m",
  });
  const ref = { kind: "local" as const, uri: "./m", path: "./m" };
  const sk = readFileSync(join(SK, "MLmodel"), "utf8");
  it("sklearn from MLmodel: flavor, model_size_bytes, requirements, c- label", () => {
    const d = describeModel("e", "model.uri", { uri: "./m" }, ref, listing({ MLmodel: sk, "requirements.txt": "scikit-learn==1.9.1\n" }));
    assert.ok(d.ok);
    assert.equal(d.model.flavor, "sklearn");
    assert.equal(d.model.bytes, 11482);
    assert.deepEqual(d.model.requirements?.requirements, ["scikit-learn==1.9.1"]);
    assert.match(d.model.version, /^c-[0-9a-f]{12}$/);
    assert.match(d.model.reason, /flavor sklearn from MLmodel \(python_function, sklearn\)/);
  });
  it("overrides win: flavor, bytes", () => {
    const d = describeModel("e", "model.uri", { uri: "./m", flavor: "custom", bytes: 5 }, ref, listing({ MLmodel: sk }));
    assert.ok(d.ok);
    assert.equal(d.model.flavor, "custom");
    assert.equal(d.model.bytes, 5);
  });
  it("a Hugging Face causal LM without MLmodel is an llm sized by config.json", () => {
    const cfg = readFileSync(join(ROOT, "infra/offline-models/s3/autopilot-example-models/llama-3-8b-instruct/config.json"), "utf8");
    const d = describeModel("e", "model.uri", { uri: "./m" }, ref, listing({ "config.json": cfg }, [{ path: "model.safetensors", bytes: 16e9 }]));
    assert.ok(d.ok);
    assert.equal(d.model.flavor, "llm");
    assert.equal(d.model.parameterCount, 8_030_261_248);
    assert.equal(d.model.dtype, "bfloat16");
    assert.equal(d.model.bytes, 16e9 + cfg.length);
  });
  const errs: [string, Parameters<typeof describeModel>[2], ModelListing, RegExp][] = [
    ["missing MLmodel", { uri: "./m" }, listing({ "model.pkl": "x" }), /field "model.uri" has value "\.\/m" \(\/m has no MLmodel file\); allowed: an MLflow model/],
    ["unsupported flavor", { uri: "./m" }, listing({ MLmodel: "flavors:\n  mleap: {}\n" }), /field "model.uri \(MLmodel flavors\)" has value \["mleap"\] \(\/m has no flavor the platform serves\); allowed: a model with one of the flavors onnx, transformers, sklearn, xgboost, lightgbm, pytorch, tensorflow, keras, python_function/],
    ["unknown flavor override", { uri: "./m", flavor: "keras" as never }, listing({ MLmodel: sk }), /field "model.flavor" has value "keras"; allowed: sklearn, xgboost/],
    ["unpinned requirements", { uri: "./m" }, listing({ MLmodel: sk, "requirements.txt": "scikit-learn\nnumpy==2\n" }), /field "model.uri \(requirements\)" has value \["scikit-learn \(requirements.txt\)"\] \(\/m: a serving image cannot be built reproducibly from these\); allowed: requirements pinned/],
    ["broken MLmodel", { uri: "./m" }, listing({ MLmodel: "flavors: [" }), /allowed: a readable MLflow model/],
    ["empty", { uri: "./m" }, listing({}), /nothing found at \/m/],
  ];
  for (const [name, over, l, re] of errs) it(`refuses: ${name}`, () => {
    const d = describeModel("e", "model.uri", over, ref, l);
    assert.equal(d.ok, false);
    const text = (d as { errors: { field: string; value: unknown; allowed: string; reason?: string }[] }).errors
      .map((e) => `field "${e.field}" has value ${JSON.stringify(e.value)}${e.reason !== undefined ? ` (${e.reason})` : ""}; allowed: ${e.allowed}`).join("\n");
    assert.match(text, re);
  });
});

describe("the shipped tiny LLM (examples/models/tiny-llm)", () => {
  it("config.json's parameter count is the safetensors file's: every Llama weight present, BF16, tied embeddings", async () => {
    const { resolveEndpoints } = await import("../../components/model/resolve-endpoints.ts");
    const dir = join(ROOT, "examples/models/tiny-llm");
    const buf = readFileSync(join(dir, "model.safetensors"));
    const headerBytes = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + headerBytes).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const tensors = Object.entries(header).filter(([k]) => k !== "__metadata__");
    const elements = tensors.reduce((s, [, t]) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    assert.ok(tensors.every(([, t]) => t.dtype === "BF16" && t.data_offsets[1] - t.data_offsets[0] === 2 * t.shape.reduce((a, b) => a * b, 1)));
    assert.equal(8 + headerBytes + Math.max(...tensors.map(([, t]) => t.data_offsets[1])), buf.length, "the data section ends the file");
    const layer = (i: number) => ["input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"].map((n) => `model.layers.${i}.${n}.weight`);
    assert.deepEqual(tensors.map(([k]) => k).sort(), ["model.embed_tokens.weight", "model.norm.weight", ...layer(0), ...layer(1)].sort());
    const { endpoints } = await resolveEndpoints([{ name: "llm", model: { uri: dir }, computePool: "gpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 1 } }]);
    assert.deepEqual({ ...endpoints[0]!.model, sizeFrom: undefined }, { flavor: "llm", bytes: readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0), parameterCount: elements, dtype: "bfloat16", sizeFrom: undefined });
  });
});
