import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, validateEngineConfig } from "../../controller/src/engine/index.ts";
import { efficientConcurrency } from "../../controller/src/engine/profile.ts";
import type { ConcurrencyReason, DecisionInput } from "../../controller/src/engine/types.ts";
import { memory, points, samples, spec, state, type Load } from "./helpers.ts";

const now = 600_000;
/** An engine that has run for 10 min; the vertical axis is due now. */
const ran = (over: Parameters<typeof memory>[1] = {}) =>
  memory(0, {
    lastVerticalAtMs: now - 30_000,
    lastHorizontalAtMs: now - 1000,
    baselineServiceMs: 5,
    // learned profile: 5 ms at 1 request in flight per pod
    profile: points([1, 5]),
    ...over,
  });
const window = (l: Load) => samples(now - 300_000, now, () => l);
/** 4 pods at per-pod in-flight x with service time s (arrivals from Little's law). */
const at = (x: number, s: number, extra: Partial<Load> = {}): Load => ({
  qps: (4 * x * 1000) / s,
  serviceMs: s,
  readyPods: 4,
  inFlight: 4 * x,
  ...extra,
});

const table: { name: string; input: DecisionInput; want: { target: number; reason: ConcurrencyReason } }[] = [
  {
    name: "latency inflation cuts toward the knee, at most halving per cycle",
    // 7.2 in flight at 18 ms vs 5 ms alone: the knee is 7.2 / 3.6 = 2; the cap allows 8 → 4
    input: { spec: spec(), state: state(), history: window(at(7.2, 18, { pod: { cpuUtil: 1 } })), memory: ran(), nowMs: now },
    want: { target: 4, reason: "StressCut" },
  },
  {
    name: "pod p99 near the SLO cuts",
    input: { spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { p99Ms: 90, p50Ms: 80 })), memory: ran(), nowMs: now },
    // p99 at 90% of the SLO: 7 × 0.75 / 0.9 = 5.8
    want: { target: 5, reason: "StressCut" },
  },
  {
    name: "a heavy tail is not a cut by default (the p99.9 estimate is opt-in)",
    input: { spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { p99Ms: 60, p50Ms: 10 })), memory: ran(), nowMs: now },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "errors cut",
    input: { spec: spec(), state: state(), history: window(at(7, 5, { errors: 100 })), memory: ran(), nowMs: now },
    want: { target: 5, reason: "StressCut" },
  },
  {
    name: "vLLM: pegged GPU utilisation and pre-allocated GPU memory are not stress",
    input: {
      spec: spec({ runtime: "vllm", sloP99Ms: 10_000 }),
      state: state(),
      history: window(at(4, 60, { pod: { gpuUtil: 1, gpuMemoryUtil: 0.99, kvCacheUtil: 0.3 } })),
      memory: ran({ baselineServiceMs: 55, profile: points([1, 55]) }),
      nowMs: now,
    },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "vLLM: KV-cache over its threshold cuts",
    input: {
      spec: spec({ runtime: "vllm", sloP99Ms: 10_000 }),
      state: state(),
      history: window(at(7.5, 60, { pod: { kvCacheUtil: 0.95 } })),
      memory: ran({ baselineServiceMs: 55, profile: points([1, 55]) }),
      nowMs: now,
    },
    want: { target: 5, reason: "StressCut" },
  },
  {
    name: "vLLM: runtime queue over its threshold cuts",
    input: {
      spec: spec({ runtime: "vllm", sloP99Ms: 10_000 }),
      state: state(),
      history: window(at(7.5, 60, { pod: { runtimeQueueLength: 6 } })),
      memory: ran({ baselineServiceMs: 55, profile: points([1, 55]) }),
      nowMs: now,
    },
    want: { target: 4, reason: "StressCut" },
  },
  {
    name: "the first calm, binding window only counts",
    input: { spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { pod: { cpuUtil: 0.1 } })), memory: ran(), nowMs: now },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "calm and binding for two windows raises by at most 1.5×",
    input: { spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { pod: { cpuUtil: 0.1 } })), memory: ran({ calmWindows: 1 }), nowMs: now },
    want: { target: 12, reason: "CalmRaise" },
  },
  {
    name: "a raise stops where CPU saturates",
    // 0.7 CPU at 7 in flight → CPU reaches 1 at 10 in flight
    input: { spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { pod: { cpuUtil: 0.7 } })), memory: ran({ calmWindows: 1 }), nowMs: now },
    want: { target: 10, reason: "CalmRaise" },
  },
  {
    name: "a target far above where CPU saturates is cut toward it, even without stress yet",
    // 0.9 CPU at 2 in flight → saturates at 2.2; 8 > 2 × 1.15 → cut, at most halving
    input: { spec: spec(), state: state(), history: window(at(2, 5, { pod: { cpuUtil: 0.9 } })), memory: ran(), nowMs: now },
    want: { target: 4, reason: "StressCut" },
  },
  {
    name: "a fixed memory allocation is not extrapolated into a cut",
    input: {
      spec: spec({ runtime: "custom" }),
      state: state(),
      history: window(at(2, 5, { pod: { memoryUtil: 0.6 } })),
      memory: ran({ profile: points([1, 5, { memory: 0.6 }], [4, 5, { memory: 0.6 }]) }),
      nowMs: now,
    },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "a raise is bounded by where a growing memory use reaches its raise threshold",
    // memory 0.2 + 0.06·x (fitted from the profile): reaches 0.8 at x = 10
    input: {
      spec: spec({ runtime: "custom" }),
      state: state(),
      history: window(at(7, 5, { pod: { memoryUtil: 0.62 } })),
      memory: ran({ calmWindows: 1, profile: points([1, 5, { memory: 0.26 }], [4, 5, { memory: 0.44 }]) }),
      nowMs: now,
    },
    want: { target: 10, reason: "CalmRaise" },
  },
  {
    name: "calm but not binding holds (no evidence about higher concurrency)",
    input: { spec: spec({ runtime: "custom" }), state: state(), history: window(at(2, 5)), memory: ran({ calmWindows: 5 }), nowMs: now },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "a level that caused stress is not retried until the ceiling expires",
    input: {
      spec: spec({ runtime: "custom" }),
      state: state(),
      history: window(at(7, 5)),
      memory: ran({ calmWindows: 1, stressCeiling: { target: 10, untilMs: now + 60_000 } }),
      nowMs: now,
    },
    want: { target: 9, reason: "CalmRaise" },
  },
  {
    name: "a small refinement waits 10 minutes after the last change",
    input: {
      spec: spec({ runtime: "custom" }),
      state: state(),
      history: window(at(7, 5)),
      memory: ran({ calmWindows: 1, lastChangeAtMs: now - 60_000, stressCeiling: { target: 10, untilMs: now + 60_000 } }),
      nowMs: now,
    },
    // the raise 8 → 9 (12.5%) is a refinement; the last change was 60 s ago
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "too few completions: hold",
    input: { spec: spec(), state: state(), history: window({ qps: 0.01, serviceMs: 5, readyPods: 4 }), memory: ran(), nowMs: now },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "restart: no memory keeps the target in force",
    input: { spec: spec(), state: state(), history: window(at(7.2, 18)), memory: undefined, nowMs: now },
    want: { target: 8, reason: "Hold" },
  },
  {
    name: "a target outside the spec's range is brought inside it",
    input: { spec: spec({ concurrency: { min: 1, max: 4 } }), state: state(), history: window(at(2, 5)), memory: ran(), nowMs: now },
    want: { target: 4, reason: "Bounds" },
  },
  {
    name: "no target in force: start at the geometric middle of the range",
    input: { spec: spec(), state: state({ targetConcurrency: 0 }), history: [], memory: undefined, nowMs: now },
    want: { target: 8, reason: "Initial" },
  },
  {
    name: "no target in force: the spec's initial target wins",
    input: { spec: spec({ initialTargetConcurrency: 3 }), state: state({ targetConcurrency: 0 }), history: [], memory: undefined, nowMs: now },
    want: { target: 3, reason: "Initial" },
  },
  {
    name: "not due between vertical cycles",
    input: { spec: spec(), state: state(), history: window(at(7.2, 18)), memory: ran({ lastVerticalAtMs: now - 10_000 }), nowMs: now },
    want: { target: 8, reason: "NotDue" },
  },
];

describe("vertical axis (decide)", () => {
  for (const t of table) {
    it(t.name, () => {
      const d = decide(t.input);
      assert.deepEqual({ target: d.targetConcurrency, reason: d.concurrencyReason }, t.want, d.concurrencyMessage);
      assert.ok(d.concurrencyMessage.length > 0);
    });
  }

  it("a cut raises the replica count in the same call (the new target is the denominator)", () => {
    const d = decide({ spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { p99Ms: 90, p50Ms: 80 })), memory: ran(), nowMs: now });
    assert.equal(d.targetConcurrency, 5);
    // 4 pods × 7 in flight = 28 concurrent; (28 + 1·√28) / 5 = 6.7 (β from the 100 ms SLO, floored at 1)
    assert.equal(d.desiredReplicas, 7);
    assert.equal(d.replicasReason, "ScaleUp");
  });
});

describe("batching engine in a cluster that cannot grow", () => {
  // profile: 480 ms at 4 in flight, 720 ms at 16 → S(x) = 400 + 20·x; now 24 in flight at 880 ms, p99 = 1.5 × mean
  const input = (unschedulable: number) => ({
    spec: spec({ runtime: "vllm", sloP99Ms: 2000, concurrency: { min: 1, max: 64 } }),
    state: state({ targetConcurrency: 24, unschedulableReplicas: unschedulable }),
    history: window(at(24, 880)),
    memory: memory(0, {
      lastVerticalAtMs: now - 30_000,
      lastHorizontalAtMs: now - 1000,
      calmWindows: 1,
      baselineServiceMs: 480,
      profile: points([4, 480], [16, 720]),
    }),
    nowMs: now,
  });
  it("normally raises only to the efficient point (95% of the best throughput within the SLO)", () => {
    const d = decide(input(0));
    // x_slo = (0.8·2000/1.5 − 400)/20 = 33.3; the efficient point 29.3
    assert.deepEqual({ target: d.targetConcurrency, reason: d.concurrencyReason }, { target: 29, reason: "CalmRaise" }, d.concurrencyMessage);
  });
  it("raises to the most the SLO allows when pods cannot be added", () => {
    const d = decide(input(2));
    assert.deepEqual({ target: d.targetConcurrency, reason: d.concurrencyReason }, { target: 33, reason: "CalmRaise" }, d.concurrencyMessage);
  });
});

describe("opt-in tail signal", () => {
  it("cuts when the estimated p99.9 exceeds the SLO though the p99 alone is fine", () => {
    const input = { spec: spec({ runtime: "custom" }), state: state(), history: window(at(7, 5, { p99Ms: 60, p50Ms: 10 })), memory: ran(), nowMs: now };
    const d = decide(input, validateEngineConfig({ tailCutFraction: 1 }));
    // p99.9 ≈ 60 · 6^0.328 = 108 > 100 ms; suggestion 7 · (1 + 0.9) / 2 / 1.08 = 6.2
    assert.deepEqual({ target: d.targetConcurrency, reason: d.concurrencyReason }, { target: 6, reason: "StressCut" }, d.concurrencyMessage);
  });
});

describe("efficientConcurrency (batching latency model S(x) = a + b·x)", () => {
  const table: { name: string; input: Parameters<typeof efficientConcurrency>; want: number | undefined }[] = [
    // a = 50, b = 5, p99 = 1.2 × mean, SLO 1000 ms at 80%: x_slo = (800/1.2 − 50)/5 = 123.3;
    // T(x_slo) = 123.3/666.7 = 0.185; 95% of it → x = 0.1757·50/(1 − 0.1757·5) = 72.5
    { name: "SLO-bound", input: [{ interceptMs: 50, slopeMs: 5 }, 1.2, 1000, 0.8, 1000, 0.95], want: 72.47 },
    // without an SLO the range maximum bounds it
    { name: "range-bound", input: [{ interceptMs: 50, slopeMs: 5 }, 1.2, undefined, 0.8, 64, 0.95], want: 46.06 },
    { name: "no slope: undefined", input: [{ interceptMs: 50, slopeMs: 0 }, 1.2, 1000, 0.8, 64, 0.95], want: undefined },
  ];
  for (const t of table) {
    it(t.name, () => {
      const got = efficientConcurrency(...t.input);
      if (t.want === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - t.want) < 0.05, `got ${got}`);
    });
  }
});
