/**
 * The whole loop for real on 127.0.0.1: HAProxy + agent + model-server processes + the APA engine, driven by an
 * open-loop step load (10 → 120 req/s, 3× the 40 req/s the first replica serves at target 4 with a 101 ms model), with one
 * replica killed under load. Bounded: about 45 s. The down-window (scale-down after the load falls) is shown by
 * `npm run dev -- --demo` (it needs minutes).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { defaultEngineConfig } from "../../controller/src/engine/config.ts";
import { startLocalRun, type LocalRun } from "../../controller/src/local/local-run.ts";

describe("whole loop (real HAProxy, real processes, real engine)", () => {
  let run: LocalRun | undefined;
  after(async () => run?.stop());

  it("absorbs a step (replicas rise, 429s stop within 30 s) and replaces a killed replica, failing only its own requests", async (t) => {
    const stepAt = 8;
    run = await startLocalRun({
      endpoint: "iris",
      apiKey: "k",
      spec: {
        concurrency: { min: 1, max: 16 }, replicas: { min: 1, max: 8 }, provisionedConcurrency: 0, scaleToZero: false,
        runtime: "mlflow", sloP99Ms: 500, initialTargetConcurrency: 4,
      },
      engineConfig: defaultEngineConfig,
      cpuMs: 1,
      sleepMs: 100,
      queueTimeoutMs: 1000,
      maxQueue: 200,
      phases: [{ rate: 10, durationS: stepAt }, { rate: 120, durationS: 34 }],
      killAtS: stepAt + 22,
      onNotice: (m) => t.diagnostic(m),
    });
    await run.loadDone;
    await new Promise((r) => setTimeout(r, 1500));
    const report = run.report();
    for (const line of report.lines) t.diagnostic(line);
    const step = run.records.filter((r) => r.tS >= stepAt);
    assert.ok(Math.max(...step.map((r) => r.readyReplicas)) >= 2, "replicas rose");
    assert.ok(report.stepRejectionsStopS !== undefined && report.stepRejectionsStopS <= 30, `429s stopped ${report.stepRejectionsStopS} s after the step`);
    const kill = run.kills[0];
    assert.ok(kill, "a replica was killed");
    // Only the killed pod's own requests fail: at most its limit (it never holds more in flight), none answered 5xx
    // by another slot (gateway log), and no client-side failure away from the kill.
    // Requests are booked to the second they were sent: one on the pod at the kill was sent up to the queue timeout
    // (1 s) plus its service time before it, so the window is the kill's load second ±2.
    const around = run.records.filter((r) => Math.abs(r.tS - kill.loadSecond) <= 2);
    const limit = Math.max(...around.map((r) => r.targetConcurrency));
    const failedAround = around.reduce((a, r) => a + r.failed, 0);
    t.diagnostic(`kill: ${failedAround} failed, ${kill.inFlightOnPod} in flight on the pod just before, pod limit ${limit}`);
    assert.ok(failedAround <= limit, `failed ${failedAround} > the killed pod's limit ${limit}`);
    assert.equal(kill.failedElsewhere, 0, `5xx on other slots: ${kill.failedElsewhere}`);
    assert.equal(report.failedTotal, failedAround, "no client-side failures apart from those around the kill");
    assert.ok(kill.replacedAfterS !== undefined && kill.replacedAfterS <= 5, `replaced after ${kill.replacedAfterS} s`);
  });
});
