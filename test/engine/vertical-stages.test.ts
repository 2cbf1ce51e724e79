/**
 * Table tests of the vertical axis's named stages, one table per stage: gate → learn → signals and caps →
 * choose (controller/src/engine/vertical*.ts). The end-to-end behaviour is in vertical.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultEngineConfig as cfg } from "../../controller/src/engine/config.ts";
import { configProvenance } from "../../controller/src/engine/config-provenance.ts";
import { statsOf } from "../../controller/src/engine/signals.ts";
import type { ConcurrencyReason, VerticalMemory } from "../../controller/src/engine/types.ts";
import { emptyVerticalMemory, gateVertical } from "../../controller/src/engine/vertical.ts";
import { chooseTarget } from "../../controller/src/engine/vertical-choose.ts";
import { learnFromWindow, type VerticalWindow } from "../../controller/src/engine/vertical-learn.ts";
import { saturationCaps, stressSignals, type Cap, type Signal } from "../../controller/src/engine/vertical-signals.ts";
import { readFileSync } from "node:fs";
import { memory, points, samples, spec, state, type Load } from "./helpers.ts";

const now = 600_000;
const at = (x: number, s: number, extra: Partial<Load> = {}): Load => ({ qps: (4 * x * 1000) / s, serviceMs: s, readyPods: 4, inFlight: 4 * x, ...extra });
const windowOf = (l: Load): VerticalWindow => {
  const ss = samples(now - 30_000, now, () => l);
  const stats = statsOf(ss, 1000, 4);
  return { samples: ss, stats, inFlight: stats.perPodInFlight ?? 0, serviceMs: stats.serviceMs ?? 0, readyReplicas: 4 };
};
const prev = (over: Partial<VerticalMemory> = {}): VerticalMemory => ({ ...emptyVerticalMemory, baselineServiceMs: 5, profile: points([1, 5]), ...over });

describe("stage gate: is a vertical decision due, with a window worth reading?", () => {
  const ran = memory(0, { lastVerticalAtMs: now - 30_000, lastHorizontalAtMs: now - 1000 });
  const history = samples(now - 60_000, now, () => at(4, 5));
  const table: { name: string; target: number; mem: typeof ran | undefined; nowMs: number; hist?: typeof history; want: ConcurrencyReason | "window" }[] = [
    { name: "no target in force: the initial target", target: 0, mem: ran, nowMs: now, want: "Initial" },
    { name: "a target outside the range: brought inside", target: 100, mem: ran, nowMs: now, want: "Bounds" },
    { name: "no memory (restart): hold", target: 8, mem: undefined, nowMs: now, want: "Hold" },
    { name: "between windows: not due", target: 8, mem: ran, nowMs: now - 10_000, want: "NotDue" },
    { name: "half a sample early is on time", target: 8, mem: ran, nowMs: now - 400, want: "window" },
    { name: "stale samples: no metrics", target: 8, mem: ran, nowMs: now + 20_000, want: "NoMetrics" },
    { name: "too few completions: hold", target: 8, mem: ran, nowMs: now, hist: samples(now - 60_000, now, () => at(0.001, 5)), want: "Hold" },
    { name: "a full window: read it", target: 8, mem: ran, nowMs: now, want: "window" },
  ];
  for (const t of table) {
    it(t.name, () => {
      const g = gateVertical({ spec: spec(), state: state({ targetConcurrency: t.target }), history: t.hist ?? history, memory: t.mem, nowMs: t.nowMs }, cfg, emptyVerticalMemory);
      assert.equal(g.kind === "done" ? g.result.reason : "window", t.want);
    });
  }
});

describe("stage learn: what one window teaches the profile", () => {
  const table: { name: string; load: Load; runtime: "mlflow" | "vllm"; mem: VerticalMemory; want: { inflation: number; knee?: number; line?: boolean; cpu?: number } }[] = [
    { name: "no inflation at 4 in flight", load: at(4, 5), runtime: "mlflow", mem: prev(), want: { inflation: 1 } },
    // 8 in flight at 20 ms vs 5 ms alone: knee 8 · 5 / 20 = 2
    { name: "inflation 4× places the knee at 2", load: at(8, 20), runtime: "mlflow", mem: prev(), want: { inflation: 4, knee: 2 } },
    // CPU 0.5 at 2 in flight: saturation at 4 in flight
    { name: "CPU 0.5 at 2 in flight: CPU saturates at 4", load: at(2, 5, { pod: { cpuUtil: 0.5 } }), runtime: "mlflow", mem: prev(), want: { inflation: 1, cpu: 4 } },
    // a batching pod with points at 4 and 16 in flight on 400 + 20·x
    { name: "batching: a line through points spanning ≥ 1.5×", load: at(16, 720), runtime: "vllm", mem: prev({ baselineServiceMs: 480, profile: points([4, 480]) }), want: { inflation: 1.5, line: true } },
    { name: "batching: one point, no line", load: at(4, 480), runtime: "vllm", mem: prev({ baselineServiceMs: 480, profile: points([4, 480]) }), want: { inflation: 1, line: false } },
  ];
  for (const t of table) {
    it(t.name, () => {
      const l = learnFromWindow(t.mem, windowOf(t.load), t.runtime, cfg);
      assert.ok(Math.abs(l.inflation - t.want.inflation) < 1e-6, String(l.inflation));
      if (t.want.knee !== undefined) assert.ok(l.knee !== undefined && Math.abs(l.knee - t.want.knee) < 1e-6, String(l.knee));
      if (t.want.line !== undefined) assert.equal(l.latencyLine !== undefined, t.want.line);
      if (t.want.cpu !== undefined) assert.ok(l.cpuSaturationInFlight !== undefined && Math.abs(l.cpuSaturationInFlight - t.want.cpu) < 1e-6, String(l.cpuSaturationInFlight));
    });
  }
});

describe("stage signals and caps", () => {
  const table: { name: string; load: Load; runtime: "mlflow" | "custom" | "vllm"; over: string[]; caps: string[] }[] = [
    { name: "a calm CPU pod: nothing over its cut", load: at(1, 5, { pod: { cpuUtil: 0.3 } }), runtime: "mlflow", over: [], caps: ["CPU saturates"] },
    { name: "inflation and saturated CPU: both over", load: at(8, 20, { pod: { cpuUtil: 1 } }), runtime: "mlflow", over: ["latency inflation", "compute utilisation"], caps: ["latency knee"] },
    { name: "pod p99 at 90% of the SLO", load: at(7, 5, { p99Ms: 90, p50Ms: 80 }), runtime: "custom", over: ["pod p99 / SLO"], caps: [] },
    { name: "errors over 1%", load: at(7, 5, { errors: 100 }), runtime: "mlflow", over: ["error fraction"], caps: [] },
    { name: "vLLM: KV-cache full is stress, pegged GPU is not", load: at(4, 60, { p99Ms: 70, pod: { gpuUtil: 1, kvCacheUtil: 0.95 } }), runtime: "vllm", over: ["KV-cache utilisation"], caps: ["KV-cache utilisation reaches 0.75"] },
  ];
  for (const t of table) {
    it(t.name, () => {
      const w = windowOf(t.load);
      const l = learnFromWindow(prev(), w, t.runtime, cfg);
      const sp = spec({ runtime: t.runtime });
      const sig = stressSignals(w, l, sp, cfg);
      assert.deepEqual(sig.filter((g) => g.value >= g.cut).map((g) => g.name), t.over);
      const caps = saturationCaps(w, l, sp, state(), cfg).map((c) => c.name);
      for (const c of t.caps) assert.ok(caps.some((n) => n.startsWith(c)), `${c} not in ${caps.join("; ")}`);
      if (t.caps.length === 0) assert.deepEqual(caps, []);
    });
  }
});

describe("stage choose: cut, hold or raise", () => {
  const sig = (value: number, suggest = 4, over: Partial<Signal> = {}): Signal => ({ name: "s", value, cut: 1, raise: 0.5, suggest, needsLoad: false, ...over });
  const cap = (inFlight: number, fitted = true): Cap => ({ name: `cap ${inFlight}`, inFlight, fitted });
  const base = { current: 8, min: 1, max: 64, caps: [] as Cap[], inFlight: 6, meanQueued: 0, prev: prev({ calmWindows: 1 }), tailCeiling: undefined, nowMs: now, state: "test", softHold: undefined as string | undefined };
  const table: { name: string; input: Partial<typeof base> & { signals: Signal[] }; want: { target: number; reason: ConcurrencyReason } }[] = [
    { name: "a signal over its cut: to its suggestion", input: { signals: [sig(1.2, 5)] }, want: { target: 5, reason: "StressCut" } },
    { name: "a cut at most halves", input: { signals: [sig(3, 1)] }, want: { target: 4, reason: "StressCut" } },
    { name: "a fitted cap clearly below the target cuts", input: { signals: [sig(0.1)], caps: [cap(5)] }, want: { target: 5, reason: "StressCut" } },
    { name: "a cap within the dead band does not", input: { signals: [sig(0.1)], caps: [cap(7.5)] }, want: { target: 8, reason: "Hold" } },
    { name: "a guessed cap below does not cut", input: { signals: [sig(0.1)], caps: [cap(5, false)] }, want: { target: 8, reason: "Hold" } },
    { name: "a signal between the thresholds holds", input: { signals: [sig(0.7)] }, want: { target: 8, reason: "Hold" } },
    { name: "calm and binding for two windows: ×1.5", input: { signals: [sig(0.1)] }, want: { target: 12, reason: "CalmRaise" } },
    { name: "calm but not binding and no saturation point: hold", input: { signals: [sig(0.1)], inFlight: 2 }, want: { target: 8, reason: "Hold" } },
    { name: "a raise stops at a cap", input: { signals: [sig(0.1)], caps: [cap(10)] }, want: { target: 10, reason: "CalmRaise" } },
    { name: "a stress ceiling keeps raises under it", input: { signals: [sig(0.1)], prev: prev({ calmWindows: 1, stressCeiling: { target: 10, untilMs: now + 1 } }) }, want: { target: 9, reason: "CalmRaise" } },
    { name: "the first calm window only counts", input: { signals: [sig(0.1)], prev: prev() }, want: { target: 8, reason: "Hold" } },
    { name: "a scale-up under way: soft stress holds", input: { signals: [sig(1.2, 5)], softHold: "10 pods are starting" }, want: { target: 8, reason: "Hold" } },
    { name: "a scale-up under way: a learned cap does not cut", input: { signals: [sig(0.1)], caps: [cap(5)], softHold: "10 pods are starting" }, want: { target: 8, reason: "Hold" } },
    { name: "a scale-up under way: hard stress still cuts", input: { signals: [sig(1.2, 5, { hard: true })], softHold: "10 pods are starting" }, want: { target: 5, reason: "StressCut" } },
    { name: "at the minimum a cut is a Bounds hold", input: { signals: [sig(2, 0.5)], current: 1, min: 1 }, want: { target: 1, reason: "Bounds" } },
  ];
  for (const t of table) {
    it(t.name, () => {
      const c = chooseTarget({ ...base, ...t.input }, cfg);
      assert.deepEqual({ target: c.target, reason: c.reason }, t.want, c.message);
    });
  }
  it("a stress cut sets the ceiling at the middle of the cut; a model cut does not", () => {
    const stress = chooseTarget({ ...base, signals: [sig(1.2, 4)] }, cfg);
    assert.deepEqual(stress.memory.stressCeiling, { target: 6, untilMs: now + cfg.ceilingHoldMs });
    const model = chooseTarget({ ...base, signals: [sig(0.1)], caps: [cap(4)] }, cfg);
    assert.equal(model.memory.stressCeiling, undefined);
  });
});

describe("engine parameters: every one named, with unit and provenance, in the docs", () => {
  const docs = readFileSync(new URL("../../docs/engine.md", import.meta.url), "utf8");
  for (const key of Object.keys(cfg) as (keyof typeof cfg)[]) {
    it(key, () => {
      const p = configProvenance[key];
      assert.ok(p !== undefined && p.unit !== "" && p.note !== "", `no provenance for ${key}`);
      assert.ok(["cited", "derived", "design", "empirical"].includes(p.basis));
      assert.match(docs, new RegExp("`" + key + "`"), `docs/engine.md does not list ${key}`);
    });
  }
});
