import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EngineDriver } from "../../controller/src/engine/driver.ts";
import { decide, historyWindowMsFor, defaultEngineConfig } from "../../controller/src/engine/index.ts";
import type { Decision, DecisionInput, EngineMemory } from "../../controller/src/engine/types.ts";
import { sample, spec, state } from "./helpers.ts";

const steady = (atMs: number, qps = 1000) => sample(atMs, { qps, serviceMs: 5, readyPods: 4 });

describe("EngineDriver: history retention", () => {
  it("keeps what the engine reads (35 s) and at most one trim batch more", () => {
    const d = new EngineDriver({ spec: spec() });
    for (let t = 1000; t <= 600_000; t += 1000) d.observe(steady(t));
    assert.equal(historyWindowMsFor(defaultEngineConfig), 35_000);
    assert.ok(d.history.length >= 35 && d.history.length <= 43, String(d.history.length));
    assert.equal(d.history.at(-1)?.atMs, 600_000);
  });
  it("keeps more when the caller asks for more, never less than the engine reads", () => {
    const more = new EngineDriver({ spec: spec(), historyMs: 120_000 });
    const less = new EngineDriver({ spec: spec(), historyMs: 10_000 });
    for (let t = 1000; t <= 600_000; t += 1000) {
      more.observe(steady(t));
      less.observe(steady(t));
    }
    assert.ok(more.history.length >= 120, String(more.history.length));
    assert.ok(less.history.length >= 35, String(less.history.length));
  });
  it("ignores a duplicate or out-of-order sample", () => {
    const d = new EngineDriver({ spec: spec() });
    d.observe(steady(2000));
    d.observe(steady(2000));
    d.observe(steady(1000));
    assert.deepEqual(d.history.map((s) => s.atMs), [2000]);
  });
});

describe("EngineDriver: memory threading and gating", () => {
  it("passes each decision's memory to the next call, and skips ticks that cannot change anything", () => {
    const seen: DecisionInput[] = [];
    const spy = (input: DecisionInput, cfg = defaultEngineConfig): Decision => {
      seen.push(input);
      return decide(input, cfg);
    };
    const d = new EngineDriver({ spec: spec(), decide: spy });
    const decisions: (Decision | undefined)[] = [];
    for (let t = 1000; t <= 60_000; t += 1000) {
      d.observe(steady(t));
      decisions.push(d.tick(t, state()));
    }
    assert.equal(seen[0]?.memory, undefined, "the first call has no memory");
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]?.memory !== undefined);
    const ran = decisions.filter((x) => x !== undefined).length;
    // steady load: the regular 5 s cadence (and the first call), not every second
    assert.ok(ran >= 11 && ran <= 14, `decide ran ${ran} times in 60 s`);
    assert.equal(d.decisions, ran);
  });

  it("a surge sample is decided on even when it arrives 999 ms after the previous tick", () => {
    const d = new EngineDriver({ spec: spec() });
    let t = 0;
    for (let i = 1; i <= 40; i++) {
      t += 1000;
      d.observe(steady(t));
      d.tick(t, state());
    }
    // the step lands on a tick 999 ms after the last one
    t += 999;
    d.observe(steady(t, 8000));
    const step = d.tick(t, state());
    assert.ok(step !== undefined, "the surge tick ran");
    assert.ok(step.desiredReplicas > 4, `${step.replicasReason}: ${step.replicasMessage}`);
  });

  it("a first tick a few ms late does not cost the first vertical window or the first scale-down (timer jitter)", () => {
    // the local loop's ticks: the first 5 ms after its second, the rest 1 ms after theirs (29.996 s apart)
    const at = (k: number) => k * 1000 + (k === 1 ? 5 : 1);
    const run = (qps: (k: number) => number, st: ReturnType<typeof state>) => {
      const d = new EngineDriver({ spec: spec(), config: { ...defaultEngineConfig, scaleDownWindowMs: 30_000 } });
      const out: (Decision | undefined)[] = [];
      for (let k = 1; k <= 31; k++) {
        d.observe(sample(at(k), { qps: qps(k), serviceMs: 5, readyPods: st.readyReplicas }));
        out.push(d.tick(at(k), st));
      }
      return out;
    };
    // steady: the vertical axis reads its first 30 s window at the 31st tick
    const v = run(() => 1000, state())[30];
    assert.ok(v !== undefined && v.concurrencyReason !== "NoMetrics", `${v?.concurrencyReason}: ${v?.concurrencyMessage}`);
    // load gone after 2 s: 30 s of memory at the 31st tick allow the scale-down
    const h = run((k) => (k <= 2 ? 1000 : 0), state({ desiredReplicas: 8, readyReplicas: 8 }))[30];
    assert.ok(h !== undefined && h.replicasReason === "ScaleDown" && !h.replicasMessage.includes("memory"), `${h?.replicasReason}: ${h?.replicasMessage}`);
  });

  it("decideEveryTick calls decide on every tick; firstRunAtMs holds the first decision back", () => {
    const every = new EngineDriver({ spec: spec(), decideEveryTick: true, firstRunAtMs: 10_000 });
    let ran = 0;
    for (let t = 1000; t <= 30_000; t += 1000) {
      every.observe(steady(t));
      if (every.tick(t, state()) !== undefined) ran++;
    }
    assert.equal(ran, 21); // 10 s … 30 s
  });

  it("restart forgets the memory: the next decision changes nothing", () => {
    const d = new EngineDriver({ spec: spec() });
    for (let t = 1000; t <= 30_000; t += 1000) {
      d.observe(steady(t));
      d.tick(t, state());
    }
    assert.ok(d.memory !== undefined);
    d.restart();
    assert.equal(d.memory, undefined);
    d.observe(steady(31_000, 50_000));
    const after = d.tick(31_000, state());
    assert.ok(after !== undefined);
    assert.equal(after.desiredReplicas, 4, "a restarted engine holds");
    assert.ok((after.memory as EngineMemory).sinceMs === 31_000);
  });

  it("a driver without a spec says so at the first tick", () => {
    const d = new EngineDriver({});
    d.observe(steady(1000));
    assert.throws(() => d.tick(1000, state()), /engine driver: no endpoint spec set; call setSpec before the first tick/);
  });
});

describe("EngineDriver: tick trace", () => {
  it("onTick sees every tick: the newest sample, the state and the decision (undefined when skipped)", () => {
    const ticks: { nowMs: number; at: number | undefined; decided: boolean }[] = [];
    const d = new EngineDriver({ spec: spec(), onTick: (t) => ticks.push({ nowMs: t.nowMs, at: t.sample?.atMs, decided: t.decision !== undefined }) });
    for (let t = 1000; t <= 20_000; t += 1000) {
      d.observe(steady(t));
      const got = d.tick(t, state());
      assert.equal(ticks.at(-1)?.decided, got !== undefined);
    }
    assert.equal(ticks.length, 20);
    assert.deepEqual(ticks.map((t) => t.at), ticks.map((t) => t.nowMs));
    assert.equal(ticks.filter((t) => t.decided).length, d.decisions);
    assert.ok(ticks.some((t) => !t.decided), "steady load skips ticks");
  });
});
