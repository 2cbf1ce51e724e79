import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  defaultEngineConfig,
  validateEndpointSpec,
  validateEngineConfig,
  type EngineConfig,
} from "../../controller/src/engine/config.ts";
import type { EndpointSpec } from "../../controller/src/engine/types.ts";
import { spec } from "./helpers.ts";

describe("validateEngineConfig", () => {
  it("accepts the defaults and returns a frozen copy with the issue's cadences", () => {
    const c = validateEngineConfig();
    assert.deepEqual(c, defaultEngineConfig);
    assert.ok(Object.isFrozen(c));
    assert.equal(c.sampleIntervalMs, 1000);
    assert.equal(c.horizontalIntervalMs, 5000);
    assert.equal(c.scaleUpWindowMs, 20_000);
    assert.equal(c.scaleDownWindowMs, 300_000);
    assert.equal(c.verticalIntervalMs, 30_000);
  });

  it("merges a partial config over the defaults", () => {
    const c = validateEngineConfig({ scaleDownWindowMs: 600_000 });
    assert.equal(c.scaleDownWindowMs, 600_000);
    assert.equal(c.horizontalIntervalMs, 5000);
  });

  const bad: { name: string; input: Partial<EngineConfig> | Record<string, unknown>; want: string }[] = [
    {
      name: "negative window",
      input: { scaleDownWindowMs: -5 },
      want: "engine config: scaleDownWindowMs = -5 is not allowed; expected an integer in [5000, 3600000]",
    },
    {
      name: "non-integer interval",
      input: { horizontalIntervalMs: 2500.5 },
      want: "engine config: horizontalIntervalMs = 2500.5 is not allowed; expected an integer in [1000, 60000]",
    },
    {
      name: "utilisation above 1",
      input: { targetUtilization: 1.2 },
      want: "engine config: targetUtilization = 1.2 is not allowed; expected a number in [0.3, 1]",
    },
    {
      name: "not a number",
      input: { maxRaiseFactor: "2" as unknown as number },
      want: 'engine config: maxRaiseFactor = "2" is not allowed; expected a number in [1.01, 10]',
    },
    {
      name: "NaN",
      input: { inflationCut: Number.NaN },
      want: "engine config: inflationCut = NaN is not allowed; expected a number in [1.01, 100]",
    },
    {
      name: "hysteresis band inverted",
      input: { kvCacheRaiseUtil: 0.95 },
      want: "engine config: kvCacheRaiseUtil = 0.95 is not allowed; expected at most kvCacheCutUtil (0.9)",
    },
    {
      name: "fast window longer than the up window",
      input: { scaleUpFastWindowMs: 30_000 },
      want: "engine config: scaleUpFastWindowMs = 30000 is not allowed; expected at most scaleUpWindowMs (20000)",
    },
    {
      name: "unknown field",
      input: { scaleDownWindow: 5 },
      want: "engine config: scaleDownWindow is not a known field; expected one of ",
    },
  ];
  for (const t of bad) {
    it(`rejects: ${t.name}`, () => {
      assert.throws(
        () => validateEngineConfig(t.input as Partial<EngineConfig>),
        (e: Error) => (t.name === "unknown field" ? e.message.startsWith(t.want) : e.message === t.want),
      );
    });
  }
});

describe("validateEndpointSpec", () => {
  it("accepts a sane spec", () => {
    assert.doesNotThrow(() => validateEndpointSpec(spec()));
    assert.doesNotThrow(() => validateEndpointSpec(spec({ scaleToZero: true, replicas: { min: 0, max: 3 } })));
  });
  const bad: { name: string; input: Partial<EndpointSpec>; want: string }[] = [
    {
      name: "concurrency min 0",
      input: { concurrency: { min: 0, max: 4 } },
      want: "endpoint spec: concurrency.min = 0 is not allowed; expected an integer in [1, 1000000]",
    },
    {
      name: "concurrency min above max",
      input: { concurrency: { min: 8, max: 4 } },
      want: "endpoint spec: concurrency.max = 4 is not allowed; expected an integer in [8, 1000000]",
    },
    {
      name: "zero replicas without scale-to-zero",
      input: { replicas: { min: 0, max: 4 } },
      want: "endpoint spec: replicas.min = 0 is not allowed; expected an integer in [1, 1000000]",
    },
    {
      name: "replicas min above max",
      input: { replicas: { min: 5, max: 2 } },
      want: "endpoint spec: replicas.max = 2 is not allowed; expected an integer in [5, 1000000]",
    },
    {
      name: "provisioned beyond what max replicas can hold",
      input: { concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 }, provisionedConcurrency: 9 },
      want: "endpoint spec: provisionedConcurrency = 9 is not allowed; expected an integer in [0, 8]",
    },
    {
      name: "provisioned with scale-to-zero",
      input: { scaleToZero: true, replicas: { min: 0, max: 4 }, provisionedConcurrency: 2 },
      want: "endpoint spec: provisionedConcurrency = 2 is not allowed with scaleToZero = true; expected 0",
    },
    {
      name: "unknown runtime",
      input: { runtime: "tgi" as EndpointSpec["runtime"] },
      want: 'endpoint spec: runtime = "tgi" is not allowed; expected one of mlflow, vllm, triton, custom',
    },
    {
      name: "initial target outside the range",
      input: { initialTargetConcurrency: 100 },
      want: "endpoint spec: initialTargetConcurrency = 100 is not allowed; expected an integer in [1, 64]",
    },
  ];
  for (const t of bad) {
    it(`rejects: ${t.name}`, () => {
      assert.throws(() => validateEndpointSpec(spec(t.input)), { message: t.want });
    });
  }
});
