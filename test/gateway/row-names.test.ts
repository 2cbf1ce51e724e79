/**
 * `RowNames`: the table of row names kept across a replica's pages, and the CSV reader reading through it
 * (same result as without, the table holding the last page's proxies).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { RowNames } from "../../controller/src/gateway/row-names.ts";
import { parseStatCsv } from "../../controller/src/gateway/stat-csv.ts";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/haproxy/${name}`, import.meta.url), "utf8");

test("intern returns an equal string and keeps each name once per page", () => {
  const names = new RowNames();
  names.beginPage();
  assert.equal(names.intern(["be", "a"].join("_")), "be_a");
  assert.equal(names.intern(["be", "a"].join("_")), "be_a");
  assert.equal(names.intern("be_b"), "be_b");
  names.endPage();
  assert.equal(names.size, 2);
});

test("a name missing from a whole page is forgotten when the page ends", () => {
  const names = new RowNames();
  names.beginPage();
  names.intern("be_a");
  names.intern("be_b");
  names.endPage();
  names.beginPage();
  names.intern("be_b");
  names.intern("be_c");
  names.endPage();
  assert.equal(names.size, 2);
  names.beginPage();
  names.endPage();
  assert.equal(names.size, 0);
});

test("parseStatCsv with a table reads the same stats, and the table holds the page's proxies", () => {
  const page = fixture("show-stat-under-load.csv");
  const names = new RowNames();
  const plain = parseStatCsv(page);
  assert.deepEqual(parseStatCsv(page, names), plain);
  assert.deepEqual(parseStatCsv(page, names), plain);
  assert.ok(plain.size > 0);
  assert.equal(names.size, plain.size);
});
