import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide } from "../../controller/src/engine/index.ts";
import type { DecisionInput, ReplicaReason } from "../../controller/src/engine/types.ts";
import { memory, samples, spec as baseSpec, state, type Load } from "./helpers.ts";

const now = 600_000;
/** Memory of an engine that has run for 10 min, with the vertical axis not due (isolates the horizontal). */
/** An engine that has run for a while: its vertical slow start is over (the vertical axis is tested apart). */
const ran = (over: Parameters<typeof memory>[1] = {}) =>
  memory(0, { lastVerticalAtMs: now - 1000, baselineServiceMs: 5, slowStart: { closed: true, lastRaiseAtMs: undefined, serviceMs: undefined }, ...over });
const steady = (l: Load, windowMs = 300_000) => samples(now - windowMs, now, () => l);
/** No SLO: the staffing headroom is the fixed `staffingBeta` (1.5), which keeps the arithmetic simple. */
const spec = (over: Parameters<typeof baseSpec>[0] = {}) => baseSpec({ sloP99Ms: undefined, ...over });
const recs = (replicas: number) =>
  Array.from({ length: 59 }, (_, i) => ({ atMs: now - 295_000 + i * 5000, replicas }));

const table: { name: string; input: DecisionInput; want: { replicas: number; reason: ReplicaReason } }[] = [
  {
    name: "scale up to ceil((arrivals × service time + β·√that) / target)",
    input: { spec: spec(), state: state(), history: steady({ qps: 10_000, serviceMs: 5, readyPods: 4 }), memory: ran(), nowMs: now },
    // 10 000/s × 5 ms = 50 concurrent; (50 + 1.5·√50) / 8 = 7.6
    want: { replicas: 8, reason: "ScaleUp" },
  },
  {
    name: "a queue building while pods start is not extrapolated (starting pods count as supply)",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 8, readyReplicas: 4, startingReplicas: 4 }),
      history: steady({ qps: 10_000, serviceMs: 5, readyPods: 4, queued: 5000, rejections: 2000, inFlight: 32 }),
      memory: ran({ recommendations: recs(8) }),
      nowMs: now,
    },
    // Knative would ask (32 + 5000) / 8 = 629 pods here; the engine adds only what drains the 5000
    // queued requests within 5 s: 5000 × 5 ms / 5 s = 5 → (50 + 5 + 1.5·√55) / 8 = 8.3
    want: { replicas: 9, reason: "ScaleUp" },
  },
  {
    name: "rejected requests count as demand",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 4 }),
      history: steady({ qps: 20_000, serviceMs: 5, readyPods: 4, rejections: 13_600, inFlight: 32, queued: 2000 }),
      memory: ran(),
      nowMs: now,
    },
    // 20 000/s × 5 ms = 100; (100 + 15) / 8 = 14.4
    want: { replicas: 15, reason: "ScaleUp" },
  },
  {
    name: "unschedulable pods stop further growth",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 7, readyReplicas: 4, unschedulableReplicas: 3 }),
      history: steady({ qps: 20_000, serviceMs: 5, readyPods: 4 }),
      memory: ran(),
      nowMs: now,
    },
    want: { replicas: 7, reason: "UnschedulableHold" },
  },
  {
    name: "stale metrics: hold, even though the last load was zero",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 10 }),
      history: samples(now - 300_000, now - 20_000, () => ({ qps: 0, serviceMs: 5, readyPods: 10 })),
      memory: ran({ recommendations: recs(1) }),
      nowMs: now,
    },
    want: { replicas: 10, reason: "StaleMetrics" },
  },
  {
    name: "no metrics: hold",
    input: { spec: spec(), state: state({ desiredReplicas: 10 }), history: [], memory: ran(), nowMs: now },
    want: { replicas: 10, reason: "NoMetrics" },
  },
  {
    name: "scale-down waits while the down-window still holds a higher recommendation",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 10 }),
      history: steady({ qps: 1000, serviceMs: 5, readyPods: 10 }),
      memory: ran({ recommendations: [...recs(1), { atMs: now - 200_000, replicas: 10 }] }),
      nowMs: now,
    },
    want: { replicas: 10, reason: "HoldDownWindow" },
  },
  {
    name: "scale-down after a full low window, at most halving per cycle",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 10 }),
      history: steady({ qps: 1000, serviceMs: 5, readyPods: 10 }),
      memory: ran({ recommendations: recs(1) }),
      nowMs: now,
    },
    want: { replicas: 5, reason: "ScaleDown" },
  },
  {
    name: "a scale-down within the 10% tolerance is skipped",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 40 }),
      history: steady({ qps: 38_000, serviceMs: 5, readyPods: 40 }),
      memory: ran({ recommendations: recs(37) }),
      nowMs: now,
    },
    want: { replicas: 40, reason: "Steady" },
  },
  {
    name: "fail static on gaps: no scale-down when the down-window is not covered",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 10 }),
      history: samples(now - 60_000, now, () => ({ qps: 100, serviceMs: 5, readyPods: 10 })),
      memory: ran({ recommendations: recs(1) }),
      nowMs: now,
    },
    want: { replicas: 10, reason: "HoldDownWindow" },
  },
  {
    name: "restart: memory younger than the down-window never scales down",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 10 }),
      history: steady({ qps: 100, serviceMs: 5, readyPods: 10 }),
      memory: memory(now - 60_000, { lastVerticalAtMs: now - 1000 }),
      nowMs: now,
    },
    want: { replicas: 10, reason: "HoldDownWindow" },
  },
  {
    name: "restart: no memory changes nothing, even under load",
    input: { spec: spec(), state: state(), history: steady({ qps: 20_000, serviceMs: 5, readyPods: 4 }), memory: undefined, nowMs: now },
    want: { replicas: 4, reason: "Steady" },
  },
  {
    name: "provisioned concurrency is a floor of ready capacity",
    input: {
      spec: spec({ provisionedConcurrency: 64 }),
      state: state({ desiredReplicas: 8 }),
      history: steady({ qps: 10, serviceMs: 5, readyPods: 8 }),
      memory: ran({ recommendations: recs(1) }),
      nowMs: now,
    },
    want: { replicas: 8, reason: "ProvisionedFloor" },
  },
  {
    name: "replica maximum binds",
    input: {
      spec: spec({ replicas: { min: 1, max: 5 } }),
      state: state({ desiredReplicas: 4 }),
      history: steady({ qps: 20_000, serviceMs: 5, readyPods: 4 }),
      memory: ran(),
      nowMs: now,
    },
    want: { replicas: 5, reason: "ReplicaBounds" },
  },
  {
    name: "the scale subresource's replicas are a floor: an idle endpoint keeps what HPA asked for",
    input: {
      spec: spec({ scaleSubresourceReplicas: 6 }),
      state: state({ desiredReplicas: 6 }),
      history: steady({ qps: 10, serviceMs: 5, readyPods: 6 }),
      memory: ran({ recommendations: recs(1) }),
      nowMs: now,
    },
    want: { replicas: 6, reason: "ScaleSubresource" },
  },
  {
    name: "the scale subresource's floor does not hold the engine down: demand above it still scales up to max",
    input: {
      spec: spec({ replicas: { min: 1, max: 5 }, scaleSubresourceReplicas: 2 }),
      state: state({ desiredReplicas: 4 }),
      history: steady({ qps: 20_000, serviceMs: 5, readyPods: 4 }),
      memory: ran(),
      nowMs: now,
    },
    want: { replicas: 5, reason: "ReplicaBounds" },
  },
  {
    name: "the scale subresource's floor blocks scale-to-zero",
    input: {
      spec: spec({ scaleToZero: true, replicas: { min: 0, max: 10 }, scaleSubresourceReplicas: 2 }),
      state: state({ desiredReplicas: 2 }),
      history: samples(now - 700_000, now, () => ({ qps: 0, serviceMs: 5, readyPods: 2 })),
      memory: ran({ recommendations: recs(0) }),
      nowMs: now + 100_000,
    },
    want: { replicas: 2, reason: "ScaleSubresource" },
  },
  {
    name: "scale-to-zero is off by default: an idle endpoint keeps one replica",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 1 }),
      history: samples(now - 700_000, now, () => ({ qps: 0, serviceMs: 5, readyPods: 1 })),
      memory: ran({ recommendations: recs(0) }),
      nowMs: now + 100_000,
    },
    want: { replicas: 1, reason: "StaleMetrics" },
  },
  {
    name: "scale-to-zero when the spec allows it and the endpoint was idle for the idle window",
    input: {
      spec: spec({ scaleToZero: true, replicas: { min: 0, max: 10 } }),
      state: state({ desiredReplicas: 1 }),
      history: samples(now - 700_000, now, () => ({ qps: 0, serviceMs: 5, readyPods: 1 })),
      memory: ran({ recommendations: recs(0) }),
      nowMs: now,
    },
    want: { replicas: 0, reason: "ScaleToZero" },
  },
  {
    name: "scale from zero on the first request, without waiting for the cadence",
    input: {
      spec: spec({ scaleToZero: true, replicas: { min: 0, max: 10 } }),
      state: state({ desiredReplicas: 0, readyReplicas: 0 }),
      history: [...samples(now - 300_000, now - 1000, () => ({ qps: 0, serviceMs: 5, readyPods: 0 })), { atMs: now, inFlight: 0, queued: 3, arrivals: 3, completions: 0, rejections: 0 }],
      memory: ran({ lastHorizontalAtMs: now - 1000 }),
      nowMs: now,
    },
    want: { replicas: 1, reason: "ScaleFromZero" },
  },
  {
    name: "not due between horizontal cycles",
    input: { spec: spec(), state: state(), history: steady({ qps: 20_000, serviceMs: 5, readyPods: 4 }), memory: ran({ lastHorizontalAtMs: now - 1000 }), nowMs: now },
    want: { replicas: 4, reason: "NotDue" },
  },
  {
    name: "growth per cycle is capped relative to the most recent load",
    input: {
      spec: spec(),
      state: state({ desiredReplicas: 1, readyReplicas: 1 }),
      history: samples(now - 20_000, now, (t) => ({ qps: t <= now - 5000 ? 10_000 : 1000, serviceMs: 5, readyPods: 7 })),
      memory: memory(now - 20_000, { lastVerticalAtMs: now - 1000 }),
      nowMs: now,
    },
    // 20 s mean needs 6 pods; the last 5 s (1000/s × 5 ms = 5) allow (1.5 × 5 + 1.5·√7.5) / 8 → 2
    want: { replicas: 2, reason: "ScaleUpLimited" },
  },
  {
    name: "with an SLO, the headroom follows from it: a loose SLO needs little",
    input: { spec: baseSpec({ sloP99Ms: 100 }), state: state(), history: steady({ qps: 10_000, serviceMs: 5, readyPods: 4 }), memory: ran(), nowMs: now },
    // β = ln(1000)·5 / (√50 · 0.2·100) = 0.24 → the floor 1; (50 + 1·√50) / 8 = 7.1
    want: { replicas: 8, reason: "ScaleUp" },
  },
  {
    name: "with an SLO, the headroom follows from it: a tight SLO needs much",
    input: { spec: baseSpec({ sloP99Ms: 8 }), state: state(), history: steady({ qps: 10_000, serviceMs: 5, readyPods: 4 }), memory: ran(), nowMs: now },
    // β = ln(1000)·5 / (√50 · 0.2·8) = 3.05; (50 + 3.05·√50) / 8 = 8.9
    want: { replicas: 9, reason: "ScaleUp" },
  },
];

describe("horizontal axis (decide)", () => {
  for (const t of table) {
    it(t.name, () => {
      const d = decide(t.input);
      assert.deepEqual({ replicas: d.desiredReplicas, reason: d.replicasReason }, t.want, d.replicasMessage);
      assert.ok(d.replicasMessage.length > 0);
      assert.ok(d.nextRunAtMs > t.input.nowMs);
    });
  }
});

describe("a service time that reads 0 is unknown, not free", () => {
  // HAProxy's averages are whole milliseconds and a sub-millisecond model can read 0: arrivals × 0 ms would
  // erase real load (found by the controller benchmark: 100 in flight + 20 queued read as demand 0).
  it("keeps a busy endpoint's replicas instead of scaling it down", () => {
    const now = 400_000;
    const busy = samples(0, now, () => ({ qps: 1000, serviceMs: 0, readyPods: 10, inFlight: 100, queued: 20 }));
    const d = decide({
      spec: spec({ concurrency: { min: 1, max: 16 } }),
      state: state({ desiredReplicas: 10, readyReplicas: 10, targetConcurrency: 10 }),
      history: busy,
      memory: memory(0),
      nowMs: now,
    });
    assert.ok(d.desiredReplicas >= 10, `${d.desiredReplicas} replicas: ${d.replicasMessage}`);
    assert.ok((d.observedConcurrency ?? 0) >= 100, `observed ${d.observedConcurrency}`);
  });
});
