/**
 * The local loop's record of the gateway's requests (display and fault accounting only): the per-request
 * records the gateway's log stream gives (controller/src/gateway/request-log.ts), kept for a short window per
 * endpoint. The engine's samples do not come from here: they come from the same `/stats` request counters
 * the Kubernetes controller reads.
 */
import { timingOf, type RequestRecord } from "../gateway/request-log.ts";

/** Value at percentile `p` (0..100) of an ascending array (nearest rank); undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** What one endpoint's requests looked like over an interval. */
export interface LogWindow {
  readonly count: number;
  readonly ok: number;
  readonly rejected429: number;
  readonly errors5xx: number;
  /** Gateway latency (queue + pod) of successful (2xx) requests. */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

/** Summarises records (one endpoint, one interval). */
export function summarise(records: readonly RequestRecord[]): LogWindow {
  const okTimes = records
    .filter((r) => r.status >= 200 && r.status < 300)
    .map((r) => {
      const t = timingOf(r);
      return t.queueMs + (t.serviceMs ?? 0);
    })
    .sort((a, b) => a - b);
  return {
    count: records.length,
    ok: okTimes.length,
    rejected429: records.filter((r) => r.status === 429).length,
    errors5xx: records.filter((r) => r.status >= 500).length,
    p50Ms: percentile(okTimes, 50),
    p99Ms: percentile(okTimes, 99),
  };
}

/** Collects records per endpoint with their arrival time; `window` summarises the recent ones. */
export class AccessLogCollector {
  /** Every 5xx a pod slot was involved in (not the no-pod 503s), for fault accounting. */
  readonly failures: Array<{ atMs: number; r: RequestRecord; slot: string }> = [];
  private readonly byEndpoint = new Map<string, Array<{ atMs: number; r: RequestRecord }>>();
  private readonly now: () => number;
  /** How long records are kept for `window()`. @default 10000 */
  private readonly keepMs: number;

  constructor(now: () => number, keepMs = 10_000) {
    this.now = now;
    this.keepMs = keepMs;
  }

  /** Feed one request record. */
  record(r: RequestRecord): void {
    if (r.endpoint === undefined) return;
    const list = this.byEndpoint.get(r.endpoint) ?? [];
    list.push({ atMs: this.now(), r });
    if (r.status >= 500 && r.server !== undefined) this.failures.push({ atMs: this.now(), r, slot: `${r.backend}/${r.server}` });
    this.byEndpoint.set(r.endpoint, list);
  }

  /** Summary of the records of `endpoint` logged in the last `ms`; drops records older than `keepMs`. */
  window(endpoint: string, ms: number): LogWindow {
    const now = this.now();
    const list = (this.byEndpoint.get(endpoint) ?? []).filter((x) => x.atMs > now - this.keepMs);
    this.byEndpoint.set(endpoint, list);
    return summarise(list.filter((x) => x.atMs > now - ms).map((x) => x.r));
  }
}
