/**
 * Pure spec of a node pool: its labels, taints, and the node selector and tolerations workloads must use.
 * GPU pools carry the standard `nvidia.com/gpu` NoSchedule taint (value `present`, as GKE sets it) and
 * workloads tolerate it with `operator: Exists`, so value differences between clouds never matter.
 */
import { allocatable, GPU_MEMORY_GIB, GKE_ACCELERATOR, MACHINES } from "../catalog.ts";
import type { Cloud, PoolKind, PoolPlacement, Taint, Toleration } from "../types.ts";

/** Node label naming the pool. */
export const POOL_LABEL = "serving.autopilot.dev/pool";
/** GPU taint key (NVIDIA device plugin / GKE convention). */
export const GPU_TAINT_KEY = "nvidia.com/gpu";

/** Placement of a pool built from `machineType` in `cloud`. Throws if the machine type is unknown. */
export function poolPlacement(cloud: Cloud, poolName: string, kind: PoolKind, machineType: string): PoolPlacement {
  const shape = MACHINES[cloud][machineType];
  if (shape === undefined) throw new Error(`node pool "${poolName}": machine type "${machineType}" is not in the ${cloud} catalog`);
  if ((kind === "gpu") !== (shape.gpu !== undefined)) {
    throw new Error(`node pool "${poolName}": machine type "${machineType}" ${shape.gpu ? "has" : "has no"} GPUs but the pool kind is ${kind}`);
  }
  const alloc = allocatable(shape);
  // A local (kind) cluster has unlabelled nodes: select on the OS label every node has.
  const nodeSelector: Record<string, string> = cloud === "local" ? { "kubernetes.io/os": "linux" } : { [POOL_LABEL]: poolName };
  const taints: Taint[] = [];
  const tolerations: Toleration[] = [];
  if (shape.gpu !== undefined) {
    nodeSelector["nvidia.com/gpu.present"] = "true";
    taints.push({ key: GPU_TAINT_KEY, value: "present", effect: "NoSchedule" });
    tolerations.push({ key: GPU_TAINT_KEY, operator: "Exists", effect: "NoSchedule" });
  }
  return {
    poolName, kind, nodeSelector, tolerations, taints,
    cpuPerNode: alloc.cpu, memoryGiBPerNode: alloc.memoryGiB,
    ...(shape.gpu !== undefined ? { gpu: { type: shape.gpu.type, memoryGiB: GPU_MEMORY_GIB[shape.gpu.type], perNode: shape.gpu.count } } : {}),
  };
}

/** Node labels the pool sets (the selector plus descriptive labels). */
export function poolLabels(p: PoolPlacement): Record<string, string> {
  return { ...p.nodeSelector, [POOL_LABEL]: p.poolName, ...(p.gpu ? { "serving.autopilot.dev/gpu-type": p.gpu.type } : {}) };
}

/** EKS managed node group taints (the EKS API spells effects NO_SCHEDULE etc.). */
export function eksTaints(p: PoolPlacement): { key: string; value: string; effect: string }[] {
  const effect = { NoSchedule: "NO_SCHEDULE", NoExecute: "NO_EXECUTE", PreferNoSchedule: "PREFER_NO_SCHEDULE" } as const;
  return p.taints.map((t) => ({ key: t.key, value: t.value, effect: effect[t.effect] }));
}

/** GKE node pool taints (same spelling as EKS). */
export const gkeTaints = eksTaints;

/** EKS AMI type of a pool. */
export function eksAmiType(p: PoolPlacement, family: "al2023" | "bottlerocket"): string {
  if (p.gpu === undefined) return family === "bottlerocket" ? "BOTTLEROCKET_x86_64" : "AL2023_x86_64_STANDARD";
  return family === "bottlerocket" ? "BOTTLEROCKET_x86_64_NVIDIA" : "AL2023_x86_64_NVIDIA";
}

/** GKE guest accelerator block (managed driver install: LATEST). */
export function gkeGuestAccelerators(p: PoolPlacement): { type: string; count: number; gpuDriverInstallationConfig: { gpuDriverVersion: string } }[] {
  if (p.gpu === undefined) return [];
  const type = GKE_ACCELERATOR[p.gpu.type];
  if (type === undefined) throw new Error(`node pool "${p.poolName}": GPU ${p.gpu.type} is not offered on GKE`);
  return [{ type, count: p.gpu.perNode, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } }];
}

/** Helm values scheduling a GPU DaemonSet (device plugin, DCGM exporter) onto exactly this pool's nodes. */
export function gpuDaemonSetPlacement(p: PoolPlacement): { nodeSelector: Record<string, string>; tolerations: Toleration[] } {
  return { nodeSelector: { ...p.nodeSelector }, tolerations: p.tolerations.map((t) => ({ ...t })) };
}

/** Values of the NVIDIA device plugin chart on one pool (AL2023 NVIDIA AMIs ship the driver, not the plugin). */
export function devicePluginValues(p: PoolPlacement): Record<string, unknown> {
  return {
    ...gpuDaemonSetPlacement(p), gfd: { enabled: false },
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "128Mi" } },
  };
}

/** Values of the DCGM exporter chart on one pool; its ServiceMonitor only when Prometheus' CRDs are installed. */
export function dcgmExporterValues(p: PoolPlacement, serviceMonitor: boolean): Record<string, unknown> {
  return {
    ...gpuDaemonSetPlacement(p),
    serviceMonitor: { enabled: serviceMonitor, interval: "15s", additionalLabels: { release: "kube-prometheus-stack" } },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  };
}
