/**
 * The per-backend reading both gateway page formats are parsed into: HAProxy's runtime-socket CSV
 * (`show stat -1 2 -1`, stat-csv.ts) and its Prometheus exporter page (`/metrics?scope=backend`,
 * metrics-reader.ts). A leaf module so both parsers share it without importing each other.
 */

/** Counters and gauges of one HAProxy backend (one endpoint) on one gateway replica. */
export interface BackendStats {
  readonly proxy: string;
  /** Backend current sessions (CSV `scur`); includes the queued requests. */
  readonly currentSessions: number;
  /** Backend-wide queue (CSV `qcur`). */
  readonly currentQueue: number;
  /** `haproxy_backend_sessions_total` (CSV `stot`): requests that reached the backend, counted on arrival. */
  readonly requestsTotal: number;
  /** Sum of `haproxy_backend_http_responses_total` over all code classes (CSV `hrsp_1xx` … `hrsp_other`). */
  readonly responsesTotal: number;
  readonly responses5xxTotal: number;
  /** 4xx responses (queue-bound and queue-timeout 429s included); absent in readings made before this field existed. */
  readonly responses4xxTotal?: number;
  /** `haproxy_backend_requests_denied_total` (CSV `dreq`): queue-bound 429s. */
  readonly deniedTotal: number;
  /** `haproxy_backend_connection_errors_total` (CSV `econ`): queue timeouts and failed pod connects (429 to the client). */
  readonly connectionErrorsTotal: number;
  /**
   * HAProxy's sliding averages over its last 1024 requests, ms (undefined when the page lacks them). Kept for
   * display; samples derive mean times from counters instead (see `sampleFromReadings`). The two formats do
   * not agree on these in 2.6.12 before 1024 requests: after 20 requests of 103 ms the CSV said `ttime` 103
   * (averaged over the requests seen so far) and the exporter 0.005 s.
   */
  readonly queueTimeAvgMs: number | undefined;
  readonly totalTimeAvgMs: number | undefined;
  /** Active servers (CSV `act`). */
  readonly activeServers: number;
}
