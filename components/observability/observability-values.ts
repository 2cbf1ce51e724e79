/**
 * Chart values of the observability stack (pure): kube-prometheus-stack and the OpenTelemetry collector, with
 * - no Helm hooks: the prometheus-operator admission webhooks and operator TLS are off (their certificates come
 *   only from hook Jobs, which `helm.v4.Chart` never runs);
 * - predictable names: release `kps`, so Prometheus is `kps-prometheus` and Grafana `kps-grafana`;
 * - requests and limits on every container (the policy pack checks every chart object under a real preview, and a
 *   laptop's kind node must hold the whole stack), restricted security contexts;
 * - Grafana's admin credentials from the `grafana-admin` Secret the component creates.
 * `size: "small"` is the local cloud's (one kind node); `"standard"` the cloud clusters'.
 */
import { PLATFORM } from "../types.ts";
import { exportHeaderEnv, OTEL_EXPORT_HEADERS_SECRET, otelCollectorConfig, type TraceExport } from "./otel-config.ts";

export const KPS_RELEASE = "kps";
export const OTEL_RELEASE = "otel";
/** A fixed Service name, so the gateway agent's OTLP URL is known up front. */
export const OTEL_COLLECTOR_NAME = "otel-collector";
export const GRAFANA_SERVICE = `${KPS_RELEASE}-grafana`;
export const PROMETHEUS_SERVICE = `${KPS_RELEASE}-prometheus`;
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

export type StackSize = "small" | "standard";

type Res = { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
const res = (cpuReq: string, memReq: string, cpuLim: string, memLim: string): Res => ({ requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } });

/** Container resources by size (requests are what the scheduler reserves). */
export const OBSERVABILITY_RESOURCES: Readonly<Record<StackSize, Readonly<Record<string, Res>>>> = {
  small: {
    prometheus: res("200m", "512Mi", "1", "2Gi"), alertmanager: res("20m", "32Mi", "200m", "128Mi"), configReloader: res("10m", "16Mi", "100m", "64Mi"),
    operator: res("50m", "64Mi", "200m", "256Mi"), grafana: res("50m", "128Mi", "500m", "512Mi"), grafanaSidecar: res("10m", "32Mi", "100m", "128Mi"),
    kubeStateMetrics: res("20m", "64Mi", "200m", "256Mi"), nodeExporter: res("20m", "32Mi", "200m", "128Mi"), otel: res("50m", "128Mi", "500m", "512Mi"),
  },
  standard: {
    prometheus: res("500m", "2Gi", "2", "8Gi"), alertmanager: res("50m", "64Mi", "500m", "256Mi"), configReloader: res("20m", "32Mi", "200m", "128Mi"),
    operator: res("100m", "128Mi", "500m", "512Mi"), grafana: res("100m", "256Mi", "1", "1Gi"), grafanaSidecar: res("20m", "64Mi", "200m", "256Mi"),
    kubeStateMetrics: res("50m", "128Mi", "500m", "512Mi"), nodeExporter: res("50m", "64Mi", "250m", "128Mi"), otel: res("100m", "256Mi", "1", "1Gi"),
  },
};

const containerRestricted = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };

/** kube-prometheus-stack values. */
export function kubePrometheusStackValues(size: StackSize, retention: string): Record<string, unknown> {
  const r = OBSERVABILITY_RESOURCES[size];
  return {
    fullnameOverride: KPS_RELEASE,
    prometheusOperator: {
      // Both would need the <release>-admission Secret that only the chart's hook Jobs create.
      admissionWebhooks: { enabled: false, patch: { enabled: false } },
      tls: { enabled: false },
      resources: r.operator,
      prometheusConfigReloader: { resources: r.configReloader },
    },
    prometheus: { prometheusSpec: {
      retention,
      // Pick up ServiceMonitors / PodMonitors from every namespace, not only the chart's own.
      serviceMonitorSelectorNilUsesHelmValues: false,
      podMonitorSelectorNilUsesHelmValues: false,
      resources: r.prometheus,
    } },
    alertmanager: { alertmanagerSpec: { resources: r.alertmanager } },
    grafana: {
      fullnameOverride: GRAFANA_SERVICE,
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      testFramework: { enabled: false },
      resources: r.grafana,
      containerSecurityContext: containerRestricted,
      // Grafana writes only its data dir (an emptyDir in the chart), /tmp and its log dir.
      extraEmptyDirMounts: [{ name: "tmp", mountPath: "/tmp" }, { name: "logs", mountPath: "/var/log/grafana" }],
      sidecar: {
        resources: r.grafanaSidecar, securityContext: containerRestricted,
        dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: PLATFORM.monitoringNamespace },
      },
    },
    "kube-state-metrics": { resources: r.kubeStateMetrics, containerSecurityContext: containerRestricted },
    "prometheus-node-exporter": { resources: r.nodeExporter },
  };
}

/** OpenTelemetry collector values: its config is `otelCollectorConfig` (otel-config.ts), rendered unchanged. */
export function otelCollectorValues(size: StackSize, traces?: TraceExport): Record<string, unknown> {
  const headers = traces?.headerNames ?? [];
  return {
    fullnameOverride: OTEL_COLLECTOR_NAME,
    mode: "deployment", replicaCount: size === "small" ? 1 : 2,
    image: { repository: "otel/opentelemetry-collector-k8s" },
    resources: OBSERVABILITY_RESOURCES[size].otel,
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    securityContext: containerRestricted,
    alternateConfig: otelCollectorConfig(traces),
    // Only OTLP is received: the chart's Jaeger and Zipkin ports stay closed.
    ports: { "jaeger-compact": { enabled: false }, "jaeger-thrift": { enabled: false }, "jaeger-grpc": { enabled: false }, zipkin: { enabled: false } },
    ...(headers.length > 0
      ? { extraEnvs: headers.map((_, i) => ({ name: exportHeaderEnv(i), valueFrom: { secretKeyRef: { name: OTEL_EXPORT_HEADERS_SECRET, key: `header-${i}` } } })) }
      : {}),
  };
}
