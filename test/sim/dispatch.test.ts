import assert from "node:assert/strict";
import { test } from "node:test";
import { BUCKETS, quantile } from "../../controller/src/sim/histogram.ts";
import { simulate } from "../../controller/src/sim/simulate.ts";
import { ScriptedPolicy, scenario, total } from "./helpers.ts";

/** Test double: the scripted policy behind a plain Service (kube-proxy's random pick). */
class RandomScriptedPolicy extends ScriptedPolicy {
  readonly dispatch = "random" as const;
}

// 4 single-core pods, 10 ms requests, 200 req/s evenly spaced: half loaded. Least-connections sends each request
// to an idle pod, so none waits; a random pick sends some to a busy pod while others idle, so they queue in it.
const sc = scenario({
  durationS: 60,
  traffic: [{ untilS: 60, qps: 200, arrivals: "uniform" }],
  model: { kind: "cpu", serviceMs: 10, parallelism: 1 },
  cluster: { podStartS: 1, warmPoolPods: 10, nodeStartS: 30, maxPods: 10 },
  endpoint: { concurrency: { min: 1, max: 100 }, replicas: { min: 4, max: 4 } },
});
const p99 = (out: ReturnType<typeof simulate>): number => {
  const h = new Float64Array(BUCKETS);
  for (let s = 5; s < 55; s++) for (let i = 0; i < BUCKETS; i++) h[i]! += out.series.hist[s * BUCKETS + i]!;
  return quantile(h, 0.99, 0, total(h));
};

test("dispatch: least-connections balances on load; a plain Service's random pick queues requests in busy pods", () => {
  const balanced = simulate(sc, new ScriptedPolicy(100), { initialReplicas: 4 });
  const random = simulate(sc, new RandomScriptedPolicy(100), { initialReplicas: 4 });
  assert.equal(total(random.series.served), total(balanced.series.served));
  assert.ok(p99(balanced) <= 11, `least-connections p99 ${p99(balanced)} ms`);
  assert.ok(p99(random) >= 20, `random p99 ${p99(random)} ms`);
});

test("dispatch: the random pick respects the per-pod limit (a full pod does not take the request)", () => {
  const out = simulate(sc, new RandomScriptedPolicy(1), { initialReplicas: 4 });
  assert.ok(Math.max(...out.series.inFlight) <= 4, `in flight ${Math.max(...out.series.inFlight)} with 4 pods at limit 1`);
});
