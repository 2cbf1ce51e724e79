/**
 * Reads HAProxy's runtime-socket CSV (`show stat -1 2 -1`: backends only) into the same per-backend
 * `BackendStats` the Prometheus exporter page gives (metrics-reader.ts). Pure: text in, numbers out.
 *
 * The CSV is the page the controller scrapes by default (through the gateway agent's `GET /stats`): at 10,000
 * backends it is ~20× smaller than `/metrics?scope=backend`, ~5× cheaper for HAProxy to write and 10–15×
 * cheaper to read (docs/gateway.md).
 *
 * Why hand-written and not a CSV library: the input is one fixed machine format (HAProxy never quotes and
 * never escapes; a header line names the columns), 17 of its 128 columns are read, and the reader runs every
 * second on multi-megabyte pages. A general CSV parser would split and allocate every field of every row;
 * this one walks each backend row once by character codes up to the `mode` column, turns the needed fields
 * into numbers as it passes them, and allocates only the proxy name.
 */
import type { BackendStats } from "./backend-stats.ts";
import type { RowNames } from "./row-names.ts";

/** The runtime API command whose answer `parseStatCsv` reads: stats of every backend, no frontends or servers. */
export const SHOW_BACKEND_STATS = "show stat -1 2 -1";

const HEADER_PREFIX = "# pxname,";

/** True when `text` is `show stat` CSV (it starts with the `# pxname,` header), not an exporter page. */
export function isStatCsv(text: string): boolean {
  return text.startsWith(HEADER_PREFIX);
}

/** The columns read, by HAProxy's header names (located by name, never by position). */
const COLUMNS = [
  "qcur", "scur", "stot", "dreq", "econ", "act",
  "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "qtime", "ttime",
] as const;
type Column = (typeof COLUMNS)[number];
/** Columns that may be empty: HTTP response classes are empty on a TCP backend (read as 0). */
const MAY_BE_EMPTY: ReadonlySet<Column> = new Set(["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "qtime", "ttime"]);
const EMPTY = -1;

/** A bad page: the message names the line, the proxy and the column where it can, and what was expected. */
export class StatCsvError extends Error {
  override name = "StatCsvError";
}

/**
 * The alignment check. HAProxy does not quote, so a comma inside a value shifts every later column. The row is
 * read up to the `mode` column, which comes after every needed column and the free-text ones before it
 * (status, check and agent texts, address, cookie), and must hold a proxy mode: a shifted row shows something
 * else there (the LB algorithm, a number, an empty field). Commas after `mode` cannot move a needed column.
 */
const SENTINEL = "mode";
/** Proxy modes HAProxy prints (2.x–3.x). */
const MODES: ReadonlySet<string> = new Set(["http", "tcp", "health", "cli", "syslog", "peers", "log", "spop", "unknown"]);

interface Layout {
  /** For each CSV column index up to the sentinel: the slot in `COLUMNS`, or -1. */
  readonly slotAt: Int8Array;
  /** Index of the `mode` column (the last one read). */
  readonly modeCol: number;
  /** Columns in the header. */
  readonly columns: number;
}

function readHeader(text: string, end: number): Layout {
  const names = text.slice(2, end).split(",");
  const index = new Map<string, number>();
  names.forEach((n, i) => { if (!index.has(n)) index.set(n, i); });
  if (index.get("pxname") !== 0 || index.get("svname") !== 1) {
    throw new StatCsvError(`stat CSV: header must start with "# pxname,svname,", got ${JSON.stringify(text.slice(0, 40))}`);
  }
  let last = 0;
  for (const c of [...COLUMNS, SENTINEL]) {
    const i = index.get(c);
    if (i === undefined) throw new StatCsvError(`stat CSV: header has no column "${c}" (needed: ${COLUMNS.join(", ")}, ${SENTINEL})`);
    last = Math.max(last, i);
  }
  const modeCol = index.get(SENTINEL) as number;
  if (modeCol !== last) throw new StatCsvError(`stat CSV: column "${SENTINEL}" must come after ${COLUMNS.join(", ")}`);
  const slotAt = new Int8Array(last + 1).fill(-1);
  COLUMNS.forEach((c, slot) => { slotAt[index.get(c) as number] = slot; });
  // HAProxy ends the header (and every row) with a comma: the empty name after it is not a column.
  return { slotAt, modeCol, columns: names.at(-1) === "" ? names.length - 1 : names.length };
}

/**
 * Parses `show stat` CSV and returns the stats of every backend (`svname` = `BACKEND`), keyed by proxy name.
 * Frontend and server rows, blank lines and comment lines are skipped, so a full `show stat` answer reads the
 * same. Throws `StatCsvError` on a header without a needed column, a backend row that ends too early or whose
 * columns are shifted by a comma inside a value (see SENTINEL), or a needed value that is not a non-negative
 * integer — a page that cannot be trusted is refused whole, like an unreadable exporter page
 * (the scraper then keeps the replica's last reading and the controller fails static). With `names`, each
 * proxy name is the one `names` kept from the replica's earlier pages (`RowNames`).
 */
export function parseStatCsv(text: string, names?: RowNames): Map<string, BackendStats> {
  const n = text.length;
  let headerEnd = text.indexOf("\n");
  if (headerEnd < 0) headerEnd = n;
  if (!isStatCsv(text)) {
    throw new StatCsvError(`stat CSV: first line must be the header "# pxname,svname,…", got ${JSON.stringify(text.slice(0, Math.min(headerEnd, 60)))}`);
  }
  const { slotAt, modeCol, columns } = readHeader(text, headerEnd);
  const values = new Float64Array(COLUMNS.length);
  const out = new Map<string, BackendStats>();
  names?.beginPage();
  let pos = headerEnd + 1;
  let lineNo = 1;
  while (pos < n) {
    lineNo += 1;
    let end = text.indexOf("\n", pos);
    if (end < 0) end = n;
    const c1 = text.indexOf(",", pos);
    // Only backend rows: the second field is exactly BACKEND. Blank and `#` lines have no such field.
    if (c1 < 0 || c1 >= end || !text.startsWith("BACKEND,", c1 + 1)) {
      pos = end + 1;
      continue;
    }
    const cut = text.slice(pos, c1);
    const proxy = names !== undefined ? names.intern(cut) : cut;
    // One pass over the row's characters up to the mode column: at each comma, a needed field
    // [fieldStart, i) becomes a number.
    let col = 1;
    let fieldStart = c1 + 1;
    for (let i = fieldStart; i < end && col < modeCol; i++) {
      if (text.charCodeAt(i) !== 44 /* , */) continue;
      const slot = slotAt[col] as number;
      if (slot >= 0) values[slot] = readUint(text, fieldStart, i, lineNo, proxy, slot);
      col += 1;
      fieldStart = i + 1;
    }
    if (col < modeCol) {
      throw new StatCsvError(`stat CSV line ${lineNo} (proxy ${JSON.stringify(proxy)}): the row has ${col + 1} fields, the header ${columns}`);
    }
    let modeEnd = text.indexOf(",", fieldStart);
    if (modeEnd < 0 || modeEnd > end) modeEnd = end;
    if (!isMode(text, fieldStart, modeEnd)) {
      throw new StatCsvError(
        `stat CSV line ${lineNo} (proxy ${JSON.stringify(proxy)}): column "${SENTINEL}" = ${JSON.stringify(text.slice(fieldStart, modeEnd))}, ` +
          "not a proxy mode; a comma inside an earlier value shifts the columns",
      );
    }
    out.set(proxy, toStats(proxy, values));
    pos = end + 1;
  }
  names?.endPage();
  return out;
}

function isMode(text: string, from: number, to: number): boolean {
  // The two modes backends have in practice are matched without making a string.
  if (to - from === 4 && text.startsWith("http", from)) return true;
  if (to - from === 3 && text.startsWith("tcp", from)) return true;
  return MODES.has(text.slice(from, to));
}

/** A non-negative decimal integer from `text[from, to)`; EMPTY for an empty field where allowed. */
function readUint(text: string, from: number, to: number, lineNo: number, proxy: string, slot: number): number {
  if (from === to) {
    if (MAY_BE_EMPTY.has(COLUMNS[slot] as Column)) return EMPTY;
  } else {
    let v = 0;
    let i = from;
    for (; i < to; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === to) return v;
  }
  throw new StatCsvError(
    `stat CSV line ${lineNo} (proxy ${JSON.stringify(proxy)}): column "${COLUMNS[slot]}" = ${JSON.stringify(text.slice(from, to))}; ` +
      "expected a non-negative integer",
  );
}

const SLOT = Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as Record<Column, number>;

function toStats(proxy: string, v: Float64Array): BackendStats {
  const count = (c: Column): number => Math.max(0, v[SLOT[c]] as number);
  const avg = (c: Column): number | undefined => (v[SLOT[c]] === EMPTY ? undefined : v[SLOT[c]]);
  const r4xx = count("hrsp_4xx");
  const r5xx = count("hrsp_5xx");
  return {
    proxy,
    currentSessions: count("scur"),
    currentQueue: count("qcur"),
    requestsTotal: count("stot"),
    responsesTotal: count("hrsp_1xx") + count("hrsp_2xx") + count("hrsp_3xx") + r4xx + r5xx + count("hrsp_other"),
    responses5xxTotal: r5xx,
    responses4xxTotal: r4xx,
    deniedTotal: count("dreq"),
    connectionErrorsTotal: count("econ"),
    queueTimeAvgMs: avg("qtime"),
    totalTimeAvgMs: avg("ttime"),
    activeServers: count("act"),
  };
}
