/**
 * Pure pieces of the open-loop load generator (`load-generator.ts`): the send timetable, percentiles and the
 * per-run summary. No clocks, no sockets.
 */

/** Error for a bad option of the load generator or of the statistics helpers. */
export class LoadOptionError extends Error {}

/**
 * Scheduled send time of request `i` (0-based), in ns after the start, for a constant `ratePerS`.
 * Computed from `i` (not by adding an interval to the previous time), so rounding never accumulates.
 */
export function scheduledOffsetNs(i: number, ratePerS: number): number {
  if (!Number.isInteger(i) || i < 0) throw new LoadOptionError(`request index: ${i} is not allowed; must be an integer ≥ 0`);
  if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) {
    throw new LoadOptionError(`rate: ${ratePerS} is not allowed; must be a finite number > 0 requests/s`);
  }
  return Math.round((i * 1e9) / ratePerS);
}

/** Number of requests a run of `durationS` at `ratePerS` sends (the timetable's length). */
export function timetableLength(ratePerS: number, durationS: number): number {
  if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) {
    throw new LoadOptionError(`rate: ${ratePerS} is not allowed; must be a finite number > 0 requests/s`);
  }
  if (!(durationS > 0) || !Number.isFinite(durationS)) {
    throw new LoadOptionError(`duration: ${durationS} is not allowed; must be a finite number > 0 seconds`);
  }
  return Math.floor(ratePerS * durationS);
}

/**
 * Nearest-rank percentile of an ascending array: the smallest value with at least `p`% of the values at or
 * below it. NaN for an empty array.
 */
export function percentile(sortedAsc: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new LoadOptionError(`percentile: ${p} is not allowed; must be in 0..100`);
  if (sortedAsc.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sortedAsc.length));
  return sortedAsc[rank - 1] as number;
}

/** Median of any array (mean of the two middle values for an even length); NaN when empty. */
export function median(xs: readonly number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

/** What one open-loop run measured. Latencies in ms. */
export interface OpenLoopSummary {
  /** Requests in the timetable. */
  readonly scheduled: number;
  /** 2xx responses. */
  readonly ok: number;
  /** Responses with another status. */
  readonly non2xx: number;
  /** Requests without a response: socket errors, or no answer by the end of the run. */
  readonly errors: number;
  /** 2xx responses per second of the timetable. */
  readonly rps: number;
  /** Latency from the *scheduled* send time to the last byte of the response (coordinated-omission free). */
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** How late the generator sent, actual − scheduled (its own timer jitter; the same in both arms). */
  readonly sendLagP50Ms: number;
  readonly sendLagP99Ms: number;
  /** Latency from the actual send (what a closed-loop tool would report). */
  readonly serviceP99Ms: number;
  /** Keep-alive connections the run needed. */
  readonly connections: number;
}

/** Per-request samples of a run, in µs (2xx only for the latencies). */
export interface OpenLoopSamples {
  readonly scheduled: number;
  readonly durationS: number;
  readonly latencyUs: number[];
  readonly sendLagUs: number[];
  readonly serviceUs: number[];
  readonly non2xx: number;
  readonly errors: number;
  readonly connections: number;
}

/** Sorts the samples (in place) and reduces them to the summary. */
export function summarize(s: OpenLoopSamples): OpenLoopSummary {
  const asc = (a: number, b: number): number => a - b;
  s.latencyUs.sort(asc);
  s.sendLagUs.sort(asc);
  s.serviceUs.sort(asc);
  const ms = (us: number): number => us / 1000;
  return {
    scheduled: s.scheduled,
    ok: s.latencyUs.length,
    non2xx: s.non2xx,
    errors: s.errors,
    rps: s.latencyUs.length / s.durationS,
    p50Ms: ms(percentile(s.latencyUs, 50)),
    p90Ms: ms(percentile(s.latencyUs, 90)),
    p99Ms: ms(percentile(s.latencyUs, 99)),
    maxMs: ms(percentile(s.latencyUs, 100)),
    sendLagP50Ms: ms(percentile(s.sendLagUs, 50)),
    sendLagP99Ms: ms(percentile(s.sendLagUs, 99)),
    serviceP99Ms: ms(percentile(s.serviceUs, 99)),
    connections: s.connections,
  };
}
