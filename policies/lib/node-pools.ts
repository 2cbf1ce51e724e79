/** GPU node pools as the cloud providers declare them, and the most nodes each can grow to. */
import { arr, at, num, str, stringMap } from "./read.ts";
import type { ResourceView } from "../types.ts";
import { karpenterGpuPools } from "./karpenter.ts";

export const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const EKS_MANAGED_NODE_GROUP = "eks:index:ManagedNodeGroup";
export const GKE_NODE_POOL = "gcp:container/nodePool:NodePool";

/** A GPU pool found in the stack. `maxNodes` undefined means the pool has no upper bound. */
export interface GpuPool {
  readonly resource: ResourceView;
  readonly maxNodes: number | undefined;
  readonly how: string;
}

/** EC2 instance types with NVIDIA GPUs (p*, g*, gr*). */
export const GPU_INSTANCE = /^(p\d|g\d|gr\d)[a-z0-9-]*\./;
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const GKE_CLUSTER = "gcp:container/cluster:Cluster";
/** Node pools GKE spreads over when neither the pool nor the cluster names zones and the location is a region. */
export const GKE_REGIONAL_DEFAULT_ZONES = 3;

/**
 * The GPU pools of a stack: EKS node groups with GPU AMIs, GPU instance types (on the node group or in the launch
 * template it uses), instance requirements asking for GPUs, or the GPU taint; GKE pools with guest accelerators;
 * Karpenter NodePools that can launch GPU instances (karpenter.ts).
 */
export function gpuPools(resources: readonly ResourceView[], gpuTaintKey: string): GpuPool[] {
  const out: GpuPool[] = [];
  for (const r of resources) {
    if (r.type === EKS_NODE_GROUP || r.type === EKS_MANAGED_NODE_GROUP) {
      const amiType = str(r.props["amiType"]) ?? "";
      const template = launchTemplateOf(r, resources);
      const isGpu =
        /NVIDIA|GPU/.test(amiType) ||
        r.props["gpu"] === true ||
        arr(r.props["instanceTypes"]).some((t) => typeof t === "string" && GPU_INSTANCE.test(t)) ||
        arr(r.props["taints"]).some((t) => str(at(t, "key")) === gpuTaintKey) ||
        (template !== undefined && launchTemplateIsGpu(template));
      if (isGpu) out.push({ resource: r, maxNodes: num(at(r.props, "scalingConfig", "maxSize")), how: "scalingConfig.maxSize" });
    } else if (r.type === GKE_NODE_POOL) {
      if (arr(at(r.props, "nodeConfig", "guestAccelerators")).length === 0) continue;
      const total = num(at(r.props, "autoscaling", "totalMaxNodeCount"));
      const perZone = num(at(r.props, "autoscaling", "maxNodeCount"));
      const { zones, why } = gkeZones(r, resources);
      if (total !== undefined) out.push({ resource: r, maxNodes: total, how: "autoscaling.totalMaxNodeCount" });
      else if (perZone !== undefined) out.push({ resource: r, maxNodes: perZone * zones, how: `autoscaling.maxNodeCount × ${zones} zone(s)${why}` });
      else if (at(r.props, "autoscaling") !== undefined) out.push({ resource: r, maxNodes: undefined, how: "autoscaling without a max" });
      else {
        const fixed = num(r.props["nodeCount"]) ?? num(r.props["initialNodeCount"]) ?? 1;
        out.push({ resource: r, maxNodes: fixed * zones, how: `nodeCount × ${zones} zone(s)${why}` });
      }
    }
  }
  return [...out, ...karpenterGpuPools(resources, gpuTaintKey)];
}

/** The launch template a node group uses (by property dependency, id or name), when the stack defines it. */
function launchTemplateOf(ng: ResourceView, resources: readonly ResourceView[]): ResourceView | undefined {
  if (at(ng.props, "launchTemplate") === undefined) return undefined;
  const templates = resources.filter((t) => t.type === LAUNCH_TEMPLATE);
  const deps = ng.propertyDependencies?.["launchTemplate"] ?? [];
  const byDep = templates.find((t) => deps.some((d) => d.urn === t.urn));
  if (byDep !== undefined) return byDep;
  const id = str(at(ng.props, "launchTemplate", "id"));
  const name = str(at(ng.props, "launchTemplate", "name"));
  return templates.find((t) => (id !== undefined && t.id === id) || (name !== undefined && str(t.props["name"]) === name));
}

function launchTemplateIsGpu(t: ResourceView): boolean {
  const type = str(t.props["instanceType"]);
  if (type !== undefined && GPU_INSTANCE.test(type)) return true;
  const req = at(t.props, "instanceRequirements");
  const accelerators = num(at(req, "acceleratorCount", "max")) ?? num(at(req, "acceleratorCount", "min"));
  return arr(at(req, "acceleratorTypes")).includes("gpu") || arr(at(req, "acceleratorManufacturers")).includes("nvidia") || (accelerators !== undefined && accelerators > 0);
}

/**
 * How many zones a GKE pool spans: its own nodeLocations, else its cluster's, else — when its location is a
 * region — GKE's default of three zones (a per-zone maximum then counts three times), else one.
 */
function gkeZones(pool: ResourceView, resources: readonly ResourceView[]): { zones: number; why: string } {
  const own = arr(pool.props["nodeLocations"]);
  if (own.length > 0) return { zones: own.length, why: "" };
  const deps = pool.propertyDependencies?.["cluster"] ?? [];
  const clusterName = str(pool.props["cluster"]);
  const cluster = resources.find((c) => c.type === GKE_CLUSTER &&
    (deps.some((d) => d.urn === c.urn) || (clusterName !== undefined && (str(c.props["name"]) === clusterName || c.id === clusterName || clusterName.endsWith(`/clusters/${str(c.props["name"]) ?? "\0"}`)))));
  const fromCluster = arr(cluster?.props["nodeLocations"]);
  if (fromCluster.length > 0) return { zones: fromCluster.length, why: " (the cluster's nodeLocations)" };
  const location = str(pool.props["location"]) ?? str(cluster?.props["location"]);
  if (location !== undefined && /^[a-z]+-[a-z]+\d+$/.test(location)) {
    return { zones: GKE_REGIONAL_DEFAULT_ZONES, why: ` (regional location ${location}: GKE's default zones)` };
  }
  return { zones: 1, why: "" };
}

/** A node pool of any kind with the labels its nodes carry. */
export interface PoolLabels {
  readonly resource: ResourceView;
  readonly labels: Record<string, string>;
}

/** Every node pool of the stack (EKS node groups, GKE node pools) with its node labels. */
export function nodePools(resources: readonly ResourceView[]): PoolLabels[] {
  const out: PoolLabels[] = [];
  for (const r of resources) {
    if (r.type === EKS_NODE_GROUP || r.type === EKS_MANAGED_NODE_GROUP) out.push({ resource: r, labels: stringMap(r.props["labels"]) });
    else if (r.type === GKE_NODE_POOL) out.push({ resource: r, labels: stringMap(at(r.props, "nodeConfig", "labels")) });
  }
  return out;
}
