/**
 * Karpenter NodePools (`karpenter.sh` v1/v1beta1) as GPU pools. Karpenter launches whatever instance type satisfies
 * pending pods within the NodePool's requirements, so a NodePool is a GPU pool unless its requirements rule GPU
 * instances out; it is bounded only by `spec.limits`, and for GPU nodes the bound the pack can count is
 * `limits["nvidia.com/gpu"]` (every GPU node has at least one GPU, so N GPUs allow at most N nodes).
 */
import { arr, at, num, str } from "./read.ts";
import type { ResourceView } from "../types.ts";

export const KARPENTER_NODE_POOLS = ["kubernetes:karpenter.sh/v1:NodePool", "kubernetes:karpenter.sh/v1beta1:NodePool"];
const GPU_RESOURCE = "nvidia.com/gpu";
/** EC2 instance categories / families / types with NVIDIA GPUs. */
const GPU_CATEGORY = /^(p|g|gr)$/;
const GPU_FAMILY = /^(p\d|g\d|gr\d)[a-z0-9-]*$/;
const GPU_TYPE = /^(p\d|g\d|gr\d)[a-z0-9-]*\./;

interface Requirement {
  readonly key: string;
  readonly operator: string;
  readonly values: string[];
}

/** Karpenter NodePools that can launch GPU nodes, with the most GPU nodes each may reach. */
export function karpenterGpuPools(resources: readonly ResourceView[], gpuTaintKey: string): { resource: ResourceView; maxNodes: number | undefined; how: string }[] {
  const out: { resource: ResourceView; maxNodes: number | undefined; how: string }[] = [];
  for (const r of resources.filter((x) => KARPENTER_NODE_POOLS.includes(x.type))) {
    const template = at(r.props, "spec", "template", "spec");
    const requirements: Requirement[] = arr(at(template, "requirements")).map((q) => ({
      key: str(at(q, "key")) ?? "", operator: str(at(q, "operator")) ?? "",
      values: arr(at(q, "values")).filter((v): v is string => typeof v === "string"),
    }));
    const tainted = arr(at(template, "taints")).some((t) => str(at(t, "key")) === gpuTaintKey);
    if (!tainted && excludesGpus(requirements)) continue;
    const limit = num(at(r.props, "spec", "limits", GPU_RESOURCE));
    out.push(limit !== undefined
      ? { resource: r, maxNodes: limit, how: `Karpenter spec.limits["${GPU_RESOURCE}"]` }
      : { resource: r, maxNodes: undefined, how: `Karpenter NodePool without spec.limits["${GPU_RESOURCE}"]` });
  }
  return out;
}

/** True when some requirement admits only instance types without GPUs. */
function excludesGpus(requirements: readonly Requirement[]): boolean {
  return requirements.some((q) => {
    const only = (test: (v: string) => boolean) => q.operator === "In" && q.values.length > 0 && q.values.every((v) => !test(v));
    switch (q.key) {
      case "karpenter.k8s.aws/instance-category":
        return only((v) => GPU_CATEGORY.test(v));
      case "karpenter.k8s.aws/instance-family":
        return only((v) => GPU_FAMILY.test(v));
      case "node.kubernetes.io/instance-type":
        return only((v) => GPU_TYPE.test(v));
      case "karpenter.k8s.aws/instance-gpu-count":
        return (q.operator === "In" && q.values.length > 0 && q.values.every((v) => v === "0")) || q.operator === "DoesNotExist" ||
          (q.operator === "Lt" && q.values.length === 1 && Number(q.values[0]) <= 1);
      default:
        return false;
    }
  });
}
