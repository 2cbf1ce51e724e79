/**
 * What the pinned third-party charts render, as far as a real apply depends on it — read from each chart's
 * templates at the pinned version (source paths below) because no chart can be downloaded or rendered here:
 * - hooks: objects a chart creates only as Helm hooks, which `helm.v4.Chart` never applies (it renders with
 *   hooks disabled; pulumi-kubernetes provider/pkg/provider/helm/v4/chart.go), with the values that turn them on;
 * - workloads: each Deployment / DaemonSet the chart renders with our values, its containers and the values paths
 *   their resources and security contexts come from, so the policy pack (which sees every chart object under a
 *   real preview) and the node-fit check can be run on them. Pods a chart's operator creates later (Prometheus,
 *   Alertmanager) are listed as `createdBy: "operator"`: no policy sees them, but they need room on the nodes.
 * `chartWorkloadObjects()` turns this into plain Kubernetes objects: a TEST DOUBLE of `helm template` covering
 * the fields named here, not a chart renderer. docs/infra.md lists what only a real preview shows beyond it.
 */
import { CHARTS, type PinnedChart } from "../images.ts";
import type { KubeObject } from "../types.ts";

export type ChartKey = keyof typeof CHARTS;
type Values = Record<string, unknown>;

/** Reads a dotted path (`grafana.sidecar.resources`) from chart values. */
export function valueAt(values: Values, path: string): unknown {
  let cur: unknown = values;
  for (const k of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Values)[k];
  }
  return cur;
}

const on = (path: string, chartDefault: boolean) => (v: Values) => (valueAt(v, path) as boolean | undefined) ?? chartDefault;

/** An object a chart creates only as a Helm hook. */
export interface ChartHook {
  readonly what: string;
  readonly active: (values: Values) => boolean;
  readonly source: string;
  /** The values that avoid it. */
  readonly fix: string;
}

export interface ChartContainer {
  readonly name: string;
  /** Values path of the container's `resources`. */
  readonly resources: string;
  /** Values path of its `securityContext`, and the chart's default when the path is unset. */
  readonly securityContext?: string;
  readonly defaultSecurityContext?: Values;
}

export interface ChartWorkload {
  readonly kind: "Deployment" | "DaemonSet" | "StatefulSet";
  /** Object name for release `r` (and the values, where a fullnameOverride decides it). */
  readonly name: (release: string, values: Values) => string;
  readonly enabled: (values: Values) => boolean;
  readonly replicas: (values: Values) => number;
  /** `pulumi`: an object of the chart (policies see it); `operator`: created at run time by the chart's operator. */
  readonly createdBy: "pulumi" | "operator";
  /** Values path of the pod securityContext, and the chart's default. */
  readonly podSecurityContext?: string;
  readonly defaultPodSecurityContext?: Values;
  readonly hostNetwork?: boolean;
  readonly containers: readonly ChartContainer[];
  readonly source: string;
}

export interface ChartFacts {
  readonly chart: PinnedChart;
  readonly hooks: readonly ChartHook[];
  readonly workloads: readonly ChartWorkload[];
}

const one = () => 1;
const count = (path: string, chartDefault: number) => (v: Values) => (valueAt(v, path) as number | undefined) ?? chartDefault;
const restrictedDrop = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };

const KPS = "prometheus-community/helm-charts charts/kube-prometheus-stack@81.2.1 (17c59d525)";
export const CHART_FACTS: Readonly<Record<ChartKey, ChartFacts>> = {
  kubePrometheusStack: {
    chart: CHARTS.kubePrometheusStack,
    hooks: [{
      what: "the admission webhook certificate Jobs (pre-install createSecret, post-install patchWebhook): without them the operator waits for the <release>-admission Secret and every PrometheusRule/ServiceMonitor admission fails",
      active: (v) => on("prometheusOperator.admissionWebhooks.enabled", true)(v) && on("prometheusOperator.admissionWebhooks.patch.enabled", true)(v) && !on("prometheusOperator.admissionWebhooks.certManager.enabled", false)(v),
      source: `${KPS} templates/prometheus-operator/admission-webhooks/job-patch/job-createSecret.yaml`,
      fix: "prometheusOperator.admissionWebhooks.enabled: false and prometheusOperator.tls.enabled: false (or certManager.enabled: true with cert-manager installed)",
    }, {
      what: "the operator's TLS Secret <release>-admission, mounted by the operator Deployment and created only by the admission webhook hook Job",
      active: (v) => on("prometheusOperator.tls.enabled", true)(v) && !on("prometheusOperator.admissionWebhooks.certManager.enabled", false)(v),
      source: `${KPS} templates/prometheus-operator/deployment.yaml (volume tls-secret)`,
      fix: "prometheusOperator.tls.enabled: false",
    }],
    workloads: [
      {
        kind: "Deployment", name: (r) => `${r}-operator`, enabled: on("prometheusOperator.enabled", true), replicas: one, createdBy: "pulumi",
        podSecurityContext: "prometheusOperator.securityContext", defaultPodSecurityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{ name: "kube-prometheus-stack", resources: "prometheusOperator.resources", securityContext: "prometheusOperator.containerSecurityContext", defaultSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } }],
        source: `${KPS} templates/prometheus-operator/deployment.yaml`,
      },
      {
        kind: "Deployment", name: (r) => `${r}-grafana`, enabled: on("grafana.enabled", true), replicas: count("grafana.replicas", 1), createdBy: "pulumi",
        podSecurityContext: "grafana.securityContext", defaultPodSecurityContext: { runAsNonRoot: true, runAsUser: 472, runAsGroup: 472, fsGroup: 472 },
        containers: [
          { name: "grafana", resources: "grafana.resources", securityContext: "grafana.containerSecurityContext", defaultSecurityContext: restrictedDrop },
          { name: "grafana-sc-dashboard", resources: "grafana.sidecar.resources", securityContext: "grafana.sidecar.securityContext", defaultSecurityContext: restrictedDrop },
          { name: "grafana-sc-datasources", resources: "grafana.sidecar.resources", securityContext: "grafana.sidecar.securityContext", defaultSecurityContext: restrictedDrop },
        ],
        source: "grafana/helm-charts charts/grafana@10.5.10 (2b4b9ea44) templates/_pod.tpl",
      },
      {
        kind: "Deployment", name: (r) => `${r}-kube-state-metrics`, enabled: on("kubeStateMetrics.enabled", true), replicas: one, createdBy: "pulumi",
        podSecurityContext: "kube-state-metrics.securityContext", defaultPodSecurityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{ name: "kube-state-metrics", resources: "kube-state-metrics.resources", securityContext: "kube-state-metrics.containerSecurityContext", defaultSecurityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
        source: "prometheus-community/helm-charts charts/kube-state-metrics@7.1.0 (254721e00) templates/deployment.yaml",
      },
      {
        kind: "DaemonSet", name: (r) => `${r}-prometheus-node-exporter`, enabled: on("nodeExporter.enabled", true), replicas: one, createdBy: "pulumi", hostNetwork: true,
        podSecurityContext: "prometheus-node-exporter.securityContext", defaultPodSecurityContext: { runAsNonRoot: true, runAsUser: 65534 },
        containers: [{ name: "node-exporter", resources: "prometheus-node-exporter.resources", securityContext: "prometheus-node-exporter.containerSecurityContext", defaultSecurityContext: { readOnlyRootFilesystem: true } }],
        source: "prometheus-community/helm-charts charts/prometheus-node-exporter@4.51.0 (27e215f29) templates/daemonset.yaml",
      },
      {
        kind: "StatefulSet", name: (r) => `prometheus-${r}-prometheus`, enabled: on("prometheus.enabled", true), replicas: count("prometheus.prometheusSpec.replicas", 1), createdBy: "operator",
        containers: [
          { name: "prometheus", resources: "prometheus.prometheusSpec.resources" },
          { name: "config-reloader", resources: "prometheusOperator.prometheusConfigReloader.resources" },
        ],
        source: `${KPS} templates/prometheus/prometheus.yaml (the operator creates the StatefulSet)`,
      },
      {
        kind: "StatefulSet", name: (r) => `alertmanager-${r}-alertmanager`, enabled: on("alertmanager.enabled", true), replicas: count("alertmanager.alertmanagerSpec.replicas", 1), createdBy: "operator",
        containers: [
          { name: "alertmanager", resources: "alertmanager.alertmanagerSpec.resources" },
          { name: "config-reloader", resources: "prometheusOperator.prometheusConfigReloader.resources" },
        ],
        source: `${KPS} templates/alertmanager/alertmanager.yaml (the operator creates the StatefulSet)`,
      },
    ],
  },
  openTelemetryCollector: {
    chart: CHARTS.openTelemetryCollector, hooks: [],
    workloads: [{
      kind: "Deployment", name: (r, v) => (valueAt(v, "fullnameOverride") as string | undefined) ?? `${r}-opentelemetry-collector`, enabled: (v) => valueAt(v, "mode") === "deployment", replicas: count("replicaCount", 1), createdBy: "pulumi",
      podSecurityContext: "podSecurityContext", defaultPodSecurityContext: {},
      containers: [{ name: "opentelemetry-collector", resources: "resources", securityContext: "securityContext", defaultSecurityContext: {} }],
      source: "open-telemetry/opentelemetry-helm-charts charts/opentelemetry-collector@0.136.0 (cda22fec3) templates/_pod.tpl",
    }],
  },
  dcgmExporter: {
    chart: CHARTS.dcgmExporter, hooks: [],
    workloads: [{
      kind: "DaemonSet", name: (r) => `${r}-dcgm-exporter`, enabled: () => true, replicas: one, createdBy: "pulumi",
      podSecurityContext: "podSecurityContext", defaultPodSecurityContext: {},
      containers: [{ name: "exporter", resources: "resources", securityContext: "securityContext", defaultSecurityContext: { runAsNonRoot: false, runAsUser: 0, capabilities: { add: ["SYS_ADMIN"], drop: ["ALL"] }, allowPrivilegeEscalation: false } }],
      source: "NVIDIA/dcgm-exporter deployment@4.8.1 (52ffa18) templates/daemonset.yaml",
    }],
  },
  nvidiaDevicePlugin: {
    chart: CHARTS.nvidiaDevicePlugin, hooks: [],
    workloads: [{
      kind: "DaemonSet", name: (r) => `${r}-nvidia-device-plugin`, enabled: () => true, replicas: one, createdBy: "pulumi",
      podSecurityContext: "podSecurityContext", defaultPodSecurityContext: {},
      containers: [{ name: "nvidia-device-plugin-ctr", resources: "resources", securityContext: "securityContext", defaultSecurityContext: {} }],
      source: "NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin@0.18 (c32c80f36) templates/daemonset-device-plugin.yml",
    }],
  },
  metricsServer: {
    chart: CHARTS.metricsServer, hooks: [],
    workloads: [{
      kind: "Deployment", name: (r) => `${r}`, enabled: () => true, replicas: count("replicas", 1), createdBy: "pulumi",
      podSecurityContext: "podSecurityContext", defaultPodSecurityContext: {},
      containers: [{ name: "metrics-server", resources: "resources", securityContext: "securityContext", defaultSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" }, capabilities: { drop: ["ALL"] } } }],
      source: "kubernetes-sigs/metrics-server charts/metrics-server@3.13.1 templates/deployment.yaml",
    }],
  },
  clusterAutoscaler: {
    chart: CHARTS.clusterAutoscaler, hooks: [],
    workloads: [{
      kind: "Deployment", name: (r) => `${r}-aws-cluster-autoscaler`, enabled: () => true, replicas: count("replicaCount", 1), createdBy: "pulumi",
      podSecurityContext: "securityContext", defaultPodSecurityContext: {},
      containers: [{ name: "aws-cluster-autoscaler", resources: "resources", securityContext: "containerSecurityContext", defaultSecurityContext: {} }],
      source: "kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler@9.59.0 templates/deployment.yaml",
    }],
  },
  awsLoadBalancerController: {
    chart: CHARTS.awsLoadBalancerController, hooks: [],
    workloads: [{
      kind: "Deployment", name: (r) => r, enabled: () => true, replicas: count("replicaCount", 2), createdBy: "pulumi",
      podSecurityContext: "podSecurityContext", defaultPodSecurityContext: { fsGroup: 65534 },
      containers: [{ name: "aws-load-balancer-controller", resources: "resources", securityContext: "securityContext", defaultSecurityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false } }],
      source: "aws/eks-charts stable/aws-load-balancer-controller@3.5.0 templates/deployment.yaml",
    }],
  },
};

/** The hooks `values` would make `chart` depend on (each one an object that never gets created). */
export function hookFindings(key: ChartKey, values: Values): string[] {
  return CHART_FACTS[key].hooks.filter((h) => h.active(values)).map((h) =>
    `chart ${CHART_FACTS[key].chart.chart} ${CHART_FACTS[key].chart.version}: ${h.what} — a Helm hook, which helm.v4.Chart never applies; set ${h.fix} (${h.source})`);
}

/** The chart's workloads as plain objects (TEST DOUBLE of `helm template` over the fields in CHART_FACTS). */
export function chartWorkloadObjects(key: ChartKey, release: string, namespace: string, values: Values): { obj: KubeObject; createdBy: "pulumi" | "operator" }[] {
  return CHART_FACTS[key].workloads.filter((w) => w.enabled(values)).map((w) => {
    const name = w.name(release, values);
    const labels = { "app.kubernetes.io/instance": release, "app.kubernetes.io/name": name };
    const pod: Record<string, unknown> = {
      securityContext: (w.podSecurityContext !== undefined ? valueAt(values, w.podSecurityContext) : undefined) ?? w.defaultPodSecurityContext ?? {},
      containers: w.containers.map((c) => ({
        name: c.name, image: `${key}/${c.name}:chart-${CHART_FACTS[key].chart.version}`,
        resources: valueAt(values, c.resources) ?? {},
        securityContext: (c.securityContext !== undefined ? valueAt(values, c.securityContext) : undefined) ?? c.defaultSecurityContext ?? {},
      })),
      ...(w.hostNetwork === true ? { hostNetwork: true } : {}),
    };
    const spec: Record<string, unknown> = { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: pod } };
    if (w.kind !== "DaemonSet") spec.replicas = w.replicas(values);
    return { obj: { apiVersion: "apps/v1", kind: w.kind, metadata: { name, namespace, labels }, spec }, createdBy: w.createdBy };
  });
}
