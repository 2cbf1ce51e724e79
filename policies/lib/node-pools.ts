/** GPU node pools as the cloud providers declare them, and the most nodes each can grow to. */
import { arr, at, num, str, stringMap } from "./read.ts";
import type { ResourceView } from "../types.ts";

export const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const EKS_MANAGED_NODE_GROUP = "eks:index:ManagedNodeGroup";
export const GKE_NODE_POOL = "gcp:container/nodePool:NodePool";

/** A GPU pool found in the stack. `maxNodes` undefined means the pool has no upper bound. */
export interface GpuPool {
  readonly resource: ResourceView;
  readonly maxNodes: number | undefined;
  readonly how: string;
}

const GPU_INSTANCE = /^(p\d|g\d|gr\d)[a-z0-9-]*\./;

/** The GPU pools of a stack (EKS node groups with GPU AMIs/instances/taint, GKE pools with guest accelerators). */
export function gpuPools(resources: readonly ResourceView[], gpuTaintKey: string): GpuPool[] {
  const out: GpuPool[] = [];
  for (const r of resources) {
    if (r.type === EKS_NODE_GROUP || r.type === EKS_MANAGED_NODE_GROUP) {
      const amiType = str(r.props["amiType"]) ?? "";
      const isGpu =
        /NVIDIA|GPU/.test(amiType) ||
        r.props["gpu"] === true ||
        arr(r.props["instanceTypes"]).some((t) => typeof t === "string" && GPU_INSTANCE.test(t)) ||
        arr(r.props["taints"]).some((t) => str(at(t, "key")) === gpuTaintKey);
      if (isGpu) out.push({ resource: r, maxNodes: num(at(r.props, "scalingConfig", "maxSize")), how: "scalingConfig.maxSize" });
    } else if (r.type === GKE_NODE_POOL) {
      if (arr(at(r.props, "nodeConfig", "guestAccelerators")).length === 0) continue;
      const total = num(at(r.props, "autoscaling", "totalMaxNodeCount"));
      const perZone = num(at(r.props, "autoscaling", "maxNodeCount"));
      const zones = Math.max(1, arr(r.props["nodeLocations"]).length);
      if (total !== undefined) out.push({ resource: r, maxNodes: total, how: "autoscaling.totalMaxNodeCount" });
      else if (perZone !== undefined) out.push({ resource: r, maxNodes: perZone * zones, how: `autoscaling.maxNodeCount × ${zones} zone(s)` });
      else if (at(r.props, "autoscaling") !== undefined) out.push({ resource: r, maxNodes: undefined, how: "autoscaling without a max" });
      else {
        const fixed = num(r.props["nodeCount"]) ?? num(r.props["initialNodeCount"]) ?? 1;
        out.push({ resource: r, maxNodes: fixed * zones, how: `nodeCount × ${zones} zone(s)` });
      }
    }
  }
  return out;
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
