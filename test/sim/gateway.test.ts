import assert from "node:assert/strict";
import { test } from "node:test";
import { simulate } from "../../controller/src/sim/simulate.ts";
import { ScriptedPolicy, scenario, total } from "./helpers.ts";

// one pod, limit 1, requests take 1000 ms; 9 evenly spaced arrivals at 0.1, 0.2, ... 0.9 s
const oneSlow = (gateway: Record<string, unknown>, queueTimeoutMs: number) =>
  scenario({
    durationS: 1,
    traffic: [{ untilS: 0.95, qps: 10, arrivals: "uniform" }],
    model: { kind: "io", latencyMs: 1000, maxInFlight: 100 },
    slo: { p99Ms: 5000, queueTimeoutMs },
    gateway,
  });

const cases = [
  // the first request runs 0.1–1.1 s; 0.2 and 0.3 s wait (then run 1.1–2.1 and 2.1–3.1 s); the rest find the queue full
  { name: "queue bound answers 429 at once", gateway: { maxQueue: 2 }, timeoutMs: 5000, want: { served: 3, rejected: 6 } },
  { name: "no queue: every request beyond the pod's limit is a 429", gateway: { maxQueue: 0 }, timeoutMs: 5000, want: { served: 1, rejected: 8 } },
  // queued requests time out 150 ms after arriving, all before the slot frees at 1.1 s
  { name: "queue timeout answers 429", gateway: { maxQueue: 100 }, timeoutMs: 150, want: { served: 1, rejected: 8 } },
  // with a 1000 ms timeout the request queued at 0.2 s gets the slot at 1.1 s (waited 900 ms); the next slot (2.1 s) is too late
  { name: "a request that gets a slot before its timeout is served", gateway: { maxQueue: 100 }, timeoutMs: 1000, want: { served: 2, rejected: 7 } },
];

for (const c of cases) {
  test(`gateway: ${c.name}`, () => {
    const sc = oneSlow(c.gateway, c.timeoutMs);
    const out = simulate(sc, new ScriptedPolicy(1), { initialReplicas: 1 });
    assert.equal(total(out.series.arrivals), 9);
    assert.deepEqual({ served: total(out.series.served), rejected: total(out.series.rejected) }, c.want);
  });
}

test("gateway: queue wait counts in the latency; the per-pod limit is enforced", () => {
  const sc = oneSlow({ maxQueue: 100 }, 1000);
  const policy = new ScriptedPolicy(1, [], true);
  const out = simulate(sc, policy, { initialReplicas: 1 });
  // request 2 arrives at 0.2 s, starts at 1.1 s, ends at 2.1 s: 1900 ms end to end
  const second2 = policy.observed[2]!.sample;
  assert.equal(second2.completions, 1);
  assert.ok(Math.abs(second2.latencyP99Ms! - 1900) / 1900 < 0.05, `p99 ${second2.latencyP99Ms}`);
  for (const o of policy.observed) assert.ok(o.sample.inFlight <= 1);
  assert.equal(out.unfinished, 0);
});

test("gateway: least-connections dispatch spreads requests over ready pods", () => {
  const sc = scenario({
    durationS: 1,
    traffic: [{ untilS: 1, qps: 6, arrivals: "uniform" }],
    model: { kind: "io", latencyMs: 5000, maxInFlight: 100 },
  });
  const policy = new ScriptedPolicy(10, [], true);
  simulate(sc, policy, { initialReplicas: 3 });
  const kv = policy.observed[1]!.pods!.filter((p) => p.phase === "ready").map((p) => p.sample.memoryUtil);
  // every pod holds 2 of the 6 requests, so all pods report the same memory signal
  assert.equal(new Set(kv).size, 1);
});
