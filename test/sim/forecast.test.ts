/**
 * Forecasting through the simulator: the engine with its learned seasonality (policy `apa`) against the same engine
 * without it (`apa-reactive`), on periodic bursts a pod start long, while the pattern holds and after it stops.
 * Compressed clock (as controller/scenarios/periodic-bursts.json): a 600 s period of 60 buckets (10 s), bursts of 60 s
 * at 3000 req/s over 100 req/s, pods that take 30 s to start.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runScenario } from "../../controller/src/sim/run.ts";
import { scenario } from "./helpers.ts";

const bursts = { bursty: { onQps: 3000, offQps: 100, onS: 60, offS: 540 } };
const base = {
  seed: 7,
  model: { kind: "cpu", serviceMs: 5, parallelism: 2, jitter: 0.3 },
  cluster: { podStartS: 30, warmPoolPods: 100, nodeStartS: 90, maxPods: 1000 },
  slo: { p99Ms: 100, queueTimeoutMs: 1000 },
  endpoint: { concurrency: { min: 1, max: 64 }, replicas: { min: 1, max: 1000 } },
  engine: { forecastPeriodMs: 600_000, forecastBuckets: 60 },
};
const sum = (a: Float64Array, from: number, to: number): number => {
  let t = 0;
  for (let s = from; s < to; s++) t += a[s] ?? 0;
  return t;
};

describe("forecasting against reactive APA", () => {
  it("while the pattern holds: at least 50% fewer 429s at no more than 1.1× the replica-seconds", () => {
    const sc = scenario({ ...base, name: "bursts-hold", durationS: 3000, traffic: [{ untilS: 3000, ...bursts }] });
    const run = runScenario(sc, ["apa", "apa-reactive"]);
    const [apa, reactive] = run.runs.map((r) => r.result);
    assert.ok(apa !== undefined && reactive !== undefined);
    assert.ok(reactive.rejected > 0, "the reactive engine rejects during each burst's pod start");
    assert.ok(apa.rejected <= 0.5 * reactive.rejected, `429s ${apa.rejected} vs reactive ${reactive.rejected}`);
    assert.ok(apa.replicaSeconds <= 1.1 * reactive.replicaSeconds, `replica-s ${apa.replicaSeconds.toFixed(0)} vs reactive ${reactive.replicaSeconds.toFixed(0)}`);
  });

  it("when the pattern stops: never worse than reactive (no more 429s; after the stop, at most one period's miss of extra pods)", () => {
    const stopS = 2400;
    const sc = scenario({ ...base, name: "bursts-stop", durationS: 3600, traffic: [{ untilS: stopS, ...bursts }, { untilS: 3600, qps: 100 }] });
    const run = runScenario(sc, ["apa", "apa-reactive"]);
    const [apa, reactive] = run.runs;
    assert.ok(apa !== undefined && reactive !== undefined);
    const a = apa.output.series;
    const r = reactive.output.series;
    assert.ok(sum(a.rejected, 0, sc.durationS) <= sum(r.rejected, 0, sc.durationS), "no more 429s over the run");
    assert.equal(sum(a.rejected, stopS, sc.durationS), sum(r.rejected, stopS, sc.durationS), "the same 429s after the stop");
    // after the stop the forecast raises the floor once for the burst that does not come, then switches off
    const extra = sum(a.podSeconds, stopS, sc.durationS) - sum(r.podSeconds, stopS, sc.durationS);
    const burstPods = Math.max(...Array.from(r.ready.slice(0, stopS)));
    assert.ok(extra <= burstPods * 600, `extra pod-seconds after the stop ${extra.toFixed(0)} ≤ one period of burst-sized pods (${burstPods} × 600 s)`);
    assert.ok(apa.result.replicaSeconds <= 1.1 * reactive.result.replicaSeconds, `replica-s ${apa.result.replicaSeconds.toFixed(0)} vs ${reactive.result.replicaSeconds.toFixed(0)}`);
  });
});
