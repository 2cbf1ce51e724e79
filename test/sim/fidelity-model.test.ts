/**
 * The simulator's production-fidelity parts: pod start that grows with concurrent starts, spread and failed
 * starts, serving pods slowed by starting pods, and the signals the engine gets (production's only unless a
 * scenario opts in; `signals: "gateway"` through the production reader's functions).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApaPolicy } from "../../controller/src/sim/policies/apa.ts";
import type { EndpointSample } from "../../controller/src/engine/types.ts";
import type { SecondObservation } from "../../controller/src/sim/policies/types.ts";
import { simulate } from "../../controller/src/sim/simulate.ts";
import { BUCKETS, quantile } from "../../controller/src/sim/histogram.ts";
import { ScriptedPolicy, scenario } from "./helpers.ts";

const quiet = { durationS: 60, traffic: [{ untilS: 60, qps: 1 }] };

describe("pod start", () => {
  it("grows with the pods starting at the same moment: each of them counts all the others", () => {
    // six pods at once, 0.5 s alone + 0.2 s per other concurrent start: every one of them (the first created too) is
    // ready 0.5 + 5·0.2 = 1.5 s later, at 2.5 s (counting only the ones created before it, the first three would be
    // ready by 2 s); a pod that starts alone later (10.7 s) takes 0.5 s
    const sc = scenario({ ...quiet, cluster: { podStartS: 0.5, podStartPerConcurrentS: 0.2, warmPoolPods: 10, nodeStartS: 30, maxPods: 10 } });
    const out = simulate(sc, new ScriptedPolicy(5, [{ atMs: 1000, replicas: 7 }, { atMs: 10_700, replicas: 8 }]), { initialReplicas: 1 });
    // the series at index s is the state at the end of second s (time (s + 1) s)
    assert.equal(out.series.ready[1], 1, "none of the six ready at 2 s (the first created is slowed by the five after it)");
    assert.equal(out.series.ready[2], 7, "all six ready by 3 s");
    assert.equal(out.series.ready[10], 7, "the lone start is not ready at 11 s");
    assert.equal(out.series.ready[11], 8, "alone: 0.5 s, ready by 12 s");
  });
  it("spreads around its mean and sometimes fails and retries", () => {
    const sc = scenario({ ...quiet, durationS: 120, traffic: [{ untilS: 120, qps: 1 }], endpoint: { concurrency: { min: 1, max: 10 }, replicas: { min: 1, max: 100 } }, cluster: { podStartS: 10, podStartSpread: 0.5, podStartFailureFraction: 0.3, podStartRetryS: 10, warmPoolPods: 100, nodeStartS: 30, maxPods: 100 } });
    const out = simulate(sc, new ScriptedPolicy(5, [{ atMs: 1000, replicas: 41 }]), { initialReplicas: 1 });
    const readyAt = (n: number) => out.series.ready.findIndex((r) => r >= n);
    // spread: some ready well before 11 s, the median near it; failures: the last ones after a retry (> 21 s)
    assert.ok(readyAt(5) < 10, `5 ready at ${readyAt(5)}`);
    assert.ok(readyAt(41) > 21, `all ready at ${readyAt(41)}`);
  });
  it("slows the pods already serving while others start (node CPU)", () => {
    const base = { durationS: 30, traffic: [{ untilS: 30, qps: 20, arrivals: "uniform" }], model: { kind: "cpu", serviceMs: 10, parallelism: 1 } };
    const calm = scenario({ ...base, cluster: { podStartS: 20, warmPoolPods: 20, nodeStartS: 30, maxPods: 20 } });
    const busy = scenario({ ...base, cluster: { podStartS: 20, startSlowdownPerPod: 0.1, warmPoolPods: 20, nodeStartS: 30, maxPods: 20 } });
    const steps = [{ atMs: 1000, replicas: 11 }];
    const median = (sc: typeof calm): number => {
      const out = simulate(sc, new ScriptedPolicy(5, steps), { initialReplicas: 1 });
      const h = new Float64Array(BUCKETS);
      let n = 0;
      for (let sec = 5; sec < 15; sec++) for (let i = 0; i < BUCKETS; i++) h[i]! += out.series.hist[sec * BUCKETS + i]!;
      for (const x of h) n += x;
      return quantile(h, 0.5, 0, n);
    };
    // 10 pods starting: the serving pod runs at 1/(1 + 0.1·10) = half speed, so a lone 10 ms request takes 20 ms
    const a = median(calm);
    const b = median(busy);
    assert.ok(Math.abs(a - 10) < 1, `calm ${a}`);
    assert.ok(Math.abs(b - 20) < 2, `busy ${b}`);
  });
});

describe("signals the engine gets", () => {
  const run = (over: Record<string, unknown>) => {
    const sc = scenario({ durationS: 40, traffic: [{ untilS: 40, qps: 200 }], model: { kind: "io", latencyMs: 100, maxInFlight: 100 }, ...over });
    const policy = new ApaPolicy(sc);
    const seen: SecondObservation[] = [];
    const inner = policy.observe.bind(policy);
    let engineAt30: EndpointSample | undefined;
    policy.observe = (o) => {
      seen.push(o);
      inner(o);
      if (o.sample.atMs === 30_000) engineAt30 = policy.driver.history.at(-1);
    };
    simulate(sc, policy, { initialReplicas: 2 });
    // the sample at 30 s: under load (the history runs on into the idle drain tail)
    const at30 = (): EndpointSample => engineAt30!;
    return { policy, seen, at30 };
  };
  it("by default: pod metrics every 15 s (means over the period), the gateway's over-objective count", () => {
    const { policy, at30 } = run({});
    const withPods = policy.driver.history.filter((s) => s.pods !== undefined).map((s) => s.atMs);
    assert.ok(withPods.length >= 1 && withPods.every((t) => t % 15_000 === 0), withPods.join(","));
    assert.equal(at30().overObjective, 0, "the gateway counts requests over the objective");
  });
  it("exact mode (an opt-in): no over-objective count unless asked for", () => {
    const { policy } = run({ signals: { mode: "exact" } });
    assert.ok(policy.driver.history.every((s) => s.overObjective === undefined));
  });
  it("pod memory is flat unless the scenario opts in", () => {
    const mem = (r: ReturnType<typeof run>) => Math.max(...(r.at30().pods ?? []).map((p) => p.memoryUtil ?? 0));
    const flat = mem(run({ signals: { podMetricsIntervalS: 1 } }));
    const rising = mem(run({ signals: { podMetricsIntervalS: 1 }, model: { kind: "io", latencyMs: 100, maxInFlight: 100, memoryPerInFlight: 0.01 } }));
    assert.equal(flat, 0.2);
    assert.ok(rising > 0.21, String(rising));
  });
  it("podSignals: the local loop's /proc reader gives CPU alone, memory is withheld from the engine", () => {
    const pods = (r: ReturnType<typeof run>) => r.at30().pods ?? [];
    const all = pods(run({ signals: { podMetricsIntervalS: 1 } }));
    const cpuOnly = pods(run({ signals: { podMetricsIntervalS: 1, podSignals: ["cpuUtil"] } }));
    assert.ok(all.some((p) => p.memoryUtil !== undefined));
    assert.ok(cpuOnly.length > 0 && cpuOnly.some((p) => p.ready));
    for (const p of cpuOnly.filter((x) => x.ready)) assert.deepEqual(Object.keys(p).sort(), ["cpuUtil", "ready"]);
  });
  it("gateway mode: the production reader's fields (whole-ms timers, histogram quantiles, over-objective)", () => {
    const exact = run({ signals: { mode: "exact" } }).at30();
    const gw = run({}).at30();
    assert.ok(gw.serviceTimeMs !== undefined && exact.serviceTimeMs !== undefined);
    assert.ok(Math.abs(gw.serviceTimeMs - exact.serviceTimeMs) < 1, `${gw.serviceTimeMs} vs ${exact.serviceTimeMs}`);
    assert.equal(gw.overObjective, 0, "counted by the reader");
    assert.equal(exact.overObjective, undefined);
    assert.equal(gw.arrivals, exact.arrivals);
  });
});

describe("scenario engine overrides", () => {
  it("engine.scaleDownWindowMs sets the APA engine's down-window (a local-loop run's --down-window-s 30)", () => {
    // 200 req/s of a 100 ms I/O model for 40 s, then 5 req/s: with a 30 s window the replicas come down within
    // ~40 s of the drop; with the default 300 s window they are still up at the end
    const over = (engine: Record<string, number>) => scenario({
      durationS: 120, traffic: [{ untilS: 40, qps: 200 }, { untilS: 120, qps: 5 }], model: { kind: "io", latencyMs: 100, maxInFlight: 16 },
      endpoint: { concurrency: { min: 1, max: 16 }, replicas: { min: 1, max: 20 }, initialTargetConcurrency: 4 }, engine,
    });
    const readyAt = (engine: Record<string, number>, s: number) => {
      const sc = over(engine);
      return simulate(sc, new ApaPolicy(sc), { initialReplicas: 1 }).series.ready[s]!;
    };
    const peak = readyAt({}, 39);
    assert.ok(peak >= 3, `peak ${peak}`);
    assert.ok(readyAt({ scaleDownWindowMs: 30_000 }, 110) < peak, "30 s window: scaled down");
    assert.equal(readyAt({}, 110), peak, "default window: still at the peak");
  });
});

describe("429s booked two ways", () => {
  it("by the second they were answered (the gateway's count) and by the second their request arrived (a client's)", () => {
    // one pod busy 30 s with its first request, limit 1: every later request waits 1 s in the queue and is answered 429
    const sc = scenario({ durationS: 4, traffic: [{ untilS: 4, qps: 2, arrivals: "uniform" }], model: { kind: "io", latencyMs: 30_000, maxInFlight: 1 }, slo: { p99Ms: 1000, queueTimeoutMs: 1000 } });
    const out = simulate(sc, new ScriptedPolicy(1), { initialReplicas: 1 });
    const first = (a: Float64Array) => Array.from(a.subarray(0, 6));
    // arrivals at 0.5, 1, 1.5, … 3.5 s: the first is served, the other six time out 1 s later
    assert.deepEqual(first(out.series.rejectedByArrival), [0, 2, 2, 2, 0, 0]);
    assert.deepEqual(first(out.series.rejected), [0, 0, 2, 2, 2, 0]);
  });
});
