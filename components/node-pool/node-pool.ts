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
import * as pulumi from "@pulumi/pulumi";
import { GKE_GPU_ZONES } from "../catalog.ts";
import { pinnedChart } from "../charts/pinned-chart.ts";
import type { Cluster } from "../cluster/cluster.ts";
import { scaleFromZeroTags } from "../cluster/eks-iam.ts";
import type { PoolKind, PoolPlacement } from "../types.ts";
import { dcgmExporterValues, devicePluginValues, eksAmiType, eksTaints, gkeGuestAccelerators, gkeTaints, poolLabels, poolPlacement } from "./node-pool-spec.ts";
import { componentInputs } from "../component-inputs.ts";

export interface NodePoolArgs {
  /** The cluster the pool joins (its EKS node role or GKE node service account). */
  readonly cluster: Cluster;
  /** Pool name endpoints refer to (`cpu`, `gpu`). */
  readonly poolName: string;
  /** `cpu` or `gpu` (GPU pools are tainted and get the NVIDIA device plugin and DCGM exporter). */
  readonly kind: PoolKind;
  /** A machine type of the cloud's catalog (components/catalog.ts). */
  readonly machineType: string;
  /** Autoscaling lower bound of the node count. */
  readonly minNodes: number;
  /** Autoscaling upper bound of the node count. */
  readonly maxNodes: number;
  /** aws: GPU node OS. @default "al2023" */
  readonly amiFamily?: "al2023" | "bottlerocket";
  /** Namespace for the GPU DaemonSets (device plugin, DCGM exporter): they need host access, so it must be
   * labelled `privileged` for Pod Security. */
  readonly gpuSystemNamespace: pulumi.Input<string>;
  /** gcp: zones of the pool (GPU pools: only zones offering the GPU). @default the catalog's zones for the GPU, or the region's default for CPU pools */
  readonly zones?: readonly string[];
  /** gcp: a specific Compute Engine reservation the nodes consume. @default none (any capacity) */
  readonly reservation?: string;
  /** The Prometheus operator CRDs (the DCGM exporter's ServiceMonitor waits for them); @default none (no ServiceMonitor) */
  readonly monitoringReady?: readonly pulumi.Resource[];
}

/** Zones for a GKE pool: the configured ones, else (GPU pools) the catalog's zones offering the GPU. */
export function gkePoolZones(region: string, p: PoolPlacement, configured: readonly string[] = []): string[] | undefined {
  if (configured.length > 0) return [...configured];
  if (p.gpu === undefined) return undefined;
  const zones = GKE_GPU_ZONES[region]?.[p.gpu.type];
  if (zones === undefined || zones.length === 0) {
    throw new Error(`node pool "${p.poolName}": no zone of ${region} is known to offer ${p.gpu.type} GPUs; set the stack config gpuZones (gcloud compute accelerator-types list --filter="zone ~ ${region}")`);
  }
  return [...zones];
}

export class NodePool extends pulumi.ComponentResource {
  /** Node selector, tolerations and node shape workloads must use. */
  readonly placement: PoolPlacement;
  /** The cloud node group / node pool (add-ons that need nodes wait for it). */
  readonly nodes: pulumi.Resource[] = [];

  constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:node-pool:NodePool", name, componentInputs(args), opts);
    const placement = poolPlacement(args.cluster.cloud, args.poolName, args.kind, args.machineType);
    this.placement = placement;
    const labels = poolLabels(placement);
    const { eks, gke } = args.cluster;
    if (eks !== undefined) {
      const ng = new aws.eks.NodeGroup(`${name}-ng`, {
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
      }, { parent: this, provider: eks.provider, ignoreChanges: ["scalingConfig.desiredSize"], dependsOn: [...eks.nodeRoleReady, ...eks.addons] });
      this.nodes.push(ng);
      // The Cluster Autoscaler learns a group's labels, taints and GPUs from these tags while it has no node.
      const asg = ng.resources.apply((r) => r[0]?.autoscalingGroups?.[0]?.name ?? "");
      for (const [key, value] of Object.entries(scaleFromZeroTags(labels, placement.taints, placement.gpu?.perNode ?? 0))) {
        new aws.autoscaling.Tag(`${name}-asg-${key.split("/").slice(2).join("-").replace(/[^a-zA-Z0-9-]/g, "-")}`, {
          autoscalingGroupName: asg, tag: { key, value, propagateAtLaunch: false },
        }, { parent: this, provider: eks.provider });
      }
    } else if (gke !== undefined) {
      const zones = gkePoolZones(args.cluster.region, placement, args.zones);
      const np = new gcp.container.NodePool(`${name}-np`, {
        cluster: gke.cluster.id,
        location: gke.cluster.location,
        ...(zones !== undefined ? { nodeLocations: zones } : {}),
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
          ...(args.reservation !== undefined && args.reservation !== ""
            ? { reservationAffinity: { consumeReservationType: "SPECIFIC_RESERVATION", key: "compute.googleapis.com/reservation-name", values: [args.reservation] } }
            : {}),
        },
      }, { parent: this, provider: gke.provider, ignoreChanges: ["nodeCount", "initialNodeCount"] });
      this.nodes.push(np);
    }
    if (placement.gpu !== undefined) {
      const k8sOpts = { parent: this, dependsOn: [...this.nodes] };
      if (eks !== undefined && (args.amiFamily ?? "al2023") === "al2023") {
        // AL2023 NVIDIA AMIs have the driver and container toolkit but not the device plugin.
        pinnedChart(`${name}-device-plugin`, "nvidiaDevicePlugin", {
          release: `${args.poolName}-device-plugin`, namespace: args.gpuSystemNamespace, values: devicePluginValues(placement),
        }, k8sOpts);
      }
      pinnedChart(`${name}-dcgm-exporter`, "dcgmExporter", {
        release: `${args.poolName}-dcgm`, namespace: args.gpuSystemNamespace, values: dcgmExporterValues(placement, args.monitoringReady !== undefined),
      }, { ...k8sOpts, dependsOn: [...this.nodes, ...(args.monitoringReady ?? [])] });
    }
    this.registerOutputs({ placement });
  }
}
