import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parseStatCsv } from "../../controller/src/gateway/stat-csv.ts";
import { emptyCounters, observeRequest } from "../../controller/src/gateway/request-stats.ts";
import { formatRequestSection, parseRequestSection, RequestSectionError } from "../../controller/src/gateway/request-stats-wire.ts";
import { udpDrops } from "../../controller/src/gateway/request-log-reader.ts";

test("section round trip: counters out, the same counters in", () => {
  fc.assert(fc.property(fc.array(fc.record({ q: fc.integer({ min: 0, max: 3000 }), s: fc.integer({ min: 0, max: 100_000 }) }), { maxLength: 200 }), (ts) => {
    const a = emptyCounters();
    for (const t of ts) observeRequest(a, { queueMs: t.q, serviceMs: t.s }, 250);
    const text = formatRequestSection(new Map([["ep-a", { objectiveMs: 250, counters: a }], ["b", { objectiveMs: undefined, counters: emptyCounters() }]]));
    const back = parseRequestSection(text)!;
    assert.deepEqual(back.get("ep-a"), { objectiveMs: 250, counters: a });
    assert.deepEqual(back.get("b"), { objectiveMs: undefined, counters: emptyCounters() });
  }));
});

test("the CSV reader skips the section, and a page without it has none", () => {
  const csv = readFileSync(new URL("../fixtures/haproxy/show-stat-after.csv", import.meta.url), "utf8");
  const c = emptyCounters();
  observeRequest(c, { queueMs: 3, serviceMs: 100 }, undefined);
  const page = `${csv}${formatRequestSection(new Map([["ep1", { objectiveMs: undefined, counters: c }]]))}`;
  assert.deepEqual(parseStatCsv(page), parseStatCsv(csv));
  assert.equal(parseRequestSection(csv), undefined);
  assert.equal(parseRequestSection(page)?.get("ep1")?.counters.served, 1);
});

test("a malformed line refuses the page with the line and field named", () => {
  const bad = "# autopilot request stats v1\n#r ep 250 3 x 0 0\n";
  assert.throws(() => parseRequestSection(bad), (e: unknown) => e instanceof RequestSectionError && /line 1: serviceMsSum = "x"/.test((e as Error).message));
  assert.throws(() => parseRequestSection("# autopilot request stats v1\n#r ep - 1 1 1 0 999:1\n"), /bucket "999:1"/);
});

test("udpDrops reads the kernel's drop column for the loopback port", () => {
  const proc = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    " 1234: 0100007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12345 2 0000000000000000 17",
  ].join("\n");
  assert.equal(udpDrops(0x9c40, proc), 17);
  assert.equal(udpDrops(1, proc), undefined);
});
