/**
 * Reads the gateway's access log lines (format in render-config.ts) and keeps per-endpoint latency and status
 * counts, so the local loop can show and feed p50/p99 and exact 429/5xx counts. Parsing is pure.
 */

/** One parsed access-log line. Times in ms (HAProxy's %Tw/%Tr/%Ta; -1 when the phase did not happen). */
export interface AccessLogEntry {
  readonly endpoint: string;
  readonly status: number;
  readonly queueMs: number;
  readonly serviceMs: number;
  readonly totalMs: number;
  /** `backend/slot` that served it (`be_x/<NOSRV>` when none). */
  readonly server: string;
}

const LINE_RE = / ep=([a-z0-9-]*) .* status=(\d+) .*Tw=(-?\d+) Tc=(-?\d+) Tr=(-?\d+) Ta=(-?\d+) srv=(\S+) /;

/** Parses one access-log line; undefined for other lines (notices, warnings). */
export function parseAccessLine(line: string): AccessLogEntry | undefined {
  const m = LINE_RE.exec(line);
  if (!m || m[1] === "") return undefined;
  return { endpoint: m[1] as string, status: Number(m[2]), queueMs: Number(m[3]), serviceMs: Number(m[5]), totalMs: Number(m[6]), server: m[7] as string };
}

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
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Mean queue time and pod service time of requests a pod served. */
  readonly meanQueueMs: number | undefined;
  readonly meanServiceMs: number | undefined;
}

/** Summarises entries (one endpoint, one interval). Latency percentiles cover successful (2xx) requests. */
export function summarise(entries: readonly AccessLogEntry[]): LogWindow {
  const okTimes = entries.filter((e) => e.status < 300).map((e) => e.totalMs).sort((a, b) => a - b);
  const served = entries.filter((e) => e.serviceMs >= 0);
  const mean = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    count: entries.length,
    ok: okTimes.length,
    rejected429: entries.filter((e) => e.status === 429).length,
    errors5xx: entries.filter((e) => e.status >= 500).length,
    p50Ms: percentile(okTimes, 50),
    p99Ms: percentile(okTimes, 99),
    meanQueueMs: mean(served.map((e) => Math.max(0, e.queueMs))),
    meanServiceMs: mean(served.map((e) => e.serviceMs)),
  };
}

/** Collects entries per endpoint with their arrival time; `window` summarises the recent ones. */
export class AccessLogCollector {
  /** Every 5xx entry (other than 503 NO_READY_POD answered without a slot), for fault accounting. */
  readonly failures: Array<{ atMs: number; e: AccessLogEntry }> = [];
  private readonly byEndpoint = new Map<string, Array<{ atMs: number; e: AccessLogEntry }>>();
  private readonly now: () => number;
  /** How long entries are kept for `window()`. @default 10000 */
  private readonly keepMs: number;

  constructor(now: () => number, keepMs = 10_000) {
    this.now = now;
    this.keepMs = keepMs;
  }

  /** Feed one HAProxy output line. */
  line(text: string): void {
    const e = parseAccessLine(text);
    if (e === undefined) return;
    const list = this.byEndpoint.get(e.endpoint) ?? [];
    list.push({ atMs: this.now(), e });
    if (e.status >= 500 && !e.server.endsWith("<NOSRV>")) this.failures.push({ atMs: this.now(), e });
    this.byEndpoint.set(e.endpoint, list);
  }

  /** Summary of the entries of `endpoint` logged in the last `ms`; drops entries older than `keepMs`. */
  window(endpoint: string, ms: number): LogWindow {
    const now = this.now();
    const list = (this.byEndpoint.get(endpoint) ?? []).filter((x) => x.atMs > now - this.keepMs);
    this.byEndpoint.set(endpoint, list);
    return summarise(list.filter((x) => x.atMs > now - ms).map((x) => x.e));
  }
}
