import assert from "node:assert/strict";
import { it } from "node:test";
import { decide } from "../../controller/src/engine/index.ts";
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
