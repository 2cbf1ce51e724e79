/**
 * The local loop and the run report, without processes: time-step scenarios with test doubles for the engine
 * (`fakeDecide`, a scripted decision function) and the scaler (`FakeScaler`).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Decision, DecisionInput, EndpointSample, ReplicaState } from "../../controller/src/engine/types.ts";
import { parseLoadPhases } from "../../controller/src/local/load.ts";
import { LocalLoop } from "../../controller/src/local/loop.ts";
import { emptyVerticalMemory } from "../../controller/src/engine/vertical.ts";
import { emptySeasonality } from "../../controller/src/engine/seasonality.ts";
import { defaultEngineConfig } from "../../controller/src/engine/config.ts";
import { summariseRun, type SecondRecord } from "../../controller/src/local/run-report.ts";

/** Test double of the local scaler: records scaleTo calls; ready follows desired at once. */
class FakeScaler {
  desired = 1;
  calls: number[] = [];
  state(targetConcurrency: number): ReplicaState {
    return { desiredReplicas: this.desired, readyReplicas: this.desired, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency };
  }
  scaleTo(n: number): void {
    this.calls.push(n);
    this.desired = n;
  }
}

/** Test double of the engine: answers from a script keyed by call number, runs again 5 s later. */
function fakeDecide(script: Array<{ replicas: number; target: number }>, seen: DecisionInput[]) {
  return (input: DecisionInput): Decision => {
    seen.push(input);
    const step = script[Math.min(seen.length - 1, script.length - 1)] as { replicas: number; target: number };
    return {
      desiredReplicas: step.replicas, replicasReason: "Steady", replicasMessage: "scripted",
      targetConcurrency: step.target, concurrencyReason: "Hold", concurrencyMessage: "scripted",
      observedConcurrency: undefined, nextRunAtMs: input.nowMs + 5000, regularRunAtMs: input.nowMs + 5000,
      memory: { lastHorizontalAtMs: input.nowMs, lastVerticalAtMs: input.nowMs, sinceMs: 0, recommendations: [], vertical: emptyVerticalMemory },
      seasonality: emptySeasonality(defaultEngineConfig, input.nowMs),
    };
  };
}

const sample = (atMs: number): EndpointSample => ({ atMs, intervalMs: 1000, inFlight: 1, queued: 0, arrivals: 10, completions: 10, rejections: 0 });

describe("LocalLoop", () => {
  it("samples every tick, decides through the driver when a decision can change anything, applies replicas and target, keeps bounded history", async () => {
    let now = 0;
    const seen: DecisionInput[] = [];
    const scaler = new FakeScaler();
    const targets: number[] = [];
    const changes: string[] = [];
    const loop = new LocalLoop(
      {
        endpoint: "ep",
        spec: { concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 }, provisionedConcurrency: 0, scaleToZero: false, runtime: "mlflow" },
        decide: fakeDecide([{ replicas: 1, target: 4 }, { replicas: 3, target: 4 }, { replicas: 3, target: 2 }], seen),
        sample: async (t) => sample(t),
        scaler,
        setTargetConcurrency: (t) => targets.push(t),
        now: () => now,
        historyMs: 10_000,
        onChange: (m) => changes.push(m),
      },
      4,
    );
    for (let s = 0; s <= 60; s++) {
      // ticks land with timer jitter (999 ms apart now and then): none is skipped for it
      now = s * 1000 - (s % 3 === 1 ? 1 : 0);
      await loop.tick();
    }
    // t=0: first decision (holds), t=5: scale to 3, t=10: cut target to 2, then every 5 s.
    assert.deepEqual(seen.slice(0, 4).map((i) => i.nowMs), [0, 5000, 9999, 15_000]);
    assert.deepEqual(scaler.calls, [3]);
    assert.deepEqual(targets, [2]);
    assert.equal(loop.targetConcurrency, 2);
    assert.equal(seen[1]?.memory?.lastHorizontalAtMs, 0, "memory passed back");
    assert.equal(seen[2]?.state.targetConcurrency, 4, "state carries the limit in force");
    // the driver keeps what the engine reads (35 s) plus at most one trim batch of 8 samples
    assert.ok(loop.driver.history.length <= 35 + 8, `history ${loop.driver.history.length}`);
    assert.ok((seen.at(-1)?.history.length ?? 0) >= 35, "at least what the engine reads");
    assert.deepEqual(changes, ["replicas 1 → 3: Steady: scripted", "target concurrency 4 → 2: Hold: scripted"]);
  });
});

describe("summariseRun", () => {
  const rec = (tS: number, o: Partial<SecondRecord> = {}): SecondRecord => ({
    tS, offered: 0, sent: 10, ok: 10, rejected: 0, failed: 0, clientP99Ms: 50, inFlight: 1, queued: 0, gatewayP99Ms: 50,
    desiredReplicas: 1, readyReplicas: 1, startingReplicas: 0, targetConcurrency: 4, reason: "Steady/Hold", ...o,
  });
  it("finds when 429s stopped after the step, the step's tail p99, the scale-down sequence and kill figures", () => {
    const phases = parseLoadPhases("10@5,100@20,10@10");
    const records = Array.from({ length: 35 }, (_, t) => {
      if (t >= 5 && t < 25) return rec(t, { rejected: t < 8 ? 5 : 0, clientP99Ms: t < 8 ? 900 : 120, desiredReplicas: 3, readyReplicas: t < 7 ? 1 : 3 });
      if (t >= 25) return rec(t, { desiredReplicas: t < 31 ? 3 : t < 33 ? 2 : 1 });
      return rec(t);
    });
    const r = summariseRun(records, phases, { sloP99Ms: 250, downWindowS: 5, kills: [{ tS: 10, loadSecond: 10, atMs: 0, podId: "p", inFlightOnPod: 2, slot: "be/pod1", replacedAfterS: 1, failedOnPod: 2, failedElsewhere: 0 }] });
    assert.equal(r.stepRejectionsStopS, 3);
    assert.equal(r.stepP99Ms, 120);
    assert.equal(r.scaleDownAfterDropS, 6);
    assert.match(r.lines.join("\n"), /3→2 at \+6 s, 2→1 at \+8 s; the low-load count 1 reached 8 s after the drop/);
    assert.match(r.lines.join("\n"), /kill at 10 s of p \(2 requests in flight.*replaced \(ready count restored\) after 1 s/);
  });

  it("rejects malformed load phases with the part and what is allowed", () => {
    assert.throws(() => parseLoadPhases("10@5,fast@2"), /--load: phase 2 "fast@2" is not allowed; use <requests per second>@<seconds>/);
    assert.throws(() => parseLoadPhases("9000@5"), /rate must be 0..5000 req\/s/);
  });
});
