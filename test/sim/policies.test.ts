import assert from "node:assert/strict";
import { test } from "node:test";
import { findOptimum } from "../../controller/src/sim/optimum.ts";
import { meanCost } from "../../controller/src/sim/cost.ts";
import { planTraffic, podsFor } from "../../controller/src/sim/plan.ts";
import { ApaPolicy } from "../../controller/src/sim/policies/apa.ts";
import { initialReplicasFor, makePolicy, parsePolicies } from "../../controller/src/sim/policies/index.ts";
import { OraclePolicy, StaticPolicy } from "../../controller/src/sim/policies/oracle.ts";
import { simulate } from "../../controller/src/sim/simulate.ts";
import { scenario } from "./helpers.ts";

const step = scenario({
  durationS: 120,
  traffic: [{ untilS: 30, qps: 100 }, { untilS: 90, qps: 2000 }, { untilS: 120, qps: 100 }],
  model: { kind: "cpu", serviceMs: 5, parallelism: 2, jitter: 0.3 },
  cluster: { podStartS: 10, warmPoolPods: 50, nodeStartS: 60, maxPods: 100 },
  slo: { p99Ms: 100, queueTimeoutMs: 1000 },
  endpoint: { concurrency: { min: 1, max: 16 }, replicas: { min: 1, max: 100 } },
});
const opt = findOptimum(step, 5000);
const plan = planTraffic(step);
const ctx = { scenario: step, optimum: opt, plan, meanCost: meanCost(step), initialReplicas: initialReplicasFor(step, plan, opt, 1) };

test("capacity rule: square-root staffing at the optimum", () => {
  assert.equal(opt.concurrency, 2);
  // 2000 req/s at 400 req/s per pod: a = 2000·2/400 = 10 slots; 10 + 2√10 = 16.3 → 17 slots → 9 pods
  assert.equal(podsFor(2000, { ...opt, throughputRps: 400 }), 9);
  assert.equal(podsFor(0, opt), 0);
});

test("static: sized for the busiest second, never changes", () => {
  const s = makePolicy("static", ctx) as StaticPolicy;
  const peak = Math.max(...plan.counts);
  assert.equal(s.replicas, podsFor(peak, opt));
  const out = simulate(step, s, { initialReplicas: s.replicas });
  assert.equal(out.scaleEvents.length, 0);
  assert.equal(out.series.rejected.reduce((a, b) => a + b, 0), 0);
});

test("oracle: asks for the step's pods the second it comes; oracle-ahead a pod start earlier", () => {
  const o = makePolicy("oracle", ctx) as OraclePolicy;
  const a = makePolicy("oracle-ahead", ctx) as OraclePolicy;
  const high = podsFor(Math.max(...plan.counts.subarray(30, 90)), opt);
  assert.ok(o.podsAt(29) < high && o.podsAt(30) >= podsFor(plan.counts[30]!, opt));
  // 1 s + 10 s pod start of lookahead: it sees second 30 from second 20 on
  assert.ok(a.podsAt(19) < high && a.podsAt(20) >= podsFor(plan.counts[30]!, opt));
  const ro = simulate(step, o, { initialReplicas: o.podsAt(0) });
  const ra = simulate(step, a, { initialReplicas: a.podsAt(0) });
  const rej = (x: typeof ro) => x.series.rejected.reduce((p, q) => p + q, 0);
  assert.ok(rej(ro) > 0, "the reactive oracle still waits for its pods to start");
  assert.equal(rej(ra), 0);
});

test("apa: the engine's decisions drive the replicas and the gateway's per-pod limit", () => {
  const apa = new ApaPolicy(step);
  const out = simulate(step, apa, { initialReplicas: ctx.initialReplicas });
  assert.ok(apa.decisions.length > 0);
  for (const d of apa.decisions) {
    const s = Math.floor(d.atMs / 1000);
    assert.equal(out.series.targetConcurrency[s], d.targetConcurrency, `limit at ${s} s`);
  }
  assert.ok(Math.max(...out.series.desired.subarray(30, 90)) > ctx.initialReplicas, "APA scales up for the step");
});

test("policy list parsing names the bad entry", () => {
  assert.deepEqual(parsePolicies("apa, kpa"), ["apa", "kpa"]);
  assert.throws(() => parsePolicies("apa,kpb"), /--policies: unknown policy "kpb"; allowed: apa, apa-reactive, kpa, hpa, ray, kpa-default, kpa-tuned, hpa-cpu, ray-default, static, oracle, oracle-ahead/);
});
