/**
 * Observability: kube-prometheus-stack (Prometheus, Grafana, kube-state-metrics, node exporter), the
 * OpenTelemetry collector, ServiceMonitors for the gateway and the controller, and one Grafana dashboard per
 * endpoint. Charts go through `k8s.helm.v4.Chart` (every object visible to policies), versions pinned.
 * DCGM exporters come with the GPU NodePools (they follow each pool's selector and taints).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../images.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { restrictedNamespaceLabels } from "../k8s/pod-security.ts";
import { PLATFORM } from "../types.ts";
import { buildDashboardConfigMap, buildServiceMonitor } from "./dashboard.ts";

/** The OpenTelemetry collector's Service name, and its OTLP/HTTP traces URL inside the cluster. */
export const OTEL_COLLECTOR_NAME = "otel-collector";
export const OTEL_TRACES_URL = `http://${OTEL_COLLECTOR_NAME}.${PLATFORM.monitoringNamespace}.svc:4318/v1/traces`;

export interface ObservabilityArgs {
  /** Endpoints that get a dashboard. */
  readonly endpoints: readonly string[];
  /** Grafana admin password; when given the component creates the `grafana-admin` Secret, else it must exist. */
  readonly grafanaAdminPassword?: pulumi.Input<string>;
  /** Retention of Prometheus data. @default "15d" */
  readonly retention?: string;
}

export class Observability extends pulumi.ComponentResource {
  /** In-cluster Grafana URL (port-forward or expose it yourself). */
  readonly grafanaUrl: pulumi.Output<string>;
  /** Resources that must exist before ServiceMonitors / PodMonitors (the operator CRDs come with the chart). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:observability:Observability", name, {}, opts);
    const ns = kubeResource(`${name}-ns`, { apiVersion: "v1", kind: "Namespace", metadata: { name: PLATFORM.monitoringNamespace, labels: { ...restrictedNamespaceLabels(), "pod-security.kubernetes.io/enforce": "privileged" } } }, { parent: this });
    const admin = args.grafanaAdminPassword !== undefined
      ? [kubeResource(`${name}-grafana-admin`, {
        apiVersion: "v1", kind: "Secret", type: "Opaque",
        metadata: { name: "grafana-admin", namespace: PLATFORM.monitoringNamespace },
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(args.grafanaAdminPassword) },
      }, { parent: this, dependsOn: [ns] })]
      : [];
    const kps = new k8s.helm.v4.Chart(`${name}-kube-prometheus-stack`, {
      chart: CHARTS.kubePrometheusStack.chart, version: CHARTS.kubePrometheusStack.version,
      repositoryOpts: { repo: CHARTS.kubePrometheusStack.repo }, namespace: PLATFORM.monitoringNamespace,
      values: {
        fullnameOverride: "kps",
        prometheus: { prometheusSpec: {
          retention: args.retention ?? "15d",
          // Pick up ServiceMonitors / PodMonitors from every namespace, not only the chart's own.
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "8Gi" } },
        } },
        grafana: {
          admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
          sidecar: { dashboards: { enabled: true, label: "grafana_dashboard", labelValue: "1", searchNamespace: PLATFORM.monitoringNamespace } },
          resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        },
      },
    }, { parent: this, dependsOn: [ns, ...admin] });
    const otel = new k8s.helm.v4.Chart(`${name}-otel-collector`, {
      chart: CHARTS.openTelemetryCollector.chart, version: CHARTS.openTelemetryCollector.version,
      repositoryOpts: { repo: CHARTS.openTelemetryCollector.repo }, namespace: PLATFORM.monitoringNamespace,
      values: {
        // A fixed Service name, so the gateway agent's OTLP URL is known up front (OTEL_TRACES_URL).
        fullnameOverride: OTEL_COLLECTOR_NAME,
        mode: "deployment", replicaCount: 2,
        image: { repository: "otel/opentelemetry-collector-k8s" },
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
        config: {
          receivers: { otlp: { protocols: { grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } } } },
          exporters: { prometheus: { endpoint: "0.0.0.0:8889" }, debug: {} },
          service: { pipelines: { metrics: { receivers: ["otlp"], exporters: ["prometheus"] }, traces: { receivers: ["otlp"], exporters: ["debug"] } } },
        },
      },
    }, { parent: this, dependsOn: [ns] });
    const after = { parent: this, dependsOn: [ns, kps] };
    kubeResource(`${name}-gateway-servicemonitor`, buildServiceMonitor("gateway", PLATFORM.gatewayNamespace, { [PLATFORM.labelComponent]: "gateway" }), after);
    kubeResource(`${name}-controller-servicemonitor`, buildServiceMonitor("apa-controller", PLATFORM.systemNamespace, { [PLATFORM.labelComponent]: "apa-controller" }), after);
    for (const ep of args.endpoints) kubeResource(`${name}-dashboard-${ep}`, buildDashboardConfigMap(ep), { parent: this, dependsOn: [ns] });
    this.ready = [kps, otel];
    this.grafanaUrl = pulumi.output(`http://kps-grafana.${PLATFORM.monitoringNamespace}.svc`);
    this.registerOutputs({ grafanaUrl: this.grafanaUrl });
  }
}
