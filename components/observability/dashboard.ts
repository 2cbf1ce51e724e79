/**
 * A Grafana dashboard per endpoint (JSON model, schemaVersion 39), shipped as a ConfigMap the Grafana sidecar
 * of kube-prometheus-stack loads (label `grafana_dashboard: "1"`).
 *
 * Metric sources: HAProxy's built-in Prometheus exporter on the gateway (backend `be_<endpoint>`), the gateway
 * agent's latency histogram and 429 counter, kube-state-metrics for replicas, and the APA controller's target
 * concurrency gauge. The agent/controller metric names are in DASHBOARD_METRICS so they change in one place.
 */
import { type KubeObject, PLATFORM } from "../types.ts";

/** Metric names the dashboards query. */
export const DASHBOARD_METRICS = {
  requests: "haproxy_backend_http_requests_total",
  sessions: "haproxy_backend_current_sessions",
  queue: "haproxy_backend_current_queue",
  latencyBucket: "autopilot_gateway_request_duration_seconds_bucket",
  rejections: "autopilot_gateway_rejections_total",
  readyReplicas: "kube_deployment_status_replicas_ready",
  targetConcurrency: "autopilot_target_concurrency",
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
  const ns = `namespace="ep-${endpoint}"`;
  return [
    { title: "QPS", unit: "reqps", exprs: [{ expr: `sum(rate(${m.requests}{${be}}[1m]))`, legend: "requests/s" }] },
    { title: "Latency p50 / p99", unit: "s", exprs: [
      { expr: `histogram_quantile(0.5, sum by (le) (rate(${m.latencyBucket}{endpoint="${endpoint}"}[1m])))`, legend: "p50" },
      { expr: `histogram_quantile(0.99, sum by (le) (rate(${m.latencyBucket}{endpoint="${endpoint}"}[1m])))`, legend: "p99" },
    ] },
    // HAProxy counts queued requests in current sessions: in-flight = sessions − queue.
    { title: "In-flight", unit: "short", exprs: [{ expr: `sum(${m.sessions}{${be}}) - sum(${m.queue}{${be}})`, legend: "in flight" }] },
    { title: "Queued", unit: "short", exprs: [{ expr: `sum(${m.queue}{${be}})`, legend: "queued" }] },
    { title: "Replicas (ready)", unit: "short", exprs: [{ expr: `sum by (deployment) (${m.readyReplicas}{${ns}})`, legend: "{{deployment}}" }] },
    { title: "Target concurrency", unit: "short", exprs: [{ expr: `max(${m.targetConcurrency}{endpoint="${endpoint}"})`, legend: "per pod" }] },
    { title: "429s", unit: "reqps", exprs: [{ expr: `sum(rate(${m.rejections}{endpoint="${endpoint}"}[1m]))`, legend: "429/s" }] },
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
      endpoints: [{ port: "metrics", path: "/metrics", interval: "5s" }],
    },
  };
}
