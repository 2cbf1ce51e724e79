import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, validateEngineConfig } from "../../controller/src/engine/index.ts";
import { accumulateTail, readTailCounts, tailInFlight, targetForInFlight, type TailCounts } from "../../controller/src/engine/tail.ts";
import type { ConcurrencyReason, DecisionInput } from "../../controller/src/engine/types.ts";
import { laws, memory, points, type MemoryOverrides, runPlant, sample, samples, spec, state, type Load } from "./helpers.ts";

const budget = 0.001;
/** 20 pods at 30 in flight each, 3 s service, 200 req/s; `over` of them late per second. */
const steady = (over: number, extra: Partial<Load> = {}): Load => ({ qps: 200, serviceMs: 3000, readyPods: 20, inFlight: 600, overObjective: over, ...extra });

describe("tail: counting requests over the objective", () => {
  const table: { name: string; input: { prev?: TailCounts; loads: Load[]; target?: number }; want: { completions: number; overObjective: number; readyPods: number } | undefined }[] = [
    { name: "samples without the field give no counts", input: { loads: [{ qps: 200, serviceMs: 3000, readyPods: 20 }] }, want: undefined },
    { name: "one operating point adds up", input: { loads: [steady(1), steady(0), steady(2)] }, want: { completions: 600, overObjective: 3, readyPods: 20 } },
    { name: "a change of ready pods starts afresh", input: { loads: [steady(1), steady(1), steady(0, { readyPods: 21 })] }, want: { completions: 200, overObjective: 0, readyPods: 21 } },
    { name: "a sample that queued at the gateway is the horizontal axis's business", input: { loads: [steady(1), steady(50, { queueMs: 2000 })] }, want: { completions: 200, overObjective: 1, readyPods: 20 } },
    { name: "a sample with 429s is skipped", input: { loads: [steady(1), steady(50, { rejections: 10 })] }, want: { completions: 200, overObjective: 1, readyPods: 20 } },
    { name: "counts at the same target and pods carry over", input: { prev: { completions: 1000, overObjective: 2, inFlightSum: 30_000, target: 8, readyPods: 20 }, loads: [steady(1)] }, want: { completions: 1200, overObjective: 3, readyPods: 20 } },
    { name: "counts at another target do not", input: { prev: { completions: 1000, overObjective: 2, inFlightSum: 30_000, target: 9, readyPods: 20 }, loads: [steady(1)] }, want: { completions: 200, overObjective: 1, readyPods: 20 } },
    { name: "counts are halved past 16 × the expected minimum (slow forgetting)", input: { prev: { completions: 160_000, overObjective: 240, inFlightSum: 4_800_000, target: 8, readyPods: 20 }, loads: [steady(2)] }, want: { completions: 80_100, overObjective: 121, readyPods: 20 } },
  ];
  for (const { name, input, want } of table) {
    it(name, () => {
      const got = accumulateTail(input.prev, input.loads.map((l, i) => sample(1000 * (i + 1), l)), input.target ?? 8, 20, 0.1, budget, 10, 16);
      if (want === undefined) return assert.equal(got, undefined);
      assert.ok(got !== undefined);
      assert.deepEqual({ completions: got.completions, overObjective: got.overObjective, readyPods: got.readyPods }, want);
    });
  }
});

describe("tail: reading the counts", () => {
  const table: { name: string; input: TailCounts; want: { ratio: number; cutAt: number; raiseAt: number } | undefined }[] = [
    { name: "too few requests to tell 0.1% from noise", input: { completions: 9000, overObjective: 30, inFlightSum: 9000 * 30, target: 8, readyPods: 20 }, want: undefined },
    // 10 expected, 15 seen: ratio 1.5; one standard deviation √15 / 10 = 0.387
    { name: "thresholds widen by one standard deviation of the count", input: { completions: 10_000, overObjective: 15, inFlightSum: 300_000, target: 8, readyPods: 20 }, want: { ratio: 1.5, cutAt: 1.387, raiseAt: 0.413 } },
    { name: "more requests, narrower thresholds", input: { completions: 40_000, overObjective: 60, inFlightSum: 1_200_000, target: 8, readyPods: 20 }, want: { ratio: 1.5, cutAt: 1.194, raiseAt: 0.606 } },
  ];
  for (const { name, input, want } of table) {
    it(name, () => {
      const got = readTailCounts(input, budget, 10, 0.8);
      if (want === undefined) return assert.equal(got, undefined);
      assert.ok(got !== undefined);
      assert.deepEqual({ ratio: Math.round(got.ratio * 1000) / 1000, cutAt: got.cutAt, raiseAt: got.raiseAt }, want);
    });
  }
});

describe("tail: where the count would fit the budget", () => {
  const reading = (fraction: number, inFlight = 30) => ({ fraction, ratio: fraction / budget, cutAt: 1.2, raiseAt: 0.6, inFlight });
  const batching = (x: number) => 3000 + 50 * x;
  it("a batching pod over the budget: lower in-flight, by the power law between p99 and the objective", () => {
    // k = ln(0.01/0.0015) / ln(20000/12000) = 3.714; S' = 4500 · (0.001/0.0015)^(1/3.714) = 4034.6 → x' = 20.69
    const x = tailInFlight(reading(0.0015), budget, 12_000, 20_000, batching, 3050);
    assert.ok(x !== undefined && Math.abs(x - 20.69) < 0.01, String(x));
  });
  it("under the budget the same curve gives a higher in-flight (a bound for raises)", () => {
    const x = tailInFlight(reading(0.0005), budget, 12_000, 20_000, batching, 3050);
    assert.ok(x !== undefined && x > 30, String(x));
  });
  it("a flat service time (an I/O pod under its pool size): not concurrency's doing", () => {
    assert.equal(tailInFlight(reading(0.0015), budget, 12_000, 20_000, () => 500, 500), undefined);
  });
  it("nothing over the objective: no slope, no estimate", () => {
    assert.equal(tailInFlight(reading(0), budget, 12_000, 20_000, batching, 3050), undefined);
  });
  it("a p99 over the objective is the p99 signal's case", () => {
    assert.equal(tailInFlight(reading(0.005), budget, 21_000, 20_000, batching, 3050), undefined);
  });
  it("the target for a lower in-flight keeps the throughput ratio, at most one step", () => {
    const T = (v: number) => v / batching(v);
    const c = targetForInFlight(48, 30, 26, batching, 1);
    assert.ok(Math.abs(T(c) / T(48) - T(26) / T(30)) < 1e-6);
    const bounded = targetForInFlight(48, 30, 10, batching, 0.1);
    assert.ok(Math.abs(T(bounded) / T(48) - 0.9) < 1e-6, String(bounded));
  });
});

describe("closed loop: a batching pod with a heavy-tailed cost (time steps, fluid test double)", () => {
  // Fraction of requests over a 20 s objective at per-pod in-flight x for the Azure LLM trace's costs
  // on a 3000 + 50·x ms pod: `npx node controller/src/sim/tail-bound.ts controller/scenarios/azure-llm.json`.
  const bound: [number, number][] = [[1, 0], [16, 0.000158], [24, 0.000676], [26, 0.000861], [28, 0.001054], [32, 0.001434], [48, 0.002458], [64, 0.004704]];
  const late = (x: number): number => {
    for (let i = 1; i < bound.length; i++) {
      const [x0, f0] = bound[i - 1]!;
      const [x1, f1] = bound[i]!;
      if (x <= x1) return f0 + ((f1 - f0) * (x - x0)) / (x1 - x0);
    }
    return bound[bound.length - 1]![1];
  };
  const run = (count: boolean) =>
    runPlant({
      spec: spec({ runtime: "vllm", sloP99Ms: 20_000, concurrency: { min: 1, max: 64 }, replicas: { min: 1, max: 64 } }),
      qps: () => 110,
      law: laws.batching(3000, 50),
      podStartS: 60,
      initialReplicas: 16,
      initialTarget: 48,
      durationS: 3600,
      // a pod whose latency line is already learned (two profile points on 3000 + 50·x)
      initialMemory: memory(0, { lastVerticalAtMs: 0, lastHorizontalAtMs: 0, baselineServiceMs: 3800, profile: points([16, 3800], [32, 4600]) }),
      ...(count ? { lateFraction: late } : {}),
    });
  const lastHalfHour = (ticks: ReturnType<typeof run>) => {
    const t = ticks.filter((k) => k.tS > 1800);
    const served = t.reduce((a, k) => a + k.served, 0);
    // the same tail law applies with or without the count: recompute it from each second's in-flight
    const lateN = t.reduce((a, k) => a + k.served * late(inFlightOf(k)), 0);
    return { lateFraction: lateN / served, meanPods: t.reduce((a, k) => a + k.ready, 0) / t.length };
  };
  // per-pod in-flight of a tick: the plant serves 110/s at S(x) with `ready` pods: x = 110·3 / (ready − 110·0.05)
  const inFlightOf = (k: { ready: number }) => (110 * 3) / (k.ready - 110 * 0.05);
  it("without the count the target stays at the efficient point and 0.1% is missed", () => {
    const r = lastHalfHour(run(false));
    assert.ok(r.lateFraction > 0.001, JSON.stringify(r));
  });
  it("with the count the fraction over the objective settles within the budget, at a bounded cost", () => {
    const r = lastHalfHour(run(true));
    assert.ok(r.lateFraction <= 0.001, JSON.stringify(r));
    // 99.9% needs ≲ 27 in flight per pod: 110 × 4.35 s / 27 = 17.7 pods; allow 20% over that
    assert.ok(r.meanPods <= 1.2 * 17.7, JSON.stringify(r));
  });
});

describe("vertical: requests over the objective", () => {
  const now = 600_000;
  // A vLLM pod with a learned linear latency 3000 + 50·x ms (two profile points), 20 pods at 30 in flight.
  const mem = (extra: MemoryOverrides = {}) =>
    memory(0, {
      lastVerticalAtMs: now - 30_000,
      lastHorizontalAtMs: now - 1000,
      baselineServiceMs: 3500,
      profile: points([10, 3500], [30, 4500]),
      ...extra,
    });
  const load = (over: number | undefined): Load => ({ qps: 133, serviceMs: 4500, readyPods: 20, inFlight: 600, p50Ms: 4000, p99Ms: 12_000, ...(over !== undefined ? { overObjective: over } : {}) });
  const input = (over: number | undefined, extra: MemoryOverrides = {}): DecisionInput => ({
    spec: spec({ runtime: "vllm", sloP99Ms: 20_000, concurrency: { min: 1, max: 64 } }),
    state: state({ readyReplicas: 20, desiredReplicas: 20, targetConcurrency: 40 }),
    history: samples(now - 300_000, now, () => load(over)),
    memory: mem(extra),
    nowMs: now,
  });
  // 30 s × 133 completions = 3990 per window; 20 000 counted before at the same target and pods.
  const before = { completions: 20_000, overObjective: 40, inFlightSum: 600_000, target: 40, readyPods: 20 };
  const counted = (over: Partial<typeof before> = {}): MemoryOverrides => ({ tail: { ...before, ...over } });
  const table: { name: string; input: DecisionInput; want: { reason: ConcurrencyReason; below: boolean; message?: RegExp } }[] = [
    { name: "without the field nothing changes", input: input(undefined), want: { reason: "Hold", below: false } },
    { name: "a count under the budget holds", input: input(0, counted({ overObjective: 10 })), want: { reason: "Hold", below: false } },
    { name: "a count clearly over the budget cuts, by at most one step", input: input(0.3, counted()), want: { reason: "StressCut", below: true, message: /requests over the objective 0\.2\d\d% \/ budget 0\.100%/ } },
    { name: "too few requests counted yet: no cut", input: input(0.3), want: { reason: "Hold", below: false } },
  ];
  for (const { name, input: inp, want } of table) {
    it(name, () => {
      const d = decide(inp);
      assert.equal(d.concurrencyReason, want.reason, d.concurrencyMessage);
      assert.equal(d.targetConcurrency < 40, want.below, d.concurrencyMessage);
      // one step is at most 10% of the throughput per pod: T(40) = 40/5000, 0.9·T → 33.75, so 40 → 33 or more
      assert.ok(d.targetConcurrency >= 33, d.concurrencyMessage);
      if (want.message) assert.match(d.concurrencyMessage, want.message);
    });
  }
  it("a calm count lifts the ceiling by one step only", () => {
    // 3990 + 20 000 counted, 10 late: 0.042% ≪ 0.08%; one step is +10% throughput per pod from 40
    const d = decide(input(0, { ...counted({ overObjective: 10 }), tailCeiling: 40 }));
    const ceil = d.memory.vertical.tailCeiling;
    assert.ok(ceil !== undefined && ceil > 40 && ceil <= 48, String(ceil));
  });
  it("an I/O pod (flat service time): the count is not concurrency's doing, no cut", () => {
    const io: DecisionInput = {
      spec: spec({ runtime: "custom", sloP99Ms: 2000 }),
      state: state({ readyReplicas: 20, desiredReplicas: 20, targetConcurrency: 40 }),
      history: samples(now - 300_000, now, () => ({ qps: 1200, serviceMs: 500, readyPods: 20, inFlight: 600, p50Ms: 450, p99Ms: 1500, overObjective: 5 })),
      memory: memory(0, { lastVerticalAtMs: now - 30_000, lastHorizontalAtMs: now - 1000, baselineServiceMs: 500, profile: points([30, 500]), tail: { completions: 50_000, overObjective: 200, inFlightSum: 1_500_000, target: 40, readyPods: 20 } }),
      nowMs: now,
    };
    const d = decide(io);
    assert.notEqual(d.concurrencyReason, "StressCut", d.concurrencyMessage);
    assert.doesNotMatch(d.concurrencyMessage, /requests over the objective/);
  });
  it("after a cut, raises stay at or below the cut's target until the count is calm", () => {
    const d = decide(input(undefined, { tailCeiling: 36 }));
    assert.ok(d.targetConcurrency <= 40);
    assert.equal(d.memory.vertical.tailCeiling, 36);
  });
  it("config: the tail parameters are validated with the field named", () => {
    assert.throws(() => validateEngineConfig({ overObjectiveMinExpected: 0 }), { message: "engine config: overObjectiveMinExpected = 0 is not allowed; expected a number in [1, 1000000]" });
    assert.throws(() => validateEngineConfig({ overObjectiveMaxStep: 2 }), { message: "engine config: overObjectiveMaxStep = 2 is not allowed; expected a number in [0.01, 1]" });
  });
});
