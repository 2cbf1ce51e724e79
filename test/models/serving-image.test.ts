/**
 * Per-version serving images for MLflow-served models: the pure spec (base by the model's Python, its pinned
 * requirements, MLflow added when missing, content-addressed tag, refusals) and the offline plan (one
 * docker-build Image per distinct environment, pushed to the stack's registry, the Deployment's server image
 * referenced by digest; Triton, vLLM and custom endpoints keep their runtime's image).
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { DescribedModel } from "../../components/model/describe-model.ts";
import { PYTHON_BASES, servingImageSpec } from "../../components/model/serving-image.ts";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { declareEndpoints, EXAMPLE_MODELS } from "../../infra/endpoints.ts";
import { kubeObjects, type Obj, ofType } from "../infra/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const model = (over: Partial<DescribedModel> = {}): DescribedModel => ({
  flavor: "sklearn", bytes: 1, mlflowFlavors: ["sklearn"], manifest: "", digest: "sha256:x", version: "v1", resolvedFrom: "models:/m/1", files: [], reason: "", sizeFrom: { field: "model.uri (MLmodel model_size_bytes)", source: "models:/m/1" },
  requirements: { python: "3.11.7", requirements: ["numpy==2.4.6", "scikit-learn==1.9.1"], unpinned: [], source: "python_env.yaml" }, mlflowVersion: "3.17.2", ...over,
});

describe("servingImageSpec", () => {
  it("the model's Python base, its requirements and the MLflow that logged it; the tag follows the content", () => {
    const r = servingImageSpec("e", "model.uri", model());
    assert.ok(r.ok);
    assert.equal(r.spec.base, PYTHON_BASES["3.11"]);
    assert.deepEqual(r.spec.requirements, ["mlflow==3.17.2", "numpy==2.4.6", "scikit-learn==1.9.1"]);
    assert.match(r.spec.dockerfile, /^# syntax=docker\/dockerfile:1\nFROM docker\.io\/library\/python:3\.11\.\d+-slim-bookworm\n/);
    assert.match(r.spec.tag, /^py3\.11-[0-9a-f]{16}$/);
    const same = servingImageSpec("other", "model.uri", model({ version: "v9", resolvedFrom: "/dir" }));
    assert.ok(same.ok && same.spec.tag === r.spec.tag, "identical environments share one tag");
    const other = servingImageSpec("e", "model.uri", model({ requirements: { python: "3.11.7", requirements: ["scikit-learn==1.8.0"], unpinned: [], source: "requirements.txt" } }));
    assert.ok(other.ok && other.spec.tag !== r.spec.tag);
    const pinned = servingImageSpec("e", "model.uri", model(), { "python3.11": `sha256:${"a".repeat(64)}` });
    assert.ok(pinned.ok && pinned.spec.base.endsWith(`@sha256:${"a".repeat(64)}`));
  });
  it("refuses a model without a Python version, an unsupported Python, no MLflow version", () => {
    const { mlflowVersion: _v, ...noMlflow } = model({ requirements: { python: "3.11", requirements: ["numpy==2"], unpinned: [], source: "" } });
    const cases: [DescribedModel, RegExp][] = [
      [model({ requirements: { requirements: [], unpinned: [], source: "" } }), /names its Python version/],
      [model({ requirements: { python: "2.7.18", requirements: [], unpinned: [], source: "" } }), /^Python 3\.9, 3\.10, 3\.11, 3\.12, 3\.13$/],
      [noMlflow, /pin its MLflow version/],
    ];
    for (const [m, re] of cases) {
      const r = servingImageSpec("e", "model.uri", m);
      assert.equal(r.ok, false);
      assert.match((r as { error: { allowed: string } }).error.allowed, re);
    }
  });
});

describe("offline plan: serving images", () => {
  const work = mkdtempSync(join(tmpdir(), "serving-image-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("one image per distinct environment, pushed to the registry, referenced by digest; other runtimes keep theirs", { timeout: 180_000 }, async () => {
    const older = join(work, "older-sklearn");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), older, { recursive: true });
    writeFileSync(join(older, "requirements.txt"), readFileSync(join(older, "requirements.txt"), "utf8").replace(/scikit-learn==[0-9.]+/, "scikit-learn==1.8.0"));
    const extra: EndpointDeclaration[] = [
      { name: "same-env", model: { uri: EXAMPLE_MODELS.sklearn }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 } },
      { name: "older-env", model: { uri: older }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 } },
    ];
    const ev = await evaluateStack("staging-aws", { overrides: { exampleCustomImage: "ghcr.io/acme/support-agent:1.4.2" }, declare: (ctx) => [...declareEndpoints(ctx), ...extra] });
    const images = ofType(ev, "docker-build:index:Image").filter((r) => String(r.name).includes("serving-images"));
    assert.equal(images.length, 2, "fraud-classifier and same-env share an image; older-env has its own");
    for (const img of images) {
      assert.equal(img.inputs.push, true);
      assert.match(String((img.inputs.dockerfile as Obj).inline), /RUN pip install/);
    }
    assert.ok(images.some((i) => String((i.inputs.dockerfile as Obj).inline).includes("'scikit-learn==1.8.0'")));
    const deps = kubeObjects(ev).map((x) => x.obj).filter((o) => o.kind === "Deployment");
    const server = (ep: string) => String((deps.find((d) => d.metadata.namespace === `ep-${ep}`)!.spec.template.spec.containers as Obj[]).find((c) => c.name === "server")!.image);
    assert.match(server("fraud-classifier"), /\.dkr\.ecr\..*\/autopilot-serving-repo@sha256:[0-9a-f]{64}$/);
    assert.equal(server("same-env"), server("fraud-classifier"));
    assert.notEqual(server("older-env"), server("fraud-classifier"));
    assert.match(server("text-embedder"), /tritonserver/);
    assert.match(server("llm-chat"), /vllm/);
    assert.equal(server("support-agent"), "ghcr.io/acme/support-agent:1.4.2", "a custom runtime runs its own image, unbuilt");
  });

  it("a model whose Python the bases do not cover fails the plan naming it", { timeout: 120_000 }, async () => {
    const py27 = join(work, "py27");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), py27, { recursive: true });
    writeFileSync(join(py27, "python_env.yaml"), readFileSync(join(py27, "python_env.yaml"), "utf8").replace(/^python: .*$/m, "python: 2.7.18"));
    await assert.rejects(evaluateStack("local", { declare: (ctx) => [...declareEndpoints(ctx), { name: "old-python", model: { uri: py27 }, computePool: "cpu", concurrency: { min: 1, max: 2 }, replicas: { min: 1, max: 1 }, resources: { cpu: 0.25, memoryGiB: 0.5 } }] }),
      /endpoint "old-python": field "model.uri" has value "2\.7\.18" \(.*py27 was logged with Python 2\.7\.18\); allowed: Python 3\.9, 3\.10, 3\.11, 3\.12, 3\.13/);
  });
});
