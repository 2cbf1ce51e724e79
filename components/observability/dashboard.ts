/**
 * A Grafana dashboard per endpoint (JSON model, schemaVersion 39), shipped as a ConfigMap the Grafana sidecar
 * of kube-prometheus-stack loads (label `grafana_dashboard: "1"`).
 *
 * Metric sources: HAProxy's Prometheus exporter on the gateway (backend `be_<endpoint>`), the APA controller's
 * own gauges (label `endpoint="<namespace>/<name>"`, controller/src/kube/own-metrics.ts), kube-state-metrics, and
 * the runtime's latency histogram where it has one (vLLM). HAProxy has no latency percentiles, so the latency
 * panel shows the gateway's average for every endpoint and p50/p99 for runtimes that export a histogram.
 * 429s = queue-bound denials + queue timeouts (how the gateway answers them; controller/src/gateway/metrics-reader.ts).
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
  vllmLatencyBucket: "vllm:e2e_request_latency_seconds_bucket",
  readyReplicas: "apa_ready_replicas",
  desiredReplicas: "apa_desired_replicas",
  targetConcurrency: "apa_target_concurrency",
} as const;

/** HAProxy backend of an endpoint (the gateway renderer's naming). */
export function backendName(endpoint: string): string {
  return `be_${endpoint}`;
}

interface Panel { readonly title: string; readonly unit: string; readonly exprs: readonly { expr: string; legend: string }[] }

/** The panels, in order: QPS, p50/p99, in-flight, queued, replicas, target concurrency, 429s. */
export function dashboardPanels(endpoint: string): Panel[] {
  const be = `proxy="${backendName(endpoint)}"`;
  const m = DASHBOARD_METRICS;
  const key = `endpoint="ep-${endpoint}/${endpoint}"`;
  const vllm = (q: number) => `histogram_quantile(${q}, sum by (le) (rate(${m.vllmLatencyBucket}{model_name="${endpoint}"}[1m])))`;
  return [
    { title: "QPS", unit: "reqps", exprs: [{ expr: `sum(rate(${m.requests}{${be}}[1m]))`, legend: "requests/s" }] },
    { title: "Latency p50 / p99", unit: "s", exprs: [
      { expr: vllm(0.5), legend: "p50 (runtime histogram)" },
      { expr: vllm(0.99), legend: "p99 (runtime histogram)" },
      { expr: `max(${m.totalTimeAvg}{${be}})`, legend: "gateway average" },
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
