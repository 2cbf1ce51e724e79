/**
 * Bad models through the whole program (offline evaluation): every bad endpoint is reported in one
 * DeclarationError, each naming the endpoint, the field, the value and what is allowed, before any resource is
 * registered; the good endpoints beside them are not blamed.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
});
