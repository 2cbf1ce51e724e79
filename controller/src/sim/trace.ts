/**
 * CSV request traces: arrival times (and an optional per-request cost) for `trace` traffic segments.
 * The CSV is simple (numbers and timestamps, no quoted commas), so a split-based reader is enough.
 */
import { readFileSync } from "node:fs";

export interface Trace {
  /** Arrival offsets from the first row, ms, ascending. */
  readonly timesMs: Float64Array;
  /** Per-request cost normalised to mean 1, when a cost column was asked for. */
  readonly costs: Float64Array | undefined;
  /** Mean of the raw cost column (for reporting). */
  readonly rawCostMean: number | undefined;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;

/** Parse one time cell: seconds as a number, or a UTC `YYYY-MM-DD HH:MM:SS(.fraction)` timestamp; ms. */
export function parseTimeCell(cell: string): number {
  const s = cell.trim();
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return Number(s) * 1000;
  const m = TIMESTAMP.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, se, frac] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  return base + (frac ? Number(`0.${frac}`) * 1000 : 0);
}

const cache = new Map<string, Trace>();

/**
 * Read a trace CSV. `field` names the scenario field for error messages (e.g. `traffic[3].trace`).
 * Rows are sorted by time; rows with an unparsable time or cost are errors (with the line number).
 */
export function readTrace(path: string, timeColumn: string, costColumn: string | undefined, field: string): Trace {
  const key = `${path}\0${timeColumn}\0${costColumn ?? ""}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${field}.path: cannot read trace ${path}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((h) => h.trim());
  const ti = header.indexOf(timeColumn);
  if (ti < 0) throw new Error(`${field}.timeColumn: column "${timeColumn}" not in ${path}; columns: ${header.join(", ")}`);
  const ci = costColumn === undefined ? -1 : header.indexOf(costColumn);
  if (costColumn !== undefined && ci < 0) {
    throw new Error(`${field}.costColumn: column "${costColumn}" not in ${path}; columns: ${header.join(", ")}`);
  }
  const times: number[] = [];
  const costs: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const cells = line.split(",");
    const t = parseTimeCell(cells[ti] ?? "");
    if (!Number.isFinite(t)) throw new Error(`${field}: ${path} line ${i + 1}: bad time "${cells[ti] ?? ""}" in column ${timeColumn}`);
    times.push(t);
    if (ci >= 0) {
      const c = Number(cells[ci]);
      if (!Number.isFinite(c) || c < 0) throw new Error(`${field}: ${path} line ${i + 1}: bad cost "${cells[ci] ?? ""}" in column ${costColumn}`);
      costs.push(c);
    }
  }
  if (times.length === 0) throw new Error(`${field}.path: trace ${path} has no rows`);
  const order = times.map((_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
  const t0 = times[order[0]!]!;
  const timesMs = Float64Array.from(order, (i) => times[i]! - t0);
  let outCosts: Float64Array | undefined;
  let rawCostMean: number | undefined;
  if (ci >= 0) {
    rawCostMean = costs.reduce((a, b) => a + b, 0) / costs.length;
    const mean = rawCostMean > 0 ? rawCostMean : 1;
    outCosts = Float64Array.from(order, (i) => costs[i]! / mean);
  }
  const trace = { timesMs, costs: outCosts, rawCostMean };
  cache.set(key, trace);
  return trace;
}
