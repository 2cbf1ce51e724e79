/**
 * The local loop's clock: ticks land on whole periods of the run whatever the ticks take (no drift), a slow
 * tick is not stacked, an early timer waits for its boundary.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextBoundaryMs, SecondTicker } from "../../controller/src/local/second-ticker.ts";

/** A fake clock with timers: `advance` runs due timers in order, letting each tick's promise settle. */
class FakeClock {
  nowMs = 0;
  readonly timers: Array<{ at: number; f: () => void; id: number }> = [];
  #id = 0;
  set = (f: () => void, ms: number): number => {
    this.timers.push({ at: this.nowMs + ms, f, id: ++this.#id });
    return this.#id;
  };
  clear = (h: unknown): void => {
    const i = this.timers.findIndex((t) => t.id === h);
    if (i >= 0) this.timers.splice(i, 1);
  };
  async advanceTo(endMs: number): Promise<void> {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > endMs) break;
      this.timers.shift();
      this.nowMs = Math.max(this.nowMs, next.at);
      next.f();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.nowMs = endMs;
  }
}

describe("SecondTicker", () => {
  it("ticks at start + k·1000 although each tick takes 30 ms (setInterval drifts by that much per tick)", async () => {
    const c = new FakeClock();
    c.nowMs = 5_000;
    const at: number[] = [];
    const t = new SecondTicker({
      startMs: 5_000, tick: async () => { at.push(c.nowMs); c.nowMs += 30; }, now: () => c.nowMs, setTimer: c.set, clearTimer: c.clear,
    });
    t.start();
    await c.advanceTo(65_500);
    t.stop();
    assert.equal(at.length, 60);
    assert.deepEqual(at, Array.from({ length: 60 }, (_, k) => 5_000 + (k + 1) * 1000));
  });
  it("a tick longer than a period is not stacked: the next goes to the first boundary after it", async () => {
    const c = new FakeClock();
    const at: number[] = [];
    const t = new SecondTicker({
      startMs: 0, tick: async () => { at.push(c.nowMs); c.nowMs += at.length === 2 ? 1_500 : 10; }, now: () => c.nowMs, setTimer: c.set, clearTimer: c.clear,
    });
    t.start();
    await c.advanceTo(5_000);
    t.stop();
    assert.deepEqual(at, [1_000, 2_000, 4_000, 5_000]);
  });
  it("a timer that fires early waits for its boundary; stop cancels the next tick", async () => {
    const c = new FakeClock();
    const at: number[] = [];
    // every timer of a long wait fires 2 ms early (as Node's may by rounding); the short re-wait is on time
    const set = (f: () => void, ms: number): number => c.set(f, ms > 100 ? ms - 2 : ms);
    const t = new SecondTicker({ startMs: 0, tick: async () => { at.push(c.nowMs); }, now: () => c.nowMs, setTimer: set, clearTimer: c.clear });
    t.start();
    await c.advanceTo(2_500);
    t.stop();
    await c.advanceTo(10_000);
    assert.deepEqual(at, [1_000, 2_000]);
  });
  it("nextBoundaryMs: the first whole period strictly after now, never before the first", () => {
    assert.equal(nextBoundaryMs(100, 1000, 100), 1_100);
    assert.equal(nextBoundaryMs(100, 1000, 1_099), 1_100);
    assert.equal(nextBoundaryMs(100, 1000, 1_100), 2_100);
    assert.equal(nextBoundaryMs(100, 1000, 0), 1_100);
  });
});
