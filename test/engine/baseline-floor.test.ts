/**
 * The low-load service-time baseline cannot be poisoned: a window with no requests in flight is no profile
 * point, a service time under the floor is no point, and the baseline never falls under the floor. Without
 * these a window read at in-flight 0 with a 0 ms service time became the low-load minimum, every normal window
 * then looked infinitely inflated and the target was cut window after window.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, defaultEngineConfig } from "../../controller/src/engine/index.ts";
import { lowLoadServiceMs, updateProfile } from "../../controller/src/engine/profile.ts";
import type { EngineMemory } from "../../controller/src/engine/types.ts";
import { memory, points, samples, spec, state, type Load } from "./helpers.ts";

const cfg = defaultEngineConfig;

describe("profile points (updateProfile)", () => {
  const table: { name: string; inFlight: number; serviceMs: number; merged: boolean }[] = [
    { name: "in-flight 0 with a 0 ms service time: no point", inFlight: 0, serviceMs: 0, merged: false },
    { name: "in-flight 0 with a real service time: no point", inFlight: 0, serviceMs: 5, merged: false },
    { name: "a service time under the floor: no point", inFlight: 2, serviceMs: cfg.serviceTimeFloorMs / 2, merged: false },
    { name: "a NaN service time: no point", inFlight: 2, serviceMs: Number.NaN, merged: false },
    { name: "a normal window: a point", inFlight: 2, serviceMs: 5, merged: true },
    { name: "low but real in-flight: a point", inFlight: 0.05, serviceMs: 5, merged: true },
  ];
  for (const c of table) {
    it(c.name, () => {
      const before = points([4, 6]);
      const after = updateProfile(before, c.inFlight, c.serviceMs, {}, cfg);
      assert.equal(after.length !== before.length || after[0]!.serviceMs !== 6, c.merged, JSON.stringify(after));
    });
  }
  it("a remembered point under the floor is ignored as the lowest point", () => {
    assert.equal(lowLoadServiceMs(points([0.02, 0.1], [4, 6]), cfg.serviceTimeFloorMs), 6);
    assert.equal(lowLoadServiceMs(points([1, 3], [4, 6]), cfg.serviceTimeFloorMs), 3);
  });
});

describe("a poisoned window does not cut the target (decide, closed over memory)", () => {
  for (const idle of [
    { name: "in-flight 0 with 0 ms", load: { qps: 50, serviceMs: 0, readyPods: 4, inFlight: 0, p99Ms: 0, p50Ms: 0 } },
    { name: "in-flight 0 with 1 ms (under the 5 ms baseline)", load: { qps: 50, serviceMs: 1, readyPods: 4, inFlight: 0, p99Ms: 1, p50Ms: 1 } },
  ] as const) it(`windows at ${idle.name} between normal windows keep the target and the baseline`, () => {
    const perWindowMs = 30_000;
    let mem: EngineMemory = memory(0, { lastVerticalAtMs: 300_000 - perWindowMs, lastHorizontalAtMs: 299_000, baselineServiceMs: 5, profile: points([1, 5], [4, 5]) });
    let target = 6;
    const targets: number[] = [];
    const normal: Load = { qps: 3200, serviceMs: 5, readyPods: 4, inFlight: 16, p99Ms: 7, p50Ms: 5 };
    for (let i = 0; i < 8; i++) {
      const nowMs = 300_000 + i * perWindowMs;
      const load: Load = i % 2 === 0 ? idle.load : normal;
      const d = decide({ spec: spec({ concurrency: { min: 1, max: 64 } }), state: state({ targetConcurrency: target }), history: samples(nowMs - 300_000, nowMs, () => load), memory: mem, nowMs });
      target = d.targetConcurrency;
      mem = d.memory;
      targets.push(target);
    }
    assert.ok(targets.every((t) => t >= 6), `targets ${targets.join(" → ")}`);
    assert.ok((mem.vertical.baselineServiceMs ?? 0) >= 4, `baseline ${mem.vertical.baselineServiceMs}`);
  });
});
