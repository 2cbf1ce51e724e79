/**
 * Time-step scenarios: the engine driven through time, either by a script of samples with the decision
 * expected at each step, or in closed loop around the fluid test double in helpers.ts (not the simulator).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide } from "../../controller/src/engine/index.ts";
import type { ConcurrencyReason, EndpointSample, EngineMemory, ReplicaReason, ReplicaState } from "../../controller/src/engine/types.ts";
import { laws, runPlant, sample, spec, type Load } from "./helpers.ts";

interface Step {
  /** Run the engine at this second (samples up to it are in the history). */
  readonly atS: number;
  readonly want: { readonly replicas?: number; readonly replicasReason?: ReplicaReason; readonly target?: number; readonly targetReason?: ConcurrencyReason };
  readonly note: string;
}

/** Feed `load(t)` every second; at each step call decide and compare; pods become ready at once. */
/** A fixed target (8) and no SLO keep the replica arithmetic of the scripts simple. */
const fixedSpec = spec({ concurrency: { min: 8, max: 8 }, sloP99Ms: undefined });

function script(load: (tS: number) => Load, steps: readonly Step[], start: Partial<ReplicaState> = {}) {
  let st: ReplicaState = { desiredReplicas: 4, readyReplicas: 4, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 8, ...start };
  let mem: EngineMemory | undefined;
  const history: EndpointSample[] = [];
  let t = 0;
  for (const step of steps) {
    for (; t < step.atS; t++) history.push(sample((t + 1) * 1000, { ...load(t + 1), readyPods: st.readyReplicas }));
    const d = decide({ spec: fixedSpec, state: st, history: history.slice(-320), memory: mem, nowMs: step.atS * 1000 });
    const got = {
      ...(step.want.replicas !== undefined ? { replicas: d.desiredReplicas } : {}),
      ...(step.want.replicasReason !== undefined ? { replicasReason: d.replicasReason } : {}),
      ...(step.want.target !== undefined ? { target: d.targetConcurrency } : {}),
      ...(step.want.targetReason !== undefined ? { targetReason: d.concurrencyReason } : {}),
    };
    assert.deepEqual(got, step.want, `t=${step.atS} s (${step.note}): ${d.replicasMessage} | ${d.concurrencyMessage}`);
    mem = d.memory;
    st = { ...st, desiredReplicas: d.desiredReplicas, readyReplicas: d.desiredReplicas, targetConcurrency: d.targetConcurrency };
  }
}

describe("timelines (scripted)", () => {
  it("start, spike, hold through the down-window, then scale down", () => {
    // 4 pods at target 8; 400/s × 5 ms = 2 concurrent, then 10 000/s from t = 330 s to 360 s
    const load = (t: number): Load => ({ qps: t > 330 && t <= 360 ? 10_000 : 400, serviceMs: 5, readyPods: 4, pod: { cpuUtil: 0.1 } });
    script(load, [
      { atS: 1, want: { replicas: 4, replicasReason: "Steady", target: 8, targetReason: "Hold" }, note: "first call after a start: nothing changes" },
      { atS: 6, want: { replicas: 4, replicasReason: "HoldDownWindow" }, note: "load needs 1 pod, but no 300 s of memory yet" },
      { atS: 301, want: { replicas: 2, replicasReason: "ScaleDown" }, note: "a full quiet down-window: scale down, at most halving" },
      { atS: 306, want: { replicas: 1, replicasReason: "ScaleDown" }, note: "and again" },
      // 10 000/s × 5 ms = 50 concurrent; (50 + 1.5·√50) / 8 = 7.6
      { atS: 331, want: { replicas: 8, replicasReason: "ScaleUp" }, note: "the first spike sample is a step: act at once, off-cadence" },
      { atS: 336, want: { replicas: 8, replicasReason: "Steady" }, note: "the spike continues" },
      { atS: 366, want: { replicas: 8, replicasReason: "HoldDownWindow" }, note: "spike over: hold for the down-window" },
      { atS: 601, want: { replicas: 8, replicasReason: "HoldDownWindow" }, note: "still inside 300 s of the spike" },
      { atS: 666, want: { replicas: 4, replicasReason: "ScaleDown" }, note: "the spike left the down-window: at most halve" },
      { atS: 671, want: { replicas: 2, replicasReason: "ScaleDown" }, note: "and again" },
    ]);
  });

  it("stale metrics in the middle of a run: hold, then resume", () => {
    const load = (t: number): Load => ({ qps: t < 400 ? 2000 : 100, serviceMs: 5, readyPods: 2 });
    // 2000/s × 5 ms = 10 concurrent: 2 pods at target 8; 100/s needs 1
    let st: ReplicaState = { desiredReplicas: 2, readyReplicas: 2, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 8 };
    let mem: EngineMemory | undefined;
    const history: EndpointSample[] = [];
    for (let t = 1; t <= 800; t++) {
      // the scrape fails between 500 s and 530 s
      if (t < 500 || t > 530) history.push(sample(t * 1000, load(t)));
      if (t % 5 !== 0) continue;
      const d = decide({ spec: fixedSpec, state: st, history: history.slice(-320), memory: mem, nowMs: t * 1000 });
      if (t > 510 && t <= 530) assert.equal(d.replicasReason, "StaleMetrics", `t=${t}`);
      if (t < 700) assert.equal(d.desiredReplicas, 2, `t=${t}: ${d.replicasMessage}`);
      if (t === 800) assert.equal(d.desiredReplicas, 1, `t=${t}: ${d.replicasMessage}`);
      mem = d.memory;
      st = { ...st, desiredReplicas: d.desiredReplicas, readyReplicas: d.desiredReplicas, targetConcurrency: d.targetConcurrency };
    }
  });
});

describe("timelines (closed loop around the fluid test double)", () => {
  const cpu = laws.cpu(5, 2);
  const cpuSignals = (x: number) => ({ cpuUtil: Math.min(1, x / 2) });

  it("spike 10 → 10 000/s: capacity within pod start + 10 s, no Knative-style overshoot", () => {
    const ticks = runPlant({
      spec: spec({ replicas: { min: 1, max: 3000 } }),
      qps: (t) => (t > 60 && t <= 420 ? 10_000 : 10),
      law: cpu,
      podStartS: 10,
      initialReplicas: 1,
      initialTarget: 0,
      durationS: 600,
      podSignals: cpuSignals,
    });
    const capacity = (k: (typeof ticks)[number]) => (k.ready * k.target) / (cpu(k.target) / 1000);
    const absorbed = ticks.find((k) => k.tS > 60 && capacity(k) >= 10_000);
    assert.ok(absorbed !== undefined && absorbed.tS <= 60 + 10 + 10, `capacity reached at ${absorbed?.tS}`);
    // the optimum is 25 pods at 2 in flight (400/s each); the queue built while pods start must not inflate that
    const peak = Math.max(...ticks.map((k) => k.desired));
    assert.ok(peak <= 40, `peak ${peak}`);
  });

  it("capacity-limited cluster: no growth while pods cannot be scheduled", () => {
    const ticks = runPlant({
      spec: spec({ replicas: { min: 1, max: 3000 } }),
      qps: (t) => (t > 30 ? 20_000 : 100),
      law: cpu,
      podStartS: 10,
      initialReplicas: 1,
      initialTarget: 2,
      maxPods: 10,
      durationS: 300,
      podSignals: cpuSignals,
    });
    const first = ticks.findIndex((k) => k.unschedulable > 0);
    assert.ok(first >= 0);
    const after = ticks.slice(first);
    for (let i = 1; i < after.length; i++) {
      const prev = after[i - 1]!;
      const k = after[i]!;
      if (prev.unschedulable > 0) assert.ok(k.desired <= prev.desired, `t=${k.tS}: ${prev.desired} → ${k.desired} with ${prev.unschedulable} unschedulable`);
    }
  });

  it("repeated bursts: the capacity of the last burst is kept for the next one", () => {
    const ticks = runPlant({
      spec: spec({ replicas: { min: 1, max: 3000 } }),
      qps: (t) => (t % 180 < 30 ? 4000 : 200),
      law: cpu,
      podStartS: 10,
      initialReplicas: 2,
      initialTarget: 2,
      durationS: 900,
      podSignals: cpuSignals,
    });
    const rejectedIn = (fromS: number, toS: number) => ticks.filter((k) => k.tS >= fromS && k.tS < toS).reduce((a, k) => a + k.rejected, 0);
    assert.ok(rejectedIn(0, 60) > 0, "the first burst finds the endpoint small");
    for (const start of [180, 360, 540, 720]) assert.equal(rejectedIn(start, start + 30), 0, `burst at ${start} s`);
  });

  it("steady noisy load: at most 2 replica direction changes per 10 minutes", () => {
    let seed = 7;
    const noise = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.3;
    const qps = Array.from({ length: 1801 }, () => 2000 * (1 + noise()));
    const ticks = runPlant({
      spec: spec({ replicas: { min: 1, max: 3000 } }),
      qps: (t) => qps[t] ?? 2000,
      law: laws.cpu(20, 4),
      podStartS: 10,
      initialReplicas: 12,
      initialTarget: 4,
      durationS: 1800,
      podSignals: (x) => ({ cpuUtil: Math.min(1, x / 4) }),
    });
    let dir = 0;
    let changes = 0;
    for (let i = 1; i < ticks.length; i++) {
      const d = Math.sign(ticks[i]!.desired - ticks[i - 1]!.desired);
      if (d !== 0 && dir !== 0 && d !== dir) changes++;
      if (d !== 0) dir = d;
    }
    assert.ok(changes <= 6, `${changes} direction changes in 30 min`);
  });

  it("vertical: a CPU model settles at its knee within 5 minutes, then stays", () => {
    const ticks = runPlant({
      spec: spec({ concurrency: { min: 1, max: 128 }, replicas: { min: 1, max: 3000 }, sloP99Ms: 300 }),
      qps: () => 1000,
      law: laws.cpu(20, 4),
      podStartS: 10,
      initialReplicas: 8,
      initialTarget: 0,
      durationS: 1200,
      podSignals: (x) => ({ cpuUtil: Math.min(1, x / 4) }),
    });
    const at300 = ticks.find((k) => k.tS === 300)!;
    assert.ok(Math.abs(at300.target - 4) <= 0.8, `target ${at300.target} at 300 s`);
    const changes = ticks.filter((k, i) => i > 0 && k.tS > 300 && k.target !== ticks[i - 1]!.target).length;
    assert.ok(changes <= 1, `${changes} target changes after 300 s`);
  });

  it("a controller restart mid-run changes nothing and never scales down for a down-window", () => {
    const ticks = runPlant({
      spec: spec({ replicas: { min: 1, max: 3000 } }),
      qps: (t) => (t <= 400 ? 4000 : 100),
      law: cpu,
      podStartS: 10,
      initialReplicas: 12,
      initialTarget: 2,
      durationS: 900,
      podSignals: cpuSignals,
      restartAtS: 400,
    });
    const before = ticks.find((k) => k.tS === 399)!;
    const at = ticks.find((k) => k.tS === 400)!;
    assert.equal(at.desired, before.desired);
    assert.equal(at.target, before.target);
    for (const k of ticks.filter((k) => k.tS > 400 && k.tS < 700)) assert.ok(k.desired >= before.desired, `t=${k.tS}: ${k.desired}`);
    assert.ok(ticks[ticks.length - 1]!.desired < before.desired, "scales down once the down-window is full");
  });
});
