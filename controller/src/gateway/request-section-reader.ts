/**
 * The controller's reader of one gateway replica's request section (request-stats-wire.ts), page after page:
 * it keeps the replica's last cumulative counters per endpoint and turns each new page straight into the
 * interval's increase, with a sparse histogram (only the buckets that moved). Same numbers as
 * `subtractCounters(parseRequestSection(page), parseRequestSection(previous page))`, without building a dense
 * 176-bucket reading per endpoint per page: an endpoint whose `served` did not move is not read further than
 * that field, and a busy one costs its changed buckets.
 *
 * A malformed line throws `RequestSectionError` (the page is refused whole) and forgets every previous
 * reading: the next page gives no interval, like a replica seen for the first time.
 */
import { HISTOGRAM_BUCKETS } from "./request-stats.ts";
import { EndpointLines, fieldEnd, readBucket, readNumber, REQUEST_SECTION_HEADER } from "./request-stats-wire.ts";

/** One endpoint's increase over one interval on one replica. `buckets`: (bucket, count) pairs, ascending. */
export interface IntervalCounts {
  readonly served: number;
  readonly serviceMsSum: number;
  readonly queueMsSum: number;
  readonly overObjective: number;
  readonly withObjective: boolean;
  readonly buckets: readonly number[];
}

const IDLE_WITH_OBJECTIVE: IntervalCounts = Object.freeze({ served: 0, serviceMsSum: 0, queueMsSum: 0, overObjective: 0, withObjective: true, buckets: Object.freeze([]) });
const IDLE: IntervalCounts = Object.freeze({ ...IDLE_WITH_OBJECTIVE, withObjective: false });

interface Cumulative {
  /** The endpoint's name as first read: the key of every page's result (one string across pages). */
  readonly name: string;
  served: number;
  serviceMsSum: number;
  queueMsSum: number;
  overObjective: number;
  readonly histogram: Float64Array;
  /** The read that last saw this endpoint (entries of endpoints gone from the page are dropped). */
  seenRead: number;
}

export class RequestSectionReader {
  #cumulative = new Map<string, Cumulative>();
  #reads = 0;
  #primed = false;

  /** Forgets the previous reading (the page had no section): the next section gives no interval. */
  reset(): void {
    this.#cumulative.clear();
    this.#primed = false;
  }

  /**
   * Reads the section starting at `from` in `text` (the header's offset) and returns each endpoint's
   * increase since the previous page; undefined for the first page (no interval yet). An endpoint new on a
   * later page counts from 0 (the agent started counting it); a `served` below the previous reading means
   * the agent restarted: the reading itself is the increase.
   */
  read(text: string, from = text.indexOf(REQUEST_SECTION_HEADER)): Map<string, IntervalCounts> | undefined {
    if (from < 0 || !text.startsWith(REQUEST_SECTION_HEADER, from)) {
      this.reset();
      return undefined;
    }
    try {
      return this.#read(text, from);
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  #read(text: string, from: number): Map<string, IntervalCounts> | undefined {
    const read = ++this.#reads;
    const primed = this.#primed;
    const out = new Map<string, IntervalCounts>();
    const lines = new EndpointLines(text, from);
    while (lines.next()) {
      const { endpoint, end, lineNo } = lines;
      let i = lines.fieldsAt;
      // Fields are read in place (no token strings): objective, served, then the rest only when served moved.
      let j = fieldEnd(text, i, end, lineNo, "objectiveMs");
      const withObjective = !(j === i + 1 && text.charCodeAt(i) === 45); /* - */
      if (withObjective) readNumber(text, i, j, lineNo, "objectiveMs");
      i = j + 1;
      j = fieldEnd(text, i, end, lineNo, "served");
      const served = readNumber(text, i, j, lineNo, "served");
      i = j + 1;
      let c = this.#cumulative.get(endpoint);
      if (c !== undefined && c.served === served) {
        // Nothing served since the last page (most endpoints, most seconds): the rest of the line is unchanged.
        c.seenRead = read;
        out.set(c.name, withObjective ? IDLE_WITH_OBJECTIVE : IDLE);
        continue;
      }
      j = fieldEnd(text, i, end, lineNo, "serviceMsSum");
      const serviceMsSum = readNumber(text, i, j, lineNo, "serviceMsSum");
      i = j + 1;
      j = fieldEnd(text, i, end, lineNo, "queueMsSum");
      const queueMsSum = readNumber(text, i, j, lineNo, "queueMsSum");
      i = j + 1;
      j = fieldEnd(text, i, end, lineNo, "overObjective");
      const overObjective = readNumber(text, i, j, lineNo, "overObjective");
      i = j + 1;
      const isNew = c === undefined;
      if (c === undefined) {
        c = { name: endpoint, served: 0, serviceMsSum: 0, queueMsSum: 0, overObjective: 0, histogram: new Float64Array(HISTOGRAM_BUCKETS), seenRead: read };
        this.#cumulative.set(endpoint, c);
      }
      const restarted = served < c.served;
      if (restarted) c.histogram.fill(0);
      const buckets: number[] = [];
      while (i < end) {
        j = text.indexOf(" ", i);
        if (j < 0 || j > end) j = end;
        const colon = text.indexOf(":", i);
        const bucket = readBucket(text, i, colon, j, lineNo, endpoint);
        const count = readNumber(text, colon + 1, j, lineNo, `bucket ${bucket}`);
        const d = count - c.histogram[bucket]!;
        if (d > 0) buckets.push(bucket, d);
        c.histogram[bucket] = count;
        i = j + 1;
      }
      const base = restarted ? { served: 0, serviceMsSum: 0, queueMsSum: 0, overObjective: 0 } : c;
      const interval: IntervalCounts = {
        served: served - base.served,
        serviceMsSum: Math.max(0, serviceMsSum - base.serviceMsSum),
        queueMsSum: Math.max(0, queueMsSum - base.queueMsSum),
        overObjective: Math.max(0, overObjective - base.overObjective),
        withObjective,
        buckets,
      };
      c.served = served;
      c.serviceMsSum = serviceMsSum;
      c.queueMsSum = queueMsSum;
      c.overObjective = overObjective;
      c.seenRead = read;
      // An endpoint first seen on the first page has no previous reading: no interval (counts since an unknown start).
      out.set(c.name, primed || !isNew ? interval : withObjective ? IDLE_WITH_OBJECTIVE : IDLE);
    }
    for (const [endpoint, c] of this.#cumulative) if (c.seenRead !== read) this.#cumulative.delete(endpoint);
    this.#primed = true;
    return primed ? out : undefined;
  }
}
