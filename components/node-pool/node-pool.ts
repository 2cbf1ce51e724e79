/**
 * NodePool: a CPU or GPU pool. EKS: a managed node group with the NVIDIA AMI family and, on AL2023, the NVIDIA
 * device plugin (Bottlerocket NVIDIA AMIs ship their own). GKE: a node pool with guest accelerators and
 * GKE-managed drivers. Local: the existing nodes. GPU pools also get the DCGM exporter. The node count is owned by
 * the cluster autoscaler / APA warm-pool sizer, so `ignoreChanges` covers it.
 *
 * Workloads read `placement` (node selector + tolerations) from here; nothing hand-types them.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../images.ts";
import type { Cluster } from "../cluster/cluster.ts";
import type { PoolKind, PoolPlacement } from "../types.ts";
import { eksAmiType, eksTaints, gkeGuestAccelerators, gkeTaints, gpuDaemonSetPlacement, poolLabels, poolPlacement } from "./node-pool-spec.ts";

export interface NodePoolArgs {
  readonly cluster: Cluster;
  /** Pool name endpoints refer to (`cpu`, `gpu`). */
  readonly poolName: string;
  readonly kind: PoolKind;
  readonly machineType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  /** aws: GPU node OS. @default "al2023" */
  readonly amiFamily?: "al2023" | "bottlerocket";
  /** Namespace for the GPU DaemonSets (device plugin, DCGM exporter): they need host access, so it must be
   * labelled `privileged` for Pod Security. */
  readonly gpuSystemNamespace: pulumi.Input<string>;
}

export class NodePool extends pulumi.ComponentResource {
  /** Node selector, tolerations and node shape workloads must use. */
  readonly placement: PoolPlacement;

  constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:compute:NodePool", name, {}, opts);
    const placement = poolPlacement(args.cluster.cloud, args.poolName, args.kind, args.machineType);
    this.placement = placement;
    const labels = poolLabels(placement);
    const { eks, gke } = args.cluster;
    if (eks !== undefined) {
      new aws.eks.NodeGroup(`${name}-ng`, {
        clusterName: eks.cluster.name,
        nodeRoleArn: eks.nodeRole.arn,
        subnetIds: eks.privateSubnetIds,
        instanceTypes: [args.machineType],
        amiType: eksAmiType(placement, args.amiFamily ?? "al2023"),
        diskSize: placement.gpu ? 500 : 100,
        scalingConfig: { minSize: args.minNodes, maxSize: args.maxNodes, desiredSize: Math.max(args.minNodes, 1) },
        labels,
        taints: eksTaints(placement),
        updateConfig: { maxUnavailablePercentage: 25 },
      }, { parent: this, provider: eks.provider, ignoreChanges: ["scalingConfig.desiredSize"] });
    } else if (gke !== undefined) {
      new gcp.container.NodePool(`${name}-np`, {
        cluster: gke.cluster.id,
        location: gke.cluster.location,
        autoscaling: { totalMinNodeCount: args.minNodes, totalMaxNodeCount: args.maxNodes, locationPolicy: "ANY" },
        management: { autoRepair: true, autoUpgrade: true },
        nodeConfig: {
          machineType: args.machineType,
          serviceAccount: gke.nodeServiceAccount.email,
          oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
          labels,
          taints: gkeTaints(placement),
          guestAccelerators: gkeGuestAccelerators(placement),
          workloadMetadataConfig: { mode: "GKE_METADATA" },
          gcfsConfig: { enabled: true },
          diskSizeGb: placement.gpu ? 500 : 100,
          shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
        },
      }, { parent: this, provider: gke.provider, ignoreChanges: ["nodeCount", "initialNodeCount"] });
    }
    if (placement.gpu !== undefined) {
      const k8sOpts = { parent: this, provider: args.cluster.provider };
      const sched = gpuDaemonSetPlacement(placement);
      if (eks !== undefined && (args.amiFamily ?? "al2023") === "al2023") {
        // AL2023 NVIDIA AMIs have the driver and container toolkit but not the device plugin.
        new k8s.helm.v4.Chart(`${name}-device-plugin`, {
          chart: CHARTS.nvidiaDevicePlugin.chart, version: CHARTS.nvidiaDevicePlugin.version,
          repositoryOpts: { repo: CHARTS.nvidiaDevicePlugin.repo }, namespace: args.gpuSystemNamespace,
          values: { ...sched, gfd: { enabled: false } },
        }, k8sOpts);
      }
      new k8s.helm.v4.Chart(`${name}-dcgm-exporter`, {
        chart: CHARTS.dcgmExporter.chart, version: CHARTS.dcgmExporter.version,
        repositoryOpts: { repo: CHARTS.dcgmExporter.repo }, namespace: args.gpuSystemNamespace,
        values: {
          ...sched,
          serviceMonitor: { enabled: true, interval: "15s", additionalLabels: { release: "kube-prometheus-stack" } },
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        },
      }, k8sOpts);
    }
    this.registerOutputs({ placement });
  }
}
