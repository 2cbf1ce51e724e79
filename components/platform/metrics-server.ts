/**
 * metrics-server on a cluster that has none (the local cloud's kind cluster; EKS gets the EKS add-on, GKE ships
 * its own): the gateway's HPA and the controller's `metrics.k8s.io` pod reads need it. kind's kubelets serve
 * self-signed certificates, hence `--kubelet-insecure-tls` (metrics-server's documented setting for kind).
 */
import * as pulumi from "@pulumi/pulumi";
import { pinnedChart } from "../charts/pinned-chart.ts";
import { componentInputs } from "../component-inputs.ts";

export const METRICS_SERVER_RELEASE = "metrics-server";

/** Chart values (pure). */
export function metricsServerValues(): Record<string, unknown> {
  return {
    args: ["--kubelet-insecure-tls"],
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  };
}

export class MetricsServer extends pulumi.ComponentResource {
  constructor(name: string, args: Record<string, never>, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:platform:MetricsServer", name, componentInputs(args), opts);
    pinnedChart(`${name}-chart`, "metricsServer", { release: METRICS_SERVER_RELEASE, namespace: "kube-system", values: metricsServerValues() }, { parent: this });
    this.registerOutputs({});
  }
}
