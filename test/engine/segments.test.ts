import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide } from "../../controller/src/engine/index.ts";
import { defaultEngineConfig } from "../../controller/src/engine/config.ts";
import { operatingPoints } from "../../controller/src/engine/segments.ts";
import { memory, samples, spec, state, type Load } from "./helpers.ts";

/** I/O pods: `pods` ready at `perPod` in flight each, 500 ms calls. */
const io = (pods: number, perPod: number): Load => ({ qps: (pods * perPod * 1000) / 500, serviceMs: 500, readyPods: pods, inFlight: pods * perPod, pod: { cpuUtil: 0.05 + 0.004 * perPod, memoryUtil: 0.2 + 0.006 * perPod } });

describe("operating points inside a window", () => {
  const table: { name: string; input: { changeAtS: number; before: Load; after: Load }; want: number[] }[] = [
    { name: "one operating point: one part", input: { changeAtS: 15, before: io(33, 15), after: io(33, 15) }, want: [30] },
    { name: "a scale-up mid-window: two parts at the change", input: { changeAtS: 15, before: io(6, 23), after: io(33, 15) }, want: [14, 16] },
    { name: "a change too close to the window's edge: one part", input: { changeAtS: 5, before: io(6, 23), after: io(33, 15) }, want: [30] },
    { name: "more pods, but the same profile bin: one part", input: { changeAtS: 15, before: io(30, 16), after: io(33, 15) }, want: [30] },
  ];
  for (const { name, input, want } of table) {
    it(name, () => {
      const w = samples(0, 30_000, (t) => (t < input.changeAtS * 1000 ? input.before : input.after));
      assert.deepEqual(operatingPoints(w, 1, defaultEngineConfig).map((p) => p.length), want);
    });
  }
});

describe("vertical: a window that spans a scale-up gives the profile both points", () => {
  it("the few pods at the limit and the many after are two profile points, and the memory line is fitted", () => {
    const now = 60_000;
    const history = samples(0, now, (t) => (t <= 44_000 && t > 30_000 ? io(6, 23) : io(33, 15.2)));
    const d = decide({
      spec: spec({ runtime: "custom", concurrency: { min: 1, max: 512 }, sloP99Ms: 2000 }),
      state: state({ readyReplicas: 33, desiredReplicas: 33, targetConcurrency: 23 }),
      history,
      memory: memory(0, { lastVerticalAtMs: 30_000, lastHorizontalAtMs: now - 1000, baselineServiceMs: 500 }),
      nowMs: now,
    });
    const xs = d.memory.vertical.profile.map((p) => Math.round(p.inFlight * 10) / 10);
    assert.deepEqual(xs, [15.2, 23]);
  });
});
