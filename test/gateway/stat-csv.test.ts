/**
 * The `show stat` CSV reader on text captured from Debian's HAProxy 2.6.12 (test/fixtures/haproxy/) and on
 * variants of it: named tables `{ name, input, want }`, exact error messages.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { isStatCsv, parseStatCsv } from "../../controller/src/gateway/stat-csv.ts";
import { parseBackendPage, parseGatewayPage, type BackendStats } from "../../controller/src/gateway/metrics-reader.ts";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/haproxy/${name}`, import.meta.url), "utf8");
const AFTER = fixture("show-stat-after.csv");

/** The fixture as header names + rows of fields, edited by `edit`, written back as HAProxy writes it. */
function variant(text: string, edit: (header: string[], rows: string[][]) => void): string {
  const lines = text.split("\n").filter((l) => l !== "");
  const header = (lines[0] as string).slice(2).split(",");
  const rows = lines.slice(1).map((l) => l.split(","));
  edit(header, rows);
  return [`# ${header.join(",")}`, ...rows.map((r) => r.join(",")), "", ""].join("\n");
}
const col = (header: string[], name: string): number => header.indexOf(name);

/** Everything both formats must agree on (time averages differ by design in 2.6.12, see backend-stats.ts). */
const counters = (s: BackendStats | undefined): Omit<BackendStats, "queueTimeAvgMs" | "totalTimeAvgMs"> | undefined => {
  if (s === undefined) return undefined;
  const { queueTimeAvgMs: _q, totalTimeAvgMs: _t, ...rest } = s;
  return rest;
};

test("real 2.6.12 CSV under load: gauges, and the promex fixture's scenario", () => {
  const got = parseStatCsv(fixture("show-stat-under-load.csv"));
  assert.deepEqual([...got.keys()], ["be_ep1", "be_ep2"]);
  assert.deepEqual(got.get("be_ep1"), {
    proxy: "be_ep1", currentSessions: 4, currentQueue: 3, requestsTotal: 8, responsesTotal: 4, responses5xxTotal: 0,
    responses4xxTotal: 4, deniedTotal: 4, connectionErrorsTotal: 0, queueTimeAvgMs: 0, totalTimeAvgMs: 0, activeServers: 1,
  });
  assert.equal(got.get("be_ep2")?.currentSessions, 3);
});

test("real 2.6.12 CSV and promex page taken at the same quiesced moment give the same counters", () => {
  const csv = parseStatCsv(AFTER);
  const prom = parseBackendPage(fixture("backend-scope-after-pair.prom"));
  assert.equal(csv.size, 2);
  for (const proxy of ["be_ep1", "be_ep2"]) assert.deepEqual(counters(csv.get(proxy)), counters(prom.get(proxy)), proxy);
  assert.deepEqual(
    { ...counters(csv.get("be_ep1")) },
    { proxy: "be_ep1", currentSessions: 0, currentQueue: 0, requestsTotal: 9, responsesTotal: 9, responses5xxTotal: 1, responses4xxTotal: 6, deniedTotal: 4, connectionErrorsTotal: 2, activeServers: 1 },
  );
  // The CSV's own averages, ms (qtime, ttime columns).
  assert.deepEqual([csv.get("be_ep1")?.queueTimeAvgMs, csv.get("be_ep1")?.totalTimeAvgMs], [58, 172]);
});

test("parseGatewayPage tells the formats apart by content", () => {
  assert.equal(isStatCsv(AFTER), true);
  assert.equal(isStatCsv(fixture("backend-scope-after-pair.prom")), false);
  assert.deepEqual(counters(parseGatewayPage(AFTER).get("be_ep1")), counters(parseGatewayPage(fixture("backend-scope-after-pair.prom")).get("be_ep1")));
});

test("stat CSV variants that read the same as the capture", () => {
  const want = parseStatCsv(AFTER);
  const cases: { name: string; input: string }[] = [
    { name: "a full `show stat` answer: FRONTEND and server rows are skipped", input: fixture("show-stat-all.csv") },
    {
      name: "columns found by header name, not position (qcur and scur swapped, a new column first after svname)",
      input: variant(AFTER, (h, rows) => {
        const [q, s] = [col(h, "qcur"), col(h, "scur")];
        for (const r of [h, ...rows]) [r[q], r[s]] = [r[s] as string, r[q] as string];
        for (const r of [h, ...rows]) r.splice(2, 0, r === h ? "future_col" : "7");
      }),
    },
    { name: "no trailing blank line", input: AFTER.trimEnd() },
    {
      name: "a comma inside a value after the mode column moves no needed column",
      input: variant(AFTER, (h, rows) => { (rows[0] as string[])[col(h, "algo")] = "leastconn,extra"; }),
    },
    { name: "a row cut short after the mode column", input: AFTER.replace(/(\nbe_ep1,BACKEND,(?:[^,\n]*,){75}).*\n/, "$1\n") },
    { name: "blank lines between rows", input: AFTER.replace("\nbe_ep2", "\n\nbe_ep2") },
  ];
  for (const c of cases) {
    const got = parseStatCsv(c.input);
    assert.deepEqual([...got.entries()], [...want.entries()], c.name);
  }
});

test("stat CSV: empty HTTP response classes (a TCP-mode backend) read as 0", () => {
  const input = variant(AFTER, (h, rows) => {
    for (const name of ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "qtime", "ttime"]) (rows[0] as string[])[col(h, name)] = "";
  });
  const got = parseStatCsv(input).get("be_ep1");
  assert.deepEqual(
    [got?.responsesTotal, got?.responses4xxTotal, got?.responses5xxTotal, got?.queueTimeAvgMs, got?.totalTimeAvgMs, got?.requestsTotal],
    [0, 0, 0, undefined, undefined, 9],
  );
});

test("stat CSV: bad pages are refused with a message naming what is wrong", () => {
  const cases: { name: string; input: string; want: string }[] = [
    {
      name: "an exporter page handed to the CSV reader",
      input: fixture("backend-scope-after-pair.prom"),
      want: 'stat CSV: first line must be the header "# pxname,svname,…", got "# HELP haproxy_backend_current_queue Number of current queue"',
    },
    { name: "a runtime API error answer", input: "Unknown command: 'show sta'\n", want: 'stat CSV: first line must be the header "# pxname,svname,…", got "Unknown command: \'show sta\'"' },
    {
      name: "header without a needed column",
      input: variant(AFTER, (h) => { h[col(h, "econ")] = "econ_renamed"; }),
      want: 'stat CSV: header has no column "econ" (needed: qcur, scur, stot, dreq, econ, act, hrsp_1xx, hrsp_2xx, hrsp_3xx, hrsp_4xx, hrsp_5xx, hrsp_other, qtime, ttime, mode)',
    },
    {
      name: "header without the mode column (the alignment check)",
      input: variant(AFTER, (h) => { h[col(h, "mode")] = "modus"; }),
      want: 'stat CSV: header has no column "mode" (needed: qcur, scur, stot, dreq, econ, act, hrsp_1xx, hrsp_2xx, hrsp_3xx, hrsp_4xx, hrsp_5xx, hrsp_other, qtime, ttime, mode)',
    },
    {
      name: "svname not the second column",
      input: variant(AFTER, (h, rows) => { for (const r of [h, ...rows]) r.splice(1, 0, "0"); }),
      want: 'stat CSV: header must start with "# pxname,svname,", got "# pxname,0,svname,qcur,qmax,scur,smax,sl"',
    },
    {
      name: "truncated backend row",
      input: AFTER.replace(/\nbe_ep2,BACKEND,0,0,0,3,1,3,621,.*\n/, "\nbe_ep2,BACKEND,0,0,0,3,1,3,621\n"),
      want: 'stat CSV line 3 (proxy "be_ep2"): the row has 9 fields, the header 128',
    },
    {
      name: "a comma inside the status shifts the columns",
      input: variant(AFTER, (h, rows) => { (rows[0] as string[])[col(h, "status")] = "DOWN,1/2"; }),
      want: 'stat CSV line 2 (proxy "be_ep1"): column "mode" = "", not a proxy mode; a comma inside an earlier value shifts the columns',
    },
    {
      name: "a comma inside the cookie name shifts the mode column",
      input: variant(AFTER, (h, rows) => { (rows[1] as string[])[col(h, "cookie")] = "SRV,x"; }),
      want: 'stat CSV line 3 (proxy "be_ep2"): column "mode" = "x", not a proxy mode; a comma inside an earlier value shifts the columns',
    },
    {
      name: "a needed value that is not a number",
      input: variant(AFTER, (h, rows) => { (rows[1] as string[])[col(h, "stot")] = "3x"; }),
      want: 'stat CSV line 3 (proxy "be_ep2"): column "stot" = "3x"; expected a non-negative integer',
    },
    {
      name: "a needed counter left empty",
      input: variant(AFTER, (h, rows) => { (rows[0] as string[])[col(h, "scur")] = ""; }),
      want: 'stat CSV line 2 (proxy "be_ep1"): column "scur" = ""; expected a non-negative integer',
    },
    {
      name: "a negative gauge",
      input: variant(AFTER, (h, rows) => { (rows[0] as string[])[col(h, "qcur")] = "-1"; }),
      want: 'stat CSV line 2 (proxy "be_ep1"): column "qcur" = "-1"; expected a non-negative integer',
    },
  ];
  for (const c of cases) assert.throws(() => parseStatCsv(c.input), { name: "StatCsvError", message: c.want }, c.name);
});

test("stat CSV: a header with no backend rows is an empty reading", () => {
  assert.equal(parseStatCsv(AFTER.split("\n")[0] + "\n\n").size, 0);
});
