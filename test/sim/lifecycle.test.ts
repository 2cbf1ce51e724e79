import assert from "node:assert/strict";
import { test } from "node:test";
import { simulate } from "../../controller/src/sim/simulate.ts";
import { ScriptedPolicy, scenario, total } from "./helpers.ts";

const quiet = { durationS: 60, traffic: [{ untilS: 60, qps: 1 }] };

// series values are sampled at the end of each second: index s covers (s, s+1]
test("lifecycle: pods on warm slots are ready podStartS after creation", () => {
  const sc = scenario({ ...quiet, cluster: { podStartS: 5, warmPoolPods: 10, nodeStartS: 30, maxPods: 10 } });
  const out = simulate(sc, new ScriptedPolicy(5, [{ atMs: 1000, replicas: 3 }]), { initialReplicas: 1 });
  assert.deepEqual([out.series.ready[4], out.series.starting[4]], [1, 2]);
  assert.deepEqual([out.series.ready[6], out.series.starting[6]], [3, 0]);
});

test("lifecycle: beyond the warm pool pods wait for a new node, then pull and load", () => {
  const sc = scenario({ ...quiet, cluster: { podStartS: 5, warmPoolPods: 2, nodeStartS: 30, imagePullS: 2, maxPods: 10 } });
  const out = simulate(sc, new ScriptedPolicy(5, [{ atMs: 1000, replicas: 4 }]), { initialReplicas: 1 });
  assert.deepEqual([out.series.ready[6], out.series.starting[6], out.series.unschedulable[6]], [2, 2, 0]);
  // 1 s + 30 s node + 2 s pull + 5 s start = ready at 38 s
  assert.equal(out.series.ready[37], 2);
  assert.equal(out.series.ready[38], 4);
});

test("lifecycle: beyond maxPods pods are unschedulable until a slot frees", () => {
  const sc = scenario({ ...quiet, cluster: { podStartS: 5, warmPoolPods: 3, nodeStartS: 30, maxPods: 3 } });
  const policy = new ScriptedPolicy(5, [{ atMs: 1000, replicas: 5 }, { atMs: 20_000, replicas: 4 }]);
  const out = simulate(sc, policy, { initialReplicas: 1 });
  assert.deepEqual([out.series.ready[10], out.series.unschedulable[10]], [3, 2]);
  // scaling 5 → 4 deletes an unschedulable pod first; the other stays pending: no slot frees
  assert.deepEqual([out.series.ready[25], out.series.unschedulable[25]], [3, 1]);
});

test("lifecycle: a deleted ready pod drains its in-flight requests before it goes", () => {
  const sc = scenario({
    durationS: 10,
    traffic: [{ untilS: 0.95, qps: 4, arrivals: "uniform" }],
    model: { kind: "io", latencyMs: 5000, maxInFlight: 100 },
    slo: { p99Ms: 10000, queueTimeoutMs: 1000 },
  });
  const out = simulate(sc, new ScriptedPolicy(10, [{ atMs: 2000, replicas: 1 }]), { initialReplicas: 2 });
  assert.equal(total(out.series.served), 3);
  assert.equal(total(out.series.failed), 0);
  assert.deepEqual([out.series.ready[3], out.series.draining[3]], [1, 1]);
  assert.equal(out.series.draining[7], 0);
});

test("lifecycle: requests still running after terminationGraceS fail", () => {
  const sc = scenario({
    durationS: 10,
    traffic: [{ untilS: 0.95, qps: 4, arrivals: "uniform" }],
    model: { kind: "io", latencyMs: 60_000, maxInFlight: 100 },
    slo: { p99Ms: 100_000, queueTimeoutMs: 1000 },
    cluster: { podStartS: 5, warmPoolPods: 10, nodeStartS: 30, maxPods: 10, terminationGraceS: 30 },
  });
  const out = simulate(sc, new ScriptedPolicy(10, [{ atMs: 2000, replicas: 1 }]), { initialReplicas: 2 });
  // arrivals at 0.25, 0.5, 0.75 s alternate over the two pods; the newest pod (1 request) is deleted
  assert.equal(total(out.series.failed), 1);
  assert.equal(total(out.series.served), 2);
  assert.equal(out.series.failed[32], 1);
});

test("lifecycle: node slots left idle for nodeIdleS go away (never below the warm pool)", () => {
  const sc = scenario({
    durationS: 400,
    traffic: [{ untilS: 400, qps: 1 }],
    cluster: { podStartS: 5, warmPoolPods: 2, nodeStartS: 30, maxPods: 10, nodeIdleS: 100 },
  });
  const steps = [
    { atMs: 1000, replicas: 4 }, // 2 on new nodes: ready at 36 s
    { atMs: 60_000, replicas: 1 }, // frees 3 slots
    { atMs: 100_000, replicas: 4 }, // within nodeIdleS: idle slots are reused, ready at 105 s
    { atMs: 150_000, replicas: 1 },
    { atMs: 300_000, replicas: 4 }, // idle > 100 s: the extra nodes are gone, new ones again (ready at 335 s)
  ];
  const out = simulate(sc, new ScriptedPolicy(5, steps), { initialReplicas: 1 });
  assert.equal(out.series.ready[36], 4);
  assert.equal(out.series.ready[105], 4);
  assert.deepEqual([out.series.ready[310], out.series.ready[334], out.series.ready[335]], [2, 2, 4]);
});
