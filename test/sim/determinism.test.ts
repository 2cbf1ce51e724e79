import assert from "node:assert/strict";
import { test } from "node:test";
import { KpaPolicy } from "../../controller/src/sim/policies/kpa.ts";
import { simulate } from "../../controller/src/sim/simulate.ts";
import { scenario } from "./helpers.ts";

const spike = (seed: number) =>
  scenario({
    seed,
    durationS: 120,
    traffic: [{ untilS: 30, qps: 50 }, { untilS: 90, qps: 1500 }, { untilS: 120, qps: 50 }],
    model: { kind: "cpu", serviceMs: 5, parallelism: 2, jitter: 0.3 },
    cluster: { podStartS: 10, warmPoolPods: 50, nodeStartS: 60, maxPods: 100 },
    slo: { p99Ms: 100, queueTimeoutMs: 1000 },
    endpoint: { concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 100 } },
  });

function fingerprint(seed: number) {
  const sc = spike(seed);
  const out = simulate(sc, new KpaPolicy(sc), { initialReplicas: 1 });
  return {
    arrivals: Array.from(out.series.arrivals),
    served: Array.from(out.series.served),
    rejected: Array.from(out.series.rejected),
    ready: Array.from(out.series.ready),
    hist: Buffer.from(out.series.hist.buffer).toString("base64"),
    events: out.scaleEvents,
  };
}

test("determinism: the same seed gives an identical run", () => {
  assert.deepEqual(fingerprint(7), fingerprint(7));
});

test("determinism: another seed gives other arrivals", () => {
  assert.notDeepEqual(fingerprint(7).arrivals, fingerprint(8).arrivals);
});
