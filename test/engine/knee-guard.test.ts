import assert from "node:assert/strict";
import { it } from "node:test";
import { decide } from "../../controller/src/engine/index.ts";
import { kneeContradicted } from "../../controller/src/engine/vertical-learn.ts";
import type { EngineMemory } from "../../controller/src/engine/types.ts";
import { memory, samples, spec, state } from "./helpers.ts";

// Time steps of 30 s (one vertical window each): a low-load window, a transient window in which the pods were
// slow at 4 in flight (on a shared machine: CPU taken by pods starting next to them), then a window at 2 in
// flight with no inflation at all. The transient leaves a latency knee in the learned profile; the third
// window contradicts it, and the freshest evidence wins: no cut on that knee.
it("a learned latency knee contradicted by the present window does not cut the target", () => {
  const windows = [
    { inFlight: 1, serviceMs: 100 },
    { inFlight: 4, serviceMs: 400 },
    { inFlight: 2, serviceMs: 100 },
  ];
  let mem: EngineMemory | undefined = memory(0);
  let target = 8;
  const reasons: string[] = [];
  windows.forEach((w, i) => {
    const now = 600_000 + i * 30_000;
    const qps = (w.inFlight * 4 * 1000) / w.serviceMs;
    const history = samples(now - 30_000, now, () => ({ qps, serviceMs: w.serviceMs, readyPods: 4, inFlight: w.inFlight * 4 }));
    const d = decide({ spec: spec({ sloP99Ms: undefined }), state: state({ targetConcurrency: target }), history, memory: mem, nowMs: now });
    mem = d.memory;
    target = d.targetConcurrency;
    reasons.push(`${d.concurrencyReason}: ${d.concurrencyMessage}`);
  });
  assert.doesNotMatch(reasons[2] ?? "", /latency knee/, reasons.join("\n"));
});

// The knee's own law predicts an inflation of inFlight / knee past it: only a window where that prediction
// reaches the raise threshold (1.1) and the measurement does not contradicts the knee.
it("kneeContradicted: a window just past the knee is consistent with it; one clearly past it without inflation is not", () => {
  const rows: readonly (readonly [knee: number, inFlight: number, inflation: number, contradicted: boolean])[] = [
    [1, 2, 1.0, true], // predicted 2.0, measured 1.0
    [99.4, 101, 1.03, false], // predicted 1.016: just past the knee, the law itself is under the threshold
    [99.4, 109, 1.0, false], // predicted 1.097
    [99.4, 110, 1.0, true], // predicted 1.107
    [99.4, 120, 1.2, false], // predicted 1.21, measured 1.2: the knee holds
    [99.4, 80, 1.0, false], // below the knee: says nothing about it
  ];
  for (const [knee, inFlight, inflation, want] of rows) {
    assert.equal(kneeContradicted(knee, inFlight, inflation, 1.1), want, `knee ${knee}, window at ${inFlight} with inflation ${inflation}`);
  }
});

// An I/O pod flat up to 100 in flight (500 ms), slower in proportion past it: a window at 120 in flight (602 ms)
// teaches a knee at ~99.7; the target is cut to 108. When the replicas later fall so that the pods run at 101
// in flight (513 ms), that window is consistent with the knee: the target holds (no raise back past the knee).
it("a window just past a learned knee keeps the knee as a cap: the target is not raised past it", () => {
  const windows = [
    { inFlight: 60, serviceMs: 500, pods: 8 },
    { inFlight: 120, serviceMs: 602, pods: 4 },
    { inFlight: 84, serviceMs: 500, pods: 6 },
    { inFlight: 101, serviceMs: 513, pods: 5 },
    { inFlight: 101, serviceMs: 513, pods: 5 },
    { inFlight: 101, serviceMs: 513, pods: 5 },
    { inFlight: 101, serviceMs: 513, pods: 5 },
  ];
  let mem: EngineMemory | undefined = memory(0);
  let target = 216;
  const trace: string[] = [];
  windows.forEach((w, i) => {
    const now = 600_000 + i * 30_000;
    const qps = (w.inFlight * w.pods * 1000) / w.serviceMs;
    const history = samples(now - 30_000, now, () => ({ qps, serviceMs: w.serviceMs, readyPods: w.pods, inFlight: w.inFlight * w.pods }));
    const d = decide({ spec: spec({ sloP99Ms: undefined, concurrency: { min: 1, max: 512 }, runtime: "custom" }), state: state({ targetConcurrency: target, readyReplicas: w.pods, desiredReplicas: w.pods }), history, memory: mem, nowMs: now });
    mem = d.memory;
    target = d.targetConcurrency;
    trace.push(`${target} ${d.concurrencyReason}: ${d.concurrencyMessage}`);
  });
  const final = trace.slice(2).map((t) => Number(t.split(" ")[0]));
  assert.ok(final.every((t) => t >= 90 && t <= 115), trace.join("\n"));
  assert.ok(final.every((t) => t === final[0]), trace.join("\n"));
});
