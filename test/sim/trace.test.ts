import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { planTraffic } from "../../controller/src/sim/plan.ts";
import { parseTimeCell, readTrace } from "../../controller/src/sim/trace.ts";
import { scenario } from "./helpers.ts";

test("trace: time cells are seconds or UTC timestamps with any fraction", () => {
  assert.equal(parseTimeCell("1.5"), 1500);
  assert.ok(Math.abs(parseTimeCell("2023-11-16 18:15:46.6805900") - parseTimeCell("2023-11-16 18:15:46") - 680.59) < 1e-3);
  assert.equal(parseTimeCell("2023-11-16T00:00:01Z") - parseTimeCell("2023-11-16 00:00:00"), 1000);
  assert.ok(Number.isNaN(parseTimeCell("yesterday")));
});

function csv(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "trace-"));
  const f = join(dir, "t.csv");
  writeFileSync(f, text);
  return f;
}

test("trace: rows are sorted, offsets start at 0, costs normalised to mean 1", () => {
  const f = csv("t,tokens\n2.0,30\n1.0,10\n1.5,20\n");
  const tr = readTrace(f, "t", "tokens", "traffic[0].trace");
  assert.deepEqual(Array.from(tr.timesMs), [0, 500, 1000]);
  assert.deepEqual(Array.from(tr.costs!), [0.5, 1, 1.5]);
  assert.equal(tr.rawCostMean, 20);
});

test("trace: errors name the field, the column and the line", () => {
  const f = csv("t,tokens\n1.0,10\nnope,3\n");
  assert.throws(() => readTrace(f, "time", undefined, "traffic[2].trace"), /^Error: traffic\[2\]\.trace\.timeColumn: column "time" not in .*; columns: t, tokens$/);
  assert.throws(() => readTrace(f, "t", undefined, "traffic[2].trace"), /traffic\[2\]\.trace: .* line 3: bad time "nope" in column t/);
  assert.throws(() => readTrace("/nonexistent.csv", "t", undefined, "traffic[0].trace"), /^Error: traffic\[0\]\.trace\.path: cannot read trace/);
});

test("trace: replay with speedup and scale", () => {
  const f = csv("t\n0\n1\n2\n3\n");
  const base = { traffic: [{ untilS: 10, trace: { path: f, timeColumn: "t" } }], durationS: 10 };
  // span = 3 s + one mean gap = 4 s: the 4 rows loop every 4 s → 10 arrivals in 10 s
  assert.equal(planTraffic(scenario(base)).totalRequests, 10);
  const fast = { ...base, traffic: [{ untilS: 10, trace: { path: f, timeColumn: "t", speedup: 2 } }] };
  assert.equal(planTraffic(scenario(fast)).totalRequests, 20);
  const scaled = { ...base, traffic: [{ untilS: 10, trace: { path: f, timeColumn: "t", scale: 3 } }] };
  assert.equal(planTraffic(scenario(scaled)).totalRequests, 30);
  // a fractional scale thins the last copy at random: 2 full copies + half of one
  const long = { durationS: 4000, traffic: [{ untilS: 4000, trace: { path: f, timeColumn: "t", scale: 2.5 } }] };
  const n = planTraffic(scenario(long)).totalRequests;
  assert.ok(Math.abs(n - 10000) < 200, `${n} arrivals`); // 1 request/s per copy
});

const azure = new URL("../../controller/scenarios/traces/azure-llm-2023-conv.csv", import.meta.url).pathname;
test("trace: the Azure LLM trace replays with tokens as cost", { skip: !existsSync(azure) && "shared traces not beside the repo" }, () => {
  const tr = readTrace(azure, "TIMESTAMP", "GeneratedTokens", "traffic[0].trace");
  // 19,366 data rows (the traces README says 19,365; the file has no trailing newline after the last row)
  assert.equal(tr.timesMs.length, 19366);
  assert.ok(Math.abs(tr.timesMs[tr.timesMs.length - 1]! / 1000 - 3600) < 120);
  // up to the last row's second the replay is exactly the trace's rows (no loop yet)
  const endS = Math.floor(tr.timesMs[tr.timesMs.length - 1]! / 1000);
  const sc = scenario({ durationS: endS, traffic: [{ untilS: endS, trace: { path: azure, costColumn: "GeneratedTokens" } }] });
  const plan = planTraffic(sc);
  const want = tr.timesMs.filter((t) => t < endS * 1000);
  assert.equal(plan.totalRequests, want.length);
  const work = plan.work.reduce((a, b) => a + b, 0);
  let cost = 0;
  want.forEach((_, i) => (cost += tr.costs![i]!));
  assert.ok(Math.abs(work - cost) < 1e-6, `work ${work} vs ${cost}`);
});
