/**
 * The fidelity benchmark's pod start law (bench/fidelity/start-law.ts): the fit of start = alone + per-other ×
 * (batch − 1), the batches of a run's starts, the `--start-law` flag, and a measurement with real example
 * model-server processes through the local loop's ProcessPool.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exampleModelLauncher } from "../../controller/src/local/replica-launchers.ts";
import { batchesText, fitStartLaw, measureStartLaw, parseStartLaw, startBatches, startLawText } from "../../bench/fidelity/start-law.ts";

describe("fidelity start law", () => {
  it("fits alone + per other process from batches of two sizes (the worked example of the doc comment)", () => {
    const law = fitStartLaw([
      { batchSize: 1, readyAfterMs: [110] },
      { batchSize: 1, readyAfterMs: [106] },
      { batchSize: 7, readyAfterMs: [250, 356, 356, 358, 450, 454, 450] },
    ]);
    assert.equal(law.podStartS, 0.108);
    assert.equal(law.podStartPerConcurrentS, 0.0457);
    assert.match(startLawText(law), /^0\.108 s alone \+ 0\.046 s per other process starting with it \(1 at once: mean 108 ms \(2 starts\); 7 at once: mean 382 ms \(7 starts\)\)$/);
  });
  it("never fits a batch faster than one alone, nor a start at or below 0", () => {
    const law = fitStartLaw([{ batchSize: 1, readyAfterMs: [300] }, { batchSize: 4, readyAfterMs: [200, 200, 200, 200] }]);
    assert.equal(law.podStartPerConcurrentS, 0);
    assert.ok(law.podStartS > 0);
  });
  it("refuses what cannot be fitted: no starts, one batch size", () => {
    assert.throws(() => fitStartLaw([]), /no process start was measured/);
    assert.throws(() => fitStartLaw([{ batchSize: 7, readyAfterMs: [400, 410] }]), /needs batches of at least two sizes, got 7/);
  });
  it("groups a run's starts into the batches of its scale-ups", () => {
    const at = (id: string, startedAtMs: number, readyAfterMs: number) => ({ id, startedAtMs, readyAfterMs });
    const b = startBatches([at("a", 1000, 120), at("c", 21_000, 400), at("b", 21_001, 380), at("d", 21_002, 410), at("e", 40_000, 110)]);
    assert.deepEqual(b, [{ batchSize: 1, readyAfterMs: [120] }, { batchSize: 3, readyAfterMs: [380, 400, 410] }, { batchSize: 1, readyAfterMs: [110] }]);
    assert.equal(batchesText(b), "1 at once: mean 115 ms (2 starts); 3 at once: mean 397 ms (3 starts)");
  });
  it("--start-law: two numbers, alone > 0; anything else named in the error", () => {
    assert.deepEqual(parseStartLaw("0.24,0.16"), { podStartS: 0.24, podStartPerConcurrentS: 0.16 });
    for (const bad of ["0.2", "0,0.1", "a,b", "0.2,-1", "0.1,0.2,0.3"]) {
      assert.throws(() => parseStartLaw(bad), (e: Error) => e.message === `--start-law: must be "<alone s>,<per other s>" with alone in (0, 60] and per other in [0, 60], got "${bad}"`);
    }
  });
  it("measures real processes: every start of every batch, each from spawn to serving", async () => {
    const batches = await measureStartLaw({ launcher: exampleModelLauncher(["--cpu-ms", "0"]), batchSizes: [1, 3], rounds: 1, settleMs: 100 });
    assert.deepEqual(batches.map((b) => [b.batchSize, b.readyAfterMs.length]), [[1, 1], [3, 3]]);
    for (const b of batches) for (const ms of b.readyAfterMs) assert.ok(ms > 0 && ms < 10_000, `${ms} ms`);
    const law = fitStartLaw(batches);
    assert.ok(law.podStartS > 0 && law.podStartS < 10, `alone ${law.podStartS} s`);
  });
});
