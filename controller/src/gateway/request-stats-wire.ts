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

function num(token: string | undefined, lineNo: number, field: string): number {
  const n = Number(token);
  if (token === undefined || token === "" || !Number.isFinite(n) || n < 0) {
    throw new RequestSectionError(`request stats line ${lineNo}: ${field} = ${JSON.stringify(token)}; expected a non-negative number`);
  }
  return n;
}

/**
 * Reads the section out of a whole `/stats` answer: undefined when the answer has none (an agent without a
 * request reader, or HAProxy's own exporter page); else every endpoint's counters. Throws
 * `RequestSectionError` on a malformed line: a page that cannot be trusted is refused whole.
 */
export function parseRequestSection(text: string): Map<string, EndpointRequestCounters> | undefined {
  const at = text.indexOf(REQUEST_SECTION_HEADER);
  if (at < 0) return undefined;
  const out = new Map<string, EndpointRequestCounters>();
  let pos = text.indexOf("\n", at);
  let lineNo = 0;
  while (pos >= 0 && pos < text.length) {
    const start = pos + 1;
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    pos = end < text.length ? end : -1;
    lineNo += 1;
    if (!text.startsWith(LINE_PREFIX, start)) continue;
    const f = text.slice(start + LINE_PREFIX.length, end).split(" ");
    const endpoint = f[0];
    if (endpoint === undefined || endpoint === "") throw new RequestSectionError(`request stats line ${lineNo}: no endpoint name`);
    const c = emptyCounters();
    const objectiveMs = f[1] === "-" ? undefined : num(f[1], lineNo, "objectiveMs");
    c.served = num(f[2], lineNo, "served");
    c.serviceMsSum = num(f[3], lineNo, "serviceMsSum");
    c.queueMsSum = num(f[4], lineNo, "queueMsSum");
    c.overObjective = num(f[5], lineNo, "overObjective");
    for (let i = 6; i < f.length; i++) {
      const pair = f[i] as string;
      const colon = pair.indexOf(":");
      const bucket = Number(pair.slice(0, colon));
      if (colon < 0 || !Number.isInteger(bucket) || bucket < 0 || bucket >= HISTOGRAM_BUCKETS) {
        throw new RequestSectionError(`request stats line ${lineNo} (${endpoint}): bucket ${JSON.stringify(pair)}; expected <0..${HISTOGRAM_BUCKETS - 1}>:<count>`);
      }
      c.histogram[bucket] = num(pair.slice(colon + 1), lineNo, `bucket ${bucket}`);
    }
    out.set(endpoint, { objectiveMs, counters: c });
  }
  return out;
}
