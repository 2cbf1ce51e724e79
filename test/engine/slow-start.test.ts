/**
 * Vertical slow start (engine/vertical-slow-start.ts): before anything is learned, a target that makes the gateway
 * reject requests at unstressed pods is raised every fast window; stress ends it for good.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultEngineConfig as cfg } from "../../controller/src/engine/config.ts";
import type { VerticalMemory } from "../../controller/src/engine/types.ts";
import { decideVertical, emptyVerticalMemory } from "../../controller/src/engine/vertical.ts";
import { slowStartOpen, slowStartStep } from "../../controller/src/engine/vertical-slow-start.ts";
import { memory, points, samples, spec, state, type Load } from "./helpers.ts";

const now = 20_000;
const io = spec({ runtime: "custom", concurrency: { min: 1, max: 512 }, sloP99Ms: 2000 });
// 7 pods at the limit of 23, 500 ms calls, 1000 req/s offered: 322 served, the rest rejected
const pinned = (over: Partial<Load> = {}): Load => ({ qps: 1000, rejections: 678, serviceMs: 500, p99Ms: 950, readyPods: 7, inFlight: 161, ...over });
const input = (load: Load, vmem: Partial<VerticalMemory> = {}, target = 23) => ({
  spec: io,
  state: state({ targetConcurrency: target, readyReplicas: 7, desiredReplicas: 34, startingReplicas: 27 }),
  history: samples(now - 10_000, now, () => load),
  memory: memory(1000, { lastVerticalAtMs: 1000, ...vmem }),
  nowMs: now,
});

describe("slow start: raise a rejecting limit at unstressed pods", () => {
  const table: { name: string; load: Load; vmem?: Partial<VerticalMemory>; want: "raise" | "close" | "none"; to?: number }[] = [
    { name: "rejections at the limit, no stress: ×1.5", load: pinned(), want: "raise", to: 34 },
    { name: "a queue instead of rejections is pressure too", load: pinned({ rejections: 0, qps: 322, queued: 40 }), want: "raise", to: 34 },
    { name: "no pressure: nothing", load: pinned({ rejections: 0, qps: 300 }), want: "none" },
    { name: "limit not binding (in-flight under 60% of the target): nothing", load: pinned({ inFlight: 70 }), want: "none" },
    { name: "service time grown 1.5× since the last raise: closes", load: pinned({ serviceMs: 750 }), vmem: { slowStart: { closed: false, lastRaiseAtMs: 5000, serviceMs: 500 } }, want: "close" },
    { name: "errors: closes", load: pinned({ errors: 20 }), want: "close" },
    { name: "pod p99 over 70% of the SLO (short queue): closes", load: pinned({ p99Ms: 1600 }), want: "close" },
    { name: "memory over its raise threshold: closes", load: pinned({ pod: { memoryUtil: 0.85 } }), want: "close" },
    { name: "a raise 3 s ago: not a fresh window yet", load: pinned(), vmem: { slowStart: { closed: false, lastRaiseAtMs: now - 3000, serviceMs: 500 } }, want: "none" },
    { name: "something learned (a profile point): closed", load: pinned(), vmem: { profile: points([20, 500]) }, want: "none" },
    { name: "after a cut: closed", load: pinned(), vmem: { lastChangeDirection: -1 }, want: "none" },
  ];
  for (const t of table) {
    it(t.name, () => {
      const step = slowStartStep(input(t.load, t.vmem), cfg, { ...emptyVerticalMemory, ...t.vmem });
      assert.equal(step?.kind ?? "none", t.want);
      if (step?.kind === "raise") assert.equal(step.target, t.to);
      if (step?.kind === "close") assert.equal(slowStartOpen(step.memory), false);
    });
  }

  it("through decideVertical: a raise with reason CalmRaise before the first 30 s window", () => {
    const v = decideVertical(input(pinned()), cfg);
    assert.equal(v.reason, "CalmRaise");
    assert.equal(v.target, 34);
    assert.match(v.message, /slow start/);
    assert.equal(v.memory.slowStart?.lastRaiseAtMs, now);
  });

  it("a restarted engine (no memory) changes nothing", () => {
    const v = decideVertical({ ...input(pinned()), memory: undefined }, cfg);
    assert.equal(v.target, 23);
  });
});
