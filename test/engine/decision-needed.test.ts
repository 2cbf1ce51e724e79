import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, decisionNeeded } from "../../controller/src/engine/index.ts";
import type { DecisionInput } from "../../controller/src/engine/types.ts";
import { laws, memory, runPlant, sample, samples, spec, state } from "./helpers.ts";

const now = 600_000;
const steady = samples(now - 40_000, now, () => ({ qps: 1000, serviceMs: 5, readyPods: 4 }));
const ran = memory(0, { lastHorizontalAtMs: now - 1000, lastVerticalAtMs: now - 1000 });
const regular = now + 4000;

describe("decisionNeeded: when a call of decide can change anything", () => {
  const table: { name: string; input: DecisionInput; regularRunAtMs: number; want: boolean }[] = [
    { name: "no memory yet (first call, restart)", input: { spec: spec(), state: state(), history: steady, memory: undefined, nowMs: now }, regularRunAtMs: regular, want: true },
    { name: "steady load between regular runs", input: { spec: spec(), state: state(), history: steady, memory: ran, nowMs: now }, regularRunAtMs: regular, want: false },
    { name: "a regular run is due", input: { spec: spec(), state: state(), history: steady, memory: ran, nowMs: now }, regularRunAtMs: now, want: true },
    {
      name: "the newest sample is a step in arrivals",
      input: { spec: spec(), state: state(), history: [...steady.slice(0, -1), sample(now, { qps: 5000, serviceMs: 5, readyPods: 4 })], memory: ran, nowMs: now },
      regularRunAtMs: regular,
      want: true,
    },
    {
      name: "requests are queued",
      input: { spec: spec(), state: state(), history: [...steady.slice(0, -1), sample(now, { qps: 1000, serviceMs: 5, readyPods: 4, queued: 3 })], memory: ran, nowMs: now },
      regularRunAtMs: regular,
      want: true,
    },
    {
      name: "a request reaches an endpoint at zero replicas",
      input: {
        spec: spec({ scaleToZero: true, replicas: { min: 0, max: 10 } }),
        state: state({ desiredReplicas: 0, readyReplicas: 0 }),
        history: [sample(now, { qps: 1, serviceMs: 5, readyPods: 0, inFlight: 0 })],
        memory: ran,
        nowMs: now,
      },
      regularRunAtMs: regular,
      want: true,
    },
    {
      name: "an idle endpoint at zero replicas",
      input: {
        spec: spec({ scaleToZero: true, replicas: { min: 0, max: 10 } }),
        state: state({ desiredReplicas: 0, readyReplicas: 0 }),
        history: [sample(now, { qps: 0, serviceMs: 5, readyPods: 0 })],
        memory: ran,
        nowMs: now,
      },
      regularRunAtMs: regular,
      want: false,
    },
    { name: "target outside the spec's range (spec edited)", input: { spec: spec({ concurrency: { min: 1, max: 4 } }), state: state(), history: steady, memory: ran, nowMs: now }, regularRunAtMs: regular, want: true },
    { name: "replicas above the spec's maximum", input: { spec: spec({ replicas: { min: 1, max: 3 } }), state: state(), history: steady, memory: ran, nowMs: now }, regularRunAtMs: regular, want: true },
    { name: "below the provisioned-concurrency floor", input: { spec: spec({ provisionedConcurrency: 64 }), state: state(), history: steady, memory: ran, nowMs: now }, regularRunAtMs: regular, want: true },
  ];
  for (const { name, input, regularRunAtMs, want } of table) {
    it(name, () => assert.equal(decisionNeeded(input, regularRunAtMs), want));
  }
  it("the same answers from the history's atMs/arrivals columns (what the driver keeps beside it)", () => {
    for (const { name, input, regularRunAtMs, want } of table) {
      const columns = { atMs: input.history.map((x) => x.atMs), arrivals: input.history.map((x) => x.arrivals) };
      assert.equal(decisionNeeded(input, regularRunAtMs, undefined, columns), want, name);
    }
    // columns that do not line up with the history are not used
    const stepped = table[3]!;
    assert.equal(decisionNeeded(stepped.input, stepped.regularRunAtMs, undefined, { atMs: [], arrivals: [] }), true);
  });

  it("a skipped call is one decide would answer NotDue on both axes without a change", () => {
    const d = decide({ spec: spec(), state: state(), history: steady, memory: ran, nowMs: now });
    assert.equal(d.replicasReason, "NotDue");
    assert.equal(d.concurrencyReason, "NotDue");
    assert.equal(d.desiredReplicas, 4);
    assert.equal(d.targetConcurrency, 8);
  });
});

describe("gated calls give the decisions of calling decide every second", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const noise = Array.from({ length: 1300 }, () => 0.9 + 0.2 * rnd());
  const shapes: { name: string; qps: (tS: number) => number }[] = [
    { name: "step spike 10 → 10K", qps: (t) => (t < 60 || t > 420 ? 10 : 10_000) },
    { name: "bursts: 20× for 30 s every 3 min", qps: (t) => (t % 180 < 30 ? 8000 : 400) },
    { name: "sine with noise", qps: (t) => (3000 + 2500 * Math.sin((2 * Math.PI * t) / 600)) * (noise[t] ?? 1) },
    { name: "steady noisy", qps: (t) => 2000 * (noise[t] ?? 1) },
    { name: "decline then a jump back", qps: (t) => (t < 300 ? 5000 : t < 320 ? 500 : t < 700 ? 3000 : 200) },
  ];
  for (const shape of shapes) {
    it(shape.name, () => {
      const run = (gate: boolean) =>
        runPlant({ spec: spec(), qps: shape.qps, law: laws.cpu(5, 2), podStartS: 10, initialReplicas: 1, initialTarget: 8, durationS: 1200, gate }).map(
          (t) => `${t.tS}:${t.desired}/${t.target}`,
        );
      assert.deepEqual(run(true), run(false));
    });
  }

  it("and skips most calls under steady load", () => {
    const calls = (gate: boolean) =>
      runPlant({ spec: spec(), qps: (t) => 2000 * (noise[t] ?? 1), law: laws.cpu(5, 2), podStartS: 10, initialReplicas: 1, initialTarget: 8, durationS: 1200, gate }).filter(
        (t) => t.decision !== undefined,
      ).length;
    const gated = calls(true);
    const every = calls(false);
    assert.equal(every, 1200);
    assert.ok(gated < every / 3, `${gated} gated calls of ${every}`);
  });
});
