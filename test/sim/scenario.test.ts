import { defaultEngineConfig } from "../../controller/src/engine/config.ts";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadScenario, parseScenario, ScenarioError } from "../../controller/src/sim/scenario.ts";
import { BASE } from "./helpers.ts";

const cases = [
  { name: "negative rate", input: { traffic: [{ untilS: 60, qps: -5 }] }, want: ["traffic[0].qps: must be >= 0, got -5"] },
  {
    name: "misspelt field",
    input: { traffic: [{ untilS: 60, qsp: 5 }] },
    want: [
      `traffic[0]: unknown field "qsp"; allowed: untilS, qps, rampToQps, fromQps, sine, bursty, trace, noise, arrivals`,
    ],
  },
  {
    name: "two shapes in one segment",
    input: { traffic: [{ untilS: 60, qps: 5, sine: { base: 1, amplitude: 1, periodS: 10 } }] },
    want: ["traffic[0]: needs exactly one of qps, rampToQps, sine, bursty, trace; got qps, sine"],
  },
  {
    name: "segments out of order",
    input: { traffic: [{ untilS: 60, qps: 5 }, { untilS: 30, qps: 1 }] },
    want: ["traffic[1].untilS: must be greater than the previous segment's end (60), got 30"],
  },
  { name: "unknown model kind", input: { model: { kind: "gpu", serviceMs: 5 } }, want: [`model.kind: must be one of "cpu", "batching", "io", "llm", got "gpu"`] },
  { name: "model field missing for its kind", input: { model: { kind: "cpu", parallelism: 2 } }, want: [`model: missing required field "serviceMs"`] },
  {
    name: "model field of another kind",
    input: { model: { kind: "cpu", serviceMs: 5, maxInFlight: 3 } },
    want: [`model: field "maxInFlight" is not allowed for kind "cpu"; allowed: kind, serviceMs, parallelism, jitter, cost, cpuRequestCores, memoryPerInFlight`],
  },
  {
    name: "an engine override outside its range names the field",
    input: { engine: { scaleDownWindowMs: 10 } },
    want: [`engine.scaleDownWindowMs = 10 is not allowed; expected an integer in [5000, 3600000]`],
  },
  {
    name: "an unknown engine field",
    input: { engine: { downWindow: 30 } },
    want: [`engine.downWindow is not a known field; expected one of ${Object.keys(defaultEngineConfig).join(", ")}`],
  },
  { name: "wrong type", input: { durationS: "600" }, want: [`durationS: must be number, got "600"`] },
  {
    name: "inverted range",
    input: { endpoint: { concurrency: { min: 8, max: 4 }, replicas: { min: 1, max: 3 } } },
    want: ["endpoint.concurrency: min (8) must be <= max (4)"],
  },
  { name: "missing section field", input: { cluster: { podStartS: 10 } }, want: [`cluster: missing required field "maxPods"`] },
  { name: "no traffic", input: { traffic: [] }, want: ["traffic: must have at least 1 item(s)"] },
  { name: "zero SLO", input: { slo: { p99Ms: 0 } }, want: ["slo.p99Ms: must be > 0, got 0"] },
  {
    name: "an unknown pod signal",
    input: { signals: { podSignals: ["cpuUtil", "memUtil"] } },
    want: [`signals.podSignals[1]: must be one of "cpuUtil", "memoryUtil", "gpuUtil", "gpuMemoryUtil", "kvCacheUtil", "runtimeQueueLength", got "memUtil"`],
  },
  {
    name: "scale to zero is not simulated",
    input: { endpoint: { concurrency: { min: 1, max: 4 }, replicas: { min: 0, max: 3 } } },
    want: ["endpoint.replicas.min: must be >= 1 (scale to zero is not simulated), got 0"],
  },
];

for (const c of cases) {
  test(`scenario validation: ${c.name}`, () => {
    assert.throws(
      () => parseScenario({ ...BASE, ...c.input }, "/tmp", "s.json"),
      (e: unknown) => {
        assert.ok(e instanceof ScenarioError);
        assert.deepEqual(e.errors, c.want);
        assert.ok(e.message.startsWith("invalid scenario s.json:"));
        return true;
      },
    );
  });
}

test("scenario: defaults are filled in", () => {
  const sc = parseScenario(BASE, "/tmp");
  assert.equal(sc.gateway.maxQueue, 10000);
  assert.equal(sc.cluster.terminationGraceS, 30);
  assert.equal(sc.model.cpuRequestCores, 1);
  assert.equal(sc.endpoint.provisionedConcurrency, 0);
});

test("scenario: files that are not JSON are rejected with the parser's reason", () => {
  const dir = mkdtempSync(join(tmpdir(), "scn-"));
  const f = join(dir, "bad.json");
  writeFileSync(f, "{ nope");
  assert.throws(() => loadScenario(f), /invalid scenario .*bad\.json:\n {2}- not valid JSON: /);
});

test("scenario: every file in the library is valid", async () => {
  const { readdirSync } = await import("node:fs");
  const dir = new URL("../../controller/scenarios/", import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  assert.ok(files.length >= 8);
  for (const f of files) loadScenario(join(dir, f));
});
