/**
 * The request-stats section of the agent's `/stats` answer: each endpoint's cumulative `RequestCounters`
 * (request-stats.ts), one line per endpoint, after HAProxy's backend CSV. Pure: counters → text → counters.
 *
 *   # autopilot request stats v1
 *   #r <endpoint> <objectiveMs|-> <served> <serviceMsSum> <queueMsSum> <overObjective> <bucket>:<count> …
 *
 * Every line starts with `#`, so a CSV reader skips them (stat-csv.ts skips comment lines), and an agent that
 * has no reader running simply sends no section (the controller then has no per-request times).
 */
import { emptyCounters, HISTOGRAM_BUCKETS, type RequestCounters } from "./request-stats.ts";

export const REQUEST_SECTION_HEADER = "# autopilot request stats v1";
const LINE_PREFIX = "#r ";

/** One endpoint's cumulative counters and the objective they were counted against. */
export interface EndpointRequestCounters {
  readonly objectiveMs: number | undefined;
  readonly counters: RequestCounters;
}

/** The section's text (header included) for every endpoint's counters. */
export function formatRequestSection(perEndpoint: ReadonlyMap<string, EndpointRequestCounters>): string {
  const lines = [REQUEST_SECTION_HEADER];
  for (const [endpoint, { objectiveMs, counters: c }] of perEndpoint) {
    let line = `${LINE_PREFIX}${endpoint} ${objectiveMs ?? "-"} ${c.served} ${c.serviceMsSum} ${c.queueMsSum} ${c.overObjective}`;
    const h = c.histogram;
    for (let i = 0; i < h.length; i++) if (h[i]! > 0) line += ` ${i}:${h[i]}`;
    lines.push(line);
  }
  return lines.join("\n") + "\n";
}

/** A section line that cannot be trusted; the message names the line and the field. */
export class RequestSectionError extends Error {
  override name = "RequestSectionError";
}

/**
 * Reads the section out of a whole `/stats` answer: undefined when the answer has none (an agent without a
 * request reader, or HAProxy's own exporter page); else every endpoint's counters. Throws
 * `RequestSectionError` on a malformed line: a page that cannot be trusted is refused whole.
 *
 * Hand-written scanner (the controller reads this every second for every endpoint, ~120 bytes each): numbers
 * are read by character code without slicing; only the endpoint name is allocated.
 */
export function parseRequestSection(text: string): Map<string, EndpointRequestCounters> | undefined {
  const at = text.indexOf(REQUEST_SECTION_HEADER);
  if (at < 0) return undefined;
  const out = new Map<string, EndpointRequestCounters>();
  const lines = new EndpointLines(text, at);
  while (lines.next()) {
    const { endpoint, end, lineNo } = lines;
    let i = lines.fieldsAt;
    const c = emptyCounters();
    let objectiveMs: number | undefined;
    for (let f = 0; f < FIELDS.length; f++) {
      const j = fieldEnd(text, i, end, lineNo, FIELDS[f] as string);
      if (!(f === 0 && j === i + 1 && text.charCodeAt(i) === 45 /* - */)) {
        const v = readNumber(text, i, j, lineNo, FIELDS[f] as string);
        if (f === 0) objectiveMs = v;
        else if (f === 1) c.served = v;
        else if (f === 2) c.serviceMsSum = v;
        else if (f === 3) c.queueMsSum = v;
        else c.overObjective = v;
      }
      i = j + 1;
    }
    while (i < end) {
      let j = text.indexOf(" ", i);
      if (j < 0 || j > end) j = end;
      const colon = text.indexOf(":", i);
      const bucket = readBucket(text, i, colon, j, lineNo, endpoint);
      c.histogram[bucket] = readNumber(text, colon + 1, j, lineNo, `bucket ${bucket}`);
      i = j + 1;
    }
    out.set(endpoint, { objectiveMs, counters: c });
  }
  return out;
}

/** The fields after the endpoint name, in order; then `bucket:count` pairs. */
const FIELDS = ["objectiveMs", "served", "serviceMsSum", "queueMsSum", "overObjective"] as const;

/**
 * Walks the endpoint lines of a section whose header is at `headerAt`: each `next()` moves to the next `#r` line
 * (false after the last) and sets its endpoint, where its fields start, where it ends and its number. Throws
 * `RequestSectionError` on a line without an endpoint name.
 */
export class EndpointLines {
  private readonly text: string;
  private pos: number;
  /** Lines read after the header (the number in error messages). */
  lineNo = 0;
  endpoint = "";
  /** Offset of the first field after the endpoint name. */
  fieldsAt = 0;
  /** Offset of the line's end (its newline, or the text's end). */
  end = 0;

  constructor(text: string, headerAt: number) {
    this.text = text;
    this.pos = text.indexOf("\n", headerAt);
  }

  next(): boolean {
    const text = this.text;
    const n = text.length;
    while (this.pos >= 0 && this.pos < n) {
      const start = this.pos + 1;
      let end = text.indexOf("\n", start);
      if (end < 0) end = n;
      this.pos = end < n ? end : -1;
      this.lineNo += 1;
      if (!text.startsWith(LINE_PREFIX, start)) continue;
      const i = start + LINE_PREFIX.length;
      const nameEnd = endpointNameEnd(text, i, end, this.lineNo);
      this.endpoint = text.slice(i, nameEnd);
      this.fieldsAt = nameEnd + 1;
      this.end = end;
      return true;
    }
    return false;
  }
}

/** Offset of the space after the endpoint name starting at `i` on a line ending at `end`; throws when there is no name. */
function endpointNameEnd(text: string, i: number, end: number, lineNo: number): number {
  const nameEnd = text.indexOf(" ", i);
  if (nameEnd < 0 || nameEnd > end || nameEnd === i) throw new RequestSectionError(`request stats line ${lineNo}: no endpoint name`);
  return nameEnd;
}

/** End of the space-separated field starting at `i` on a line ending at `end`; throws when the line has ended. */
export function fieldEnd(text: string, i: number, end: number, lineNo: number, field: string): number {
  if (i > end) throw new RequestSectionError(`request stats line ${lineNo}: ${field} = ""; expected a non-negative number`);
  const j = text.indexOf(" ", i);
  return j < 0 || j > end ? end : j;
}

/** The bucket of the `<bucket>:<count>` pair `text[i, j)` whose colon is at `colon`; throws when it is not one. */
export function readBucket(text: string, i: number, colon: number, j: number, lineNo: number, endpoint: string): number {
  const bucket = colon > i && colon < j ? readUint(text, i, colon) : -1;
  if (bucket < 0 || bucket >= HISTOGRAM_BUCKETS) {
    throw new RequestSectionError(`request stats line ${lineNo} (${endpoint}): bucket ${JSON.stringify(text.slice(i, j))}; expected <0..${HISTOGRAM_BUCKETS - 1}>:<count>`);
  }
  return bucket;
}

/** A decimal integer from `text[from, to)`; -1 when it is not one. */
export function readUint(text: string, from: number, to: number): number {
  if (from >= to) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** A non-negative number (integers by character code; anything else through Number). */
export function readNumber(text: string, from: number, to: number, lineNo: number, field: string): number {
  const v = readUint(text, from, to);
  if (v >= 0) return v;
  const token = text.slice(from, to);
  const n = Number(token);
  if (token === "" || !Number.isFinite(n) || n < 0) {
    throw new RequestSectionError(`request stats line ${lineNo}: ${field} = ${JSON.stringify(token)}; expected a non-negative number`);
  }
  return n;
}
