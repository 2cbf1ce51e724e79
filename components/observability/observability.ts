/**
 * Observability: kube-prometheus-stack (Prometheus, Grafana, kube-state-metrics, node exporter), the
 * OpenTelemetry collector, ServiceMonitors for the gateway and the controller, and one Grafana dashboard per
 * endpoint. Charts go through `pinnedChart` (helm.v4.Chart: every object visible to policies; values that need a
 * Helm hook are refused), versions pinned, values in observability-values.ts. DCGM exporters come with the GPU
 * NodePools (they follow each pool's selector and taints) and wait for `ready` (the Prometheus operator CRDs).
 */
import * as random from "@pulumi/random";
import * as pulumi from "@pulumi/pulumi";
import { pinnedChart } from "../charts/pinned-chart.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { restrictedNamespaceLabels } from "../k8s/pod-security.ts";
import { PLATFORM } from "../types.ts";
import { buildDashboardConfigMap, buildServiceMonitor } from "./dashboard.ts";
import {
  GRAFANA_ADMIN_SECRET, GRAFANA_SERVICE, KPS_RELEASE, kubePrometheusStackValues, OTEL_COLLECTOR_NAME, OTEL_RELEASE, otelCollectorValues, type StackSize,
} from "./observability-values.ts";
import { OTEL_EXPORT_HEADERS_SECRET, type TraceExport } from "./otel-config.ts";
import { componentInputs } from "../component-inputs.ts";

/** The OpenTelemetry collector's Service name (fixed in its chart values), and its OTLP/HTTP traces URL inside the cluster. */
export { OTEL_COLLECTOR_NAME };
export const OTEL_TRACES_URL = `http://${OTEL_COLLECTOR_NAME}.${PLATFORM.monitoringNamespace}.svc:4318/v1/traces`;

export interface ObservabilityArgs {
  /** Endpoints that get a dashboard. */
  readonly endpoints: readonly string[];
  /** Grafana admin password. @default a generated 24-character password (kept in state and in the grafana-admin Secret) */
  readonly grafanaAdminPassword?: pulumi.Input<string>;
  /** Retention of Prometheus data. @default "15d" */
  readonly retention?: string;
  /** Container sizes: `small` for one laptop node. @default "standard" */
  readonly size?: StackSize;
  /** Where the collector exports traces (OTLP endpoint, protocol, headers as name → secret value). @default the debug exporter */
  readonly traces?: { readonly endpoint: string; readonly protocol: "http" | "grpc"; readonly headers?: Readonly<Record<string, pulumi.Input<string>>> };
}

export class Observability extends pulumi.ComponentResource {
  /** In-cluster Grafana URL (port-forward or expose it yourself). */
  readonly grafanaUrl: pulumi.Output<string>;
  /** Resources that must exist before ServiceMonitors / PodMonitors (the operator CRDs come with the chart). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:observability:Observability", name, componentInputs(args, { secrets: ["grafanaAdminPassword"] }), opts);
    const size = args.size ?? "standard";
    const ns = kubeResource(`${name}-ns`, { apiVersion: "v1", kind: "Namespace", metadata: { name: PLATFORM.monitoringNamespace, labels: { ...restrictedNamespaceLabels(), "pod-security.kubernetes.io/enforce": "privileged" } } }, { parent: this });
    const password = args.grafanaAdminPassword !== undefined
      ? pulumi.secret(args.grafanaAdminPassword)
      : new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this }).result;
    const admin = kubeResource(`${name}-grafana-admin`, {
      apiVersion: "v1", kind: "Secret", type: "Opaque",
      metadata: { name: GRAFANA_ADMIN_SECRET, namespace: PLATFORM.monitoringNamespace },
      stringData: { "admin-user": "admin", "admin-password": password },
    }, { parent: this, dependsOn: [ns] });
    const kps = pinnedChart(`${name}-kube-prometheus-stack`, "kubePrometheusStack", {
      release: KPS_RELEASE, namespace: PLATFORM.monitoringNamespace, values: kubePrometheusStackValues(size, args.retention ?? "15d"),
    }, { parent: this, dependsOn: [ns, admin] });
    const headers = Object.entries(args.traces?.headers ?? {});
    const traces: TraceExport | undefined = args.traces === undefined ? undefined
      : { endpoint: args.traces.endpoint, protocol: args.traces.protocol, headerNames: headers.map(([h]) => h) };
    const headerSecret = headers.length === 0 ? [] : [kubeResource(`${name}-otel-exporter-headers`, {
      apiVersion: "v1", kind: "Secret", type: "Opaque",
      metadata: { name: OTEL_EXPORT_HEADERS_SECRET, namespace: PLATFORM.monitoringNamespace },
      stringData: Object.fromEntries(headers.map(([, v], i) => [`header-${i}`, pulumi.secret(v)])),
    }, { parent: this, dependsOn: [ns] })];
    const otel = pinnedChart(`${name}-otel-collector`, "openTelemetryCollector", {
      release: OTEL_RELEASE, namespace: PLATFORM.monitoringNamespace, values: otelCollectorValues(size, traces),
    }, { parent: this, dependsOn: [ns, ...headerSecret] });
    const after = { parent: this, dependsOn: [ns, kps] };
    kubeResource(`${name}-gateway-servicemonitor`, buildServiceMonitor("gateway", PLATFORM.gatewayNamespace, { [PLATFORM.labelComponent]: "gateway" }), after);
    kubeResource(`${name}-controller-servicemonitor`, buildServiceMonitor("apa-controller", PLATFORM.systemNamespace, { [PLATFORM.labelComponent]: "apa-controller" }), after);
    for (const ep of args.endpoints) kubeResource(`${name}-dashboard-${ep}`, buildDashboardConfigMap(ep), { parent: this, dependsOn: [ns] });
    this.ready = [kps, otel];
    this.grafanaUrl = pulumi.output(`http://${GRAFANA_SERVICE}.${PLATFORM.monitoringNamespace}.svc`);
    this.registerOutputs({ grafanaUrl: this.grafanaUrl });
  }
}
