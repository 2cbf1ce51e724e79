/**
 * The whole loop for real on 127.0.0.1: HAProxy + agent + model-server processes + the APA engine, driven by an
 * open-loop step load (15 → 150 req/s, 3× what the first replica serves at target 4 with a 51 ms model), with one
 * replica killed under load. Bounded: about 45 s. The down-window part of acceptance 3 is shown by
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
        concurrency: { min: 1, max: 16 }, replicas: { min: 1, max: 6 }, provisionedConcurrency: 0, scaleToZero: false,
        runtime: "mlflow", sloP99Ms: 500, initialTargetConcurrency: 4,
      },
      engineConfig: defaultEngineConfig,
      cpuMs: 1,
      sleepMs: 50,
      queueTimeoutMs: 1000,
      maxQueue: 200,
      phases: [{ rate: 15, durationS: stepAt }, { rate: 150, durationS: 34 }],
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
    const maxconn = Math.max(...run.records.filter((r) => Math.abs(r.tS - kill.tS) <= 2).map((r) => r.targetConcurrency));
    const failedAround = run.records.filter((r) => r.tS >= kill.tS - 1 && r.tS <= kill.tS + 2).reduce((a, r) => a + r.failed, 0);
    assert.ok(failedAround <= maxconn, `failed ${failedAround} > the killed pod's limit ${maxconn}`);
    assert.equal(report.failedTotal, failedAround, "no failures apart from the killed pod's requests");
    assert.ok(kill.replacedAfterS !== undefined && kill.replacedAfterS <= 5, `replaced after ${kill.replacedAfterS} s`);
  });
});
