/**
 * A Grafana dashboard per endpoint (JSON model, schemaVersion 39), shipped as a ConfigMap the Grafana sidecar
 * of kube-prometheus-stack loads (label `grafana_dashboard: "1"`).
 *
 * Metric sources: HAProxy's Prometheus exporter on the gateway (backend `be_<endpoint>`), the gateway agent's
 * per-request metrics (controller/src/gateway/request-observer.ts: a latency histogram per endpoint and model
 * version for every runtime, requests over the objective, 429s and 5xx by reason), the APA controller's own
 * gauges (label `endpoint="<namespace>/<name>"`, controller/src/kube/own-metrics.ts) and kube-state-metrics.
 * Every query is checked by promtool as rendered (test/infra/dashboard-promql.test.ts).
 */
import { type KubeObject, PLATFORM } from "../types.ts";

/** Metric names the dashboards query. */
export const DASHBOARD_METRICS = {
  requests: "haproxy_backend_http_requests_total",
  sessions: "haproxy_backend_current_sessions",
  queue: "haproxy_backend_current_queue",
  totalTimeAvg: "haproxy_backend_total_time_average_seconds",
  denied: "haproxy_backend_requests_denied_total",
  connectionErrors: "haproxy_backend_connection_errors_total",
  latencyBucket: "autopilot_gateway_request_duration_seconds_bucket",
  latencyCount: "autopilot_gateway_request_duration_seconds_count",
  queueSeconds: "autopilot_gateway_queue_seconds_total",
  overObjective: "autopilot_gateway_over_objective_total",
  requestErrors: "autopilot_gateway_request_errors_total",
  readyReplicas: "apa_ready_replicas",
  desiredReplicas: "apa_desired_replicas",
  targetConcurrency: "apa_target_concurrency",
} as const;

/** HAProxy backend of an endpoint (the gateway renderer's naming). */
export function backendName(endpoint: string): string {
  return `be_${endpoint}`;
}

interface Panel { readonly title: string; readonly unit: string; readonly exprs: readonly { expr: string; legend: string }[] }

/** The p-quantile (0..1) of an endpoint's gateway latency over 1 m, optionally per model version. */
export function latencyQuantileExpr(endpoint: string, q: number, byVersion = false): string {
  const by = byVersion ? "le, version" : "le";
  return `histogram_quantile(${q}, sum by (${by}) (rate(${DASHBOARD_METRICS.latencyBucket}{endpoint="${endpoint}"}[1m])))`;
}

/**
 * The panels, in order: QPS, p50/p99, p50/p99 per model version, in-flight, queued, replicas, target concurrency,
 * 429s, over objective (all and per version), queue wait, 429s and 5xx by reason.
 */
export function dashboardPanels(endpoint: string): Panel[] {
  const be = `proxy="${backendName(endpoint)}"`;
  const m = DASHBOARD_METRICS;
  const key = `endpoint="ep-${endpoint}/${endpoint}"`;
  const ep = `endpoint="${endpoint}"`;
  return [
    { title: "QPS", unit: "reqps", exprs: [{ expr: `sum(rate(${m.requests}{${be}}[1m]))`, legend: "requests/s" }] },
    { title: "Latency p50 / p99", unit: "s", exprs: [
      { expr: latencyQuantileExpr(endpoint, 0.5), legend: "p50" },
      { expr: latencyQuantileExpr(endpoint, 0.99), legend: "p99" },
    ] },
    // Every runtime: the gateway measures each request itself, whatever serves it.
    { title: "Latency p50 / p99 by model version", unit: "s", exprs: [
      { expr: latencyQuantileExpr(endpoint, 0.5, true), legend: "p50 {{version}}" },
      { expr: latencyQuantileExpr(endpoint, 0.99, true), legend: "p99 {{version}}" },
    ] },
    // HAProxy counts queued requests in current sessions: in-flight = sessions − queue.
    { title: "In-flight", unit: "short", exprs: [{ expr: `sum(${m.sessions}{${be}}) - sum(${m.queue}{${be}})`, legend: "in flight" }] },
    { title: "Queued", unit: "short", exprs: [{ expr: `sum(${m.queue}{${be}})`, legend: "queued" }] },
    { title: "Replicas", unit: "short", exprs: [
      { expr: `max(${m.readyReplicas}{${key}})`, legend: "ready" },
      { expr: `max(${m.desiredReplicas}{${key}})`, legend: "desired" },
    ] },
    { title: "Target concurrency", unit: "short", exprs: [{ expr: `max(${m.targetConcurrency}{${key}})`, legend: "per pod" }] },
    { title: "429s", unit: "reqps", exprs: [{ expr: `sum(rate(${m.denied}{${be}}[1m])) + sum(rate(${m.connectionErrors}{${be}}[1m]))`, legend: "429/s" }] },
    { title: "Requests over the objective", unit: "percentunit", exprs: [
      { expr: `sum(rate(${m.overObjective}{${ep}}[5m])) / sum(rate(${m.latencyCount}{${ep}}[5m]))`, legend: "share over the p99 objective" },
      { expr: `sum by (version) (rate(${m.overObjective}{${ep}}[5m])) / sum by (version) (rate(${m.latencyCount}{${ep}}[5m]))`, legend: "over the objective {{version}}" },
    ] },
    { title: "Queue wait (mean)", unit: "s", exprs: [
      { expr: `sum(rate(${m.queueSeconds}{${ep}}[1m])) / sum(rate(${m.latencyCount}{${ep}}[1m]))`, legend: "mean queue wait" },
    ] },
    { title: "429s and 5xx by reason", unit: "reqps", exprs: [{ expr: `sum by (code, reason) (rate(${m.requestErrors}{${ep}}[1m]))`, legend: "{{code}} {{reason}}" }] },
  ];
}

/** Grafana dashboard JSON model. */
export function buildDashboard(endpoint: string): Record<string, unknown> {
  return {
    uid: `autopilot-${endpoint}`.slice(0, 40),
    title: `Endpoint ${endpoint}`,
    tags: ["autopilot-serving", "endpoint"],
    schemaVersion: 39,
    refresh: "10s",
    time: { from: "now-1h", to: "now" },
    panels: dashboardPanels(endpoint).map((p, i) => ({
      id: i + 1, type: "timeseries", title: p.title,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: { type: "prometheus", uid: "prometheus" },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.exprs.map((e, j) => ({ refId: String.fromCharCode(65 + j), expr: e.expr, legendFormat: e.legend })),
    })),
  };
}

/** ConfigMap carrying the dashboard. */
export function buildDashboardConfigMap(endpoint: string): KubeObject {
  return {
    apiVersion: "v1", kind: "ConfigMap",
    metadata: { name: `dashboard-${endpoint}`, namespace: PLATFORM.monitoringNamespace, labels: { grafana_dashboard: "1", [PLATFORM.labelEndpoint]: endpoint } },
    data: { [`${endpoint}.json`]: JSON.stringify(buildDashboard(endpoint)) },
  };
}

/** ServiceMonitor for a platform Service (gateway, controller) exposing a `metrics` port. */
export function buildServiceMonitor(name: string, namespace: string, matchLabels: Record<string, string>): KubeObject {
  return {
    apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor",
    metadata: { name, namespace: PLATFORM.monitoringNamespace, labels: { release: "kube-prometheus-stack" } },
    spec: {
      namespaceSelector: { matchNames: [namespace] },
      selector: { matchLabels },
      // honorLabels: the controller's metrics carry their own `endpoint` label (the ServingEndpoint key).
      endpoints: [{ port: "metrics", path: "/metrics", interval: "5s", honorLabels: true }],
    },
  };
}
