/**
 * Reads a gateway replica's page — HAProxy's runtime-socket CSV (`show stat -1 2 -1`, served by the gateway
 * agent's `GET /stats`; stat-csv.ts) or its built-in Prometheus exporter (`/metrics?scope=backend`;
 * promex-page.ts), told apart by content — and turns it into the per-endpoint 1 s samples the APA engine consumes. Pure: text in,
 * numbers out; fetching and clocks belong to the caller.
 *
 * Counter semantics, verified on Debian's HAProxy 2.6.12 with the gateway's config shape (see docs/gateway.md):
 * - in-flight = `haproxy_backend_current_sessions` − `haproxy_backend_current_queue` (sessions include the queue);
 * - immediate 429s from the queue bound (`http-request deny deny_status 429 … if { queue() ge N }`) count in
 *   `haproxy_backend_requests_denied_total`;
 * - queue-timeout 429s (HAProxy's own 503 rewritten by `http-after-response`) count in
 *   `haproxy_backend_connection_errors_total`, as do failed connects to a pod (answered 429 by the same rewrite
 *   when no retry succeeds, but counted even when a retry on another pod succeeded), and land in the backend's
 *   `code="4xx"` class: rejections = denied + min(connection errors, 4xx − denied);
 * - arrivals come from `haproxy_backend_sessions_total` (one per request, counted on arrival);
 * - a model pod's own 5xx stays in `code="5xx"`.
 */
import type { EndpointSample } from "../engine/types.ts";
import type { BackendStats } from "./backend-stats.ts";
import { parseBackendPage } from "./promex-page.ts";
import { emptyCounters, sampleTimeFields, type RequestCounters } from "./request-stats.ts";
import { RequestSectionReader, type IntervalCounts } from "./request-section-reader.ts";
import { REQUEST_SECTION_HEADER } from "./request-stats-wire.ts";
import { RowNames } from "./row-names.ts";
import { isStatCsv, parseStatCsv } from "./stat-csv.ts";

export type { BackendStats } from "./backend-stats.ts";
export { parseBackendPage } from "./promex-page.ts";

/**
 * Parses either gateway page: `show stat` CSV when the text starts with its `# pxname,` header, else a
 * promex page. Both give the same counters and gauges (checked on real HAProxy: test/gateway/stat-csv-real.test.ts).
 * With `names`, a CSV page's proxy names are the ones `names` kept from the replica's earlier pages.
 */
export function parseGatewayPage(text: string, names?: RowNames): Map<string, BackendStats> {
  return isStatCsv(text) ? parseStatCsv(text, names) : parseBackendPage(text);
}

/** Counter increase between two readings; a decrease means HAProxy restarted and counts began again at 0. */
function increase(prev: number, cur: number): number {
  return cur >= prev ? cur - prev : cur;
}

/**
 * One gateway replica's sample for one backend, from two consecutive readings `intervalMs` apart.
 * Without a previous reading, counters give no rates (0) but gauges are still valid.
 */
export function sampleFromReadings(
  prev: BackendStats | undefined, cur: BackendStats, atMs: number, intervalMs: number,
): EndpointSample {
  // Field by field (no closure per counter): the reader makes one sample per backend per second.
  // Connection errors also count connects to a dead pod that were retried on another pod and answered 200
  // (seen on 2.6.12 when a model process is killed with requests queued). A queue-timeout 429 is also a 4xx
  // response, so the 4xx increase (minus the queue-bound 429s) bounds them.
  const denied = prev === undefined ? 0 : increase(prev.deniedTotal, cur.deniedTotal);
  const connErrors = prev === undefined ? 0 : increase(prev.connectionErrorsTotal, cur.connectionErrorsTotal);
  const timeouts =
    prev?.responses4xxTotal === undefined || cur.responses4xxTotal === undefined
      ? connErrors
      : Math.min(connErrors, Math.max(0, increase(prev.responses4xxTotal, cur.responses4xxTotal) - denied));
  const rejections = denied + timeouts;
  const responses = prev === undefined ? 0 : increase(prev.responsesTotal, cur.responsesTotal);
  const sample: {
    -readonly [K in keyof EndpointSample]: EndpointSample[K];
  } = {
    atMs,
    intervalMs,
    inFlight: Math.max(0, cur.currentSessions - cur.currentQueue),
    queued: cur.currentQueue,
    arrivals: prev === undefined ? 0 : increase(prev.requestsTotal, cur.requestsTotal),
    completions: Math.max(0, responses - rejections),
    rejections,
    errors: prev === undefined ? 0 : increase(prev.responses5xxTotal, cur.responses5xxTotal),
  };
  // No mean times here: HAProxy's `*_time_average_seconds` are sliding averages over the last 1024 requests
  // that start at 0 and then lag by 1024 requests, and an instant in-flight ÷ completions reads 0 or 200 ms
  // for a 100 ms model at 5 req/s. Service and queue times come from the per-request log (request-stats.ts),
  // in the page's request section (`GatewayMetricsTracker.samples`).
  return sample;
}

/**
 * Sums one endpoint's samples from several gateway replicas: counts and gauges add up; time averages are
 * weighted by each replica's completions (equal weights when none completed).
 */
export function sumReplicaSamples(samples: readonly EndpointSample[], atMs: number): EndpointSample | undefined {
  if (samples.length === 0) return undefined;
  let inFlight = 0, queued = 0, arrivals = 0, completions = 0, rejections = 0, errors = 0;
  let qW = 0, qSum = 0, sW = 0, sSum = 0;
  for (const s of samples) {
    inFlight += s.inFlight; queued += s.queued; arrivals += s.arrivals;
    completions += s.completions; rejections += s.rejections; errors += s.errors ?? 0;
    const w = Math.max(s.completions, 1e-9);
    if (s.queueTimeMs !== undefined) { qW += w; qSum += w * s.queueTimeMs; }
    if (s.serviceTimeMs !== undefined) { sW += w; sSum += w * s.serviceTimeMs; }
  }
  const out: { -readonly [K in keyof EndpointSample]: EndpointSample[K] } = {
    atMs, intervalMs: samples[0]?.intervalMs ?? 1000, inFlight, queued, arrivals, completions, rejections, errors,
  };
  if (qW > 0) out.queueTimeMs = qSum / qW;
  if (sW > 0) out.serviceTimeMs = sSum / sW;
  return out;
}

/** Maps a HAProxy backend name to its endpoint name; undefined for backends that are not endpoints. */
export type EndpointOf = (proxy: string) => string | undefined;

/** The gateway's naming rule: backend `be_<endpoint>`. */
export const defaultEndpointOf: EndpointOf = (proxy) => (proxy.startsWith("be_") ? proxy.slice(3) : undefined);

/** One endpoint's summed sample, with how many gateway replicas contributed to it. */
export interface GatewayEndpointSample {
  readonly sample: EndpointSample;
  /** Replicas whose latest reading is fresh and includes this endpoint. */
  readonly reportingReplicas: number;
  /** Replicas the tracker has seen and not forgotten. */
  readonly knownReplicas: number;
}

/**
 * Keeps the last two readings per gateway replica and turns them into summed per-endpoint samples.
 * Holds state but no clock: the caller passes the time of every reading.
 */
export class GatewayMetricsTracker {
  private readonly replicas = new Map<string, ReplicaReadings>();
  private readonly sectionReaders = new Map<string, RequestSectionReader>();
  /** Per replica: the proxy names of its pages, one string each across pages. */
  private readonly rowNames = new Map<string, RowNames>();
  /** Endpoint name of each (interned) proxy name: one endpoint string per proxy across cycles. */
  private readonly endpointOfProxy = new Map<string, string | undefined>();
  private readonly endpointOf: EndpointOf;

  /** @param endpointOf backend name → endpoint name. @default `be_<endpoint>` */
  constructor(endpointOf: EndpointOf = defaultEndpointOf) {
    this.endpointOf = endpointOf;
  }

  /**
   * Records one replica's page (stat CSV or promex text, see `parseGatewayPage`, with the agent's request
   * section when it has one, request-stats-wire.ts) read at `atMs`.
   */
  ingestPage(replica: string, pageText: string, atMs: number): void {
    // The CSV reader gets only the CSV: its per-line search for a comma would run through the whole section.
    const at = pageText.indexOf(REQUEST_SECTION_HEADER);
    let reader = this.sectionReaders.get(replica);
    if (reader === undefined) this.sectionReaders.set(replica, (reader = new RequestSectionReader()));
    let names = this.rowNames.get(replica);
    if (names === undefined) this.rowNames.set(replica, (names = new RowNames()));
    const stats = parseGatewayPage(at < 0 ? pageText : pageText.slice(0, at), names);
    this.ingest(replica, stats, atMs, reader.read(pageText, at));
  }

  /**
   * Records one replica's parsed reading taken at `atMs`, and the request counts of the interval since its
   * previous page when it has them (`RequestSectionReader`).
   */
  ingest(replica: string, stats: Map<string, BackendStats>, atMs: number, requests?: ReadonlyMap<string, IntervalCounts>): void {
    const old = this.replicas.get(replica);
    this.replicas.set(replica, old === undefined ? { cur: stats, atMs, requests } : { prev: old.cur, prevAtMs: old.atMs, cur: stats, atMs, requests });
  }

  /** Forgets a replica that is gone for good (e.g. its pod was deleted). */
  forget(replica: string): void {
    this.replicas.delete(replica);
    this.sectionReaders.delete(replica);
    this.rowNames.delete(replica);
  }

  /** Replicas known to the tracker. */
  knownReplicas(): string[] {
    return [...this.replicas.keys()];
  }

  /**
   * Summed samples per endpoint at `atMs`, over replicas whose latest reading is at most `maxAgeMs` old.
   * Endpoints with no fresh reading are absent (the engine then fails static).
   */
  samples(atMs: number, maxAgeMs: number): Map<string, GatewayEndpointSample> {
    // One replica per endpoint is the common case: kept as the bare sample, summed only when a second comes.
    const perEndpoint = new Map<string, EndpointSample | EndpointSample[]>();
    // Per endpoint: the interval's request counts on each replica (summed below when more than one has them).
    const requests = new Map<string, IntervalCounts | IntervalCounts[]>();
    for (const r of this.replicas.values()) {
      if (atMs - r.atMs > maxAgeMs) continue;
      const intervalMs = r.prevAtMs === undefined ? 1000 : r.atMs - r.prevAtMs;
      for (const [proxy, cur] of r.cur) {
        let endpoint = this.endpointOfProxy.get(proxy);
        if (endpoint === undefined && !this.endpointOfProxy.has(proxy)) this.endpointOfProxy.set(proxy, (endpoint = this.endpointOf(proxy)));
        if (endpoint === undefined) continue;
        const s = sampleFromReadings(r.prev?.get(proxy), cur, r.atMs, intervalMs);
        const seen = perEndpoint.get(endpoint);
        if (seen === undefined) perEndpoint.set(endpoint, s);
        else if (Array.isArray(seen)) seen.push(s);
        else perEndpoint.set(endpoint, [seen, s]);
        // A replica whose page has a request section reports every endpoint it serves (none served yet: zero).
        if (r.requests !== undefined) {
          const iv = r.requests.get(endpoint) ?? NONE_SERVED;
          const acc = requests.get(endpoint);
          if (acc === undefined) requests.set(endpoint, iv);
          else if (Array.isArray(acc)) acc.push(iv);
          else requests.set(endpoint, [acc, iv]);
        }
      }
    }
    // Proxies gone from every page are forgotten (the table is rebuilt once it holds twice what the pages name).
    if (this.endpointOfProxy.size > 2 * perEndpoint.size + 64) this.endpointOfProxy.clear();
    const out = new Map<string, GatewayEndpointSample>();
    const knownReplicas = this.replicas.size;
    for (const [endpoint, seen] of perEndpoint) {
      let sample: EndpointSample | undefined;
      let reporting = 1;
      if (Array.isArray(seen)) {
        sample = sumReplicaSamples(seen, atMs);
        reporting = seen.length;
      } else {
        // The sample was made above for this call alone: stamping it with the query time changes no one else's.
        (seen as { atMs: number }).atMs = atMs;
        sample = seen;
      }
      if (sample === undefined) continue;
      const req = requests.get(endpoint);
      if (req !== undefined) {
        const fields = Array.isArray(req) ? sampleTimeFields(sumIntervals(req), req.some((x) => x.withObjective)) : sampleTimeFields(req, req.withObjective);
        // A single replica's sample was made above for this call alone; a summed one too: fill it in place.
        Object.assign(sample, fields);
      }
      out.set(endpoint, { sample, reportingReplicas: reporting, knownReplicas });
    }
    return out;
  }
}

const NONE_SERVED: IntervalCounts = Object.freeze({ served: 0, serviceMsSum: 0, queueMsSum: 0, overObjective: 0, withObjective: false, buckets: [] });

/** Several replicas' counts of one interval, summed (dense histogram: a few endpoints at a time). */
function sumIntervals(list: readonly IntervalCounts[]): RequestCounters {
  const c = emptyCounters();
  for (const x of list) {
    c.served += x.served;
    c.serviceMsSum += x.serviceMsSum;
    c.queueMsSum += x.queueMsSum;
    c.overObjective += x.overObjective;
    for (let k = 0; k + 1 < x.buckets.length; k += 2) c.histogram[x.buckets[k]!]! += x.buckets[k + 1]!;
  }
  return c;
}

interface ReplicaReadings {
  prev?: Map<string, BackendStats>;
  cur: Map<string, BackendStats>;
  prevAtMs?: number;
  atMs: number;
  /** The request counts of the interval that ended with `cur`, when the page had a section and a previous one. */
  requests?: ReadonlyMap<string, IntervalCounts>;
}
