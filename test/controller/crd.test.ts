import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ModelRef, RuntimeSelection } from "../../controller/src/contract/crd/types.ts";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import {
  resolveRuntime,
  servingEndpointCrd,
  validateServingEndpoint,
  type OpenApiSchema,
} from "../../controller/src/contract/crd/index.ts";
import { toEndpointSpec } from "../../controller/src/engine/from-crd.ts";
import { BAD_SERVING_ENDPOINTS, base, GOOD_SERVING_ENDPOINTS } from "./crd-cases.ts";

describe("validateServingEndpoint: good objects", () => {
  const cases = GOOD_SERVING_ENDPOINTS;
  for (const c of cases) {
    it(c.name, () => {
      const got = validateServingEndpoint(c.input);
      assert.equal(got.ok, true, got.ok ? "" : got.errors.map((e) => e.message).join("\n"));
    });
  }

  it("applies schema defaults without changing the input", () => {
    const input = structuredClone(base);
    const got = validateServingEndpoint(input);
    assert.ok(got.ok);
    assert.deepEqual(got.value.spec.runtime, { kind: "auto" });
    assert.equal(got.value.spec.provisionedConcurrency, 0);
    assert.equal(got.value.spec.scaleToZero, false);
    assert.equal(got.value.spec.replicas.desired, 0);
    assert.deepEqual(input, base);
  });
});

describe("validateServingEndpoint: bad objects name the field", () => {
  const cases = BAD_SERVING_ENDPOINTS;
  for (const c of cases) {
    it(c.name, () => {
      const got = validateServingEndpoint(c.input);
      assert.equal(got.ok, false);
      if (!got.ok) assert.deepEqual(got.errors.map((e) => e.message), c.want);
    });
  }
});

describe("servingEndpointCrd()", () => {
  const crd = servingEndpointCrd();

  it("is a valid apiextensions.k8s.io/v1 CustomResourceDefinition (official schema, kubernetes-models)", () => {
    const model = new CustomResourceDefinition(structuredClone(crd) as never);
    assert.doesNotThrow(() => model.validate());
  });

  it("has status and scale subresources and the printer columns", () => {
    const v = crd.spec.versions[0];
    assert.ok(v);
    assert.equal(crd.metadata.name, "servingendpoints.serving.autopilot.dev");
    assert.deepEqual(v.subresources.status, {});
    assert.deepEqual(v.subresources.scale, {
      specReplicasPath: ".spec.replicas.desired",
      statusReplicasPath: ".status.replicas",
      labelSelectorPath: ".status.selector",
    });
    assert.deepEqual(
      v.additionalPrinterColumns.filter((c) => c.priority === undefined).map((c) => [c.name, c.jsonPath]),
      [
        ["Ready", '.status.conditions[?(@.type=="Ready")].status'],
        ["Pods", ".status.readyReplicas"],
        ["Desired", ".status.desiredReplicas"],
        ["Target", ".status.targetConcurrency"],
        ["QPS", ".status.observedQps"],
        ["Age", ".metadata.creationTimestamp"],
      ],
    );
  });

  it("is structural: every node has a type and every spec/status field a description (kubectl explain)", () => {
    const missing: string[] = [];
    const walk = (s: OpenApiSchema, path: string): void => {
      if (s.type === undefined) missing.push(`${path}: type`);
      if (path.startsWith(".spec") || path.startsWith(".status")) if (!s.description) missing.push(`${path}: description`);
      for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    const schema = crd.spec.versions[0]?.schema.openAPIV3Schema;
    assert.ok(schema);
    walk(schema, "");
    assert.deepEqual(missing, []);
  });

  it("every CEL rule names a spec (or metadata) field in its message and bounds the lists it iterates", () => {
    const bad: string[] = [];
    const walk = (s: OpenApiSchema, path: string): void => {
      for (const r of s["x-kubernetes-validations"] ?? []) {
        if (!/(spec|metadata)\.[a-zA-Z]/.test(r.message)) bad.push(`${path}: ${r.message}`);
        if (s.type === "array" && s.maxItems === undefined) bad.push(`${path}: no maxItems`);
      }
      for (const [k, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema, "");
    assert.deepEqual(bad, []);
  });
});

describe("toEndpointSpec / resolveRuntime", () => {
  const cases: { name: string; input: [ModelRef, RuntimeSelection | undefined]; want: string }[] = [
    { name: "sklearn → mlflow", input: [{ uri: "s3://m", flavor: "sklearn" }, undefined], want: "mlflow" },
    { name: "llm → vllm", input: [{ uri: "s3://m", flavor: "llm" }, { kind: "auto" }], want: "vllm" },
    {
      name: "small transformers → mlflow",
      input: [{ uri: "s3://m", flavor: "transformers", size: { parameterCount: 110_000_000, dtype: "float32" } }, undefined],
      want: "mlflow",
    },
    { name: "transformers of unknown size → vllm", input: [{ uri: "s3://m", flavor: "transformers" }, undefined], want: "vllm" },
    { name: "onnx → triton", input: [{ uri: "s3://m", flavor: "onnx" }, undefined], want: "triton" },
    { name: "explicit wins", input: [{ uri: "s3://m", flavor: "onnx" }, { kind: "custom", image: "x" }], want: "custom" },
  ];
  for (const c of cases) it(c.name, () => assert.equal(resolveRuntime(...c.input), c.want));

  it("maps a defaulted spec to the engine spec", () => {
    const got = validateServingEndpoint(base);
    assert.ok(got.ok);
    assert.deepEqual(toEndpointSpec(got.value.spec), {
      concurrency: { min: 1, max: 8 },
      replicas: { min: 1, max: 10 },
      provisionedConcurrency: 0,
      scaleToZero: false,
      runtime: "mlflow",
    });
  });

  it("maps the scale subresource's spec.replicas.desired to the engine's floor, and leaves replicas.min as declared", () => {
    const withDesired = structuredClone(base) as { spec: { replicas: Record<string, number> } };
    withDesired.spec.replicas = { min: 1, max: 10, desired: 4 };
    const got = validateServingEndpoint(withDesired);
    assert.ok(got.ok);
    const engineSpec = toEndpointSpec(got.value.spec);
    assert.deepEqual(engineSpec.replicas, { min: 1, max: 10 });
    assert.equal(engineSpec.scaleSubresourceReplicas, 4);
  });
});
