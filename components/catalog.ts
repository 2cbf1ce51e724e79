/**
 * Machine catalog: GPU memory and the machine shapes of the instance / machine types the example stacks use.
 * Numbers are the clouds' published shapes (AWS EC2 instance types, GCP machine families). Allocatable capacity is
 * estimated as vCPUs − 0.5 and 90% of memory (kubelet and system reservations) — close to EKS/GKE defaults, and
 * only used to refuse workloads that could never fit a node.
 */
import type { Cloud, GpuType } from "./types.ts";

/** Memory of one GPU, GiB (as the vendor sells it, e.g. 80 for an H100 80GB). */
export const GPU_MEMORY_GIB: Readonly<Record<GpuType, number>> = {
  t4: 16,
  l4: 24,
  a10g: 24,
  "a100-80gb": 80,
  "h100-80gb": 80,
};

/** GKE accelerator type names (`nodeConfig.guestAccelerators[].type`). EKS has none: the instance type implies it. */
export const GKE_ACCELERATOR: Readonly<Partial<Record<GpuType, string>>> = {
  t4: "nvidia-tesla-t4",
  l4: "nvidia-l4",
  "a100-80gb": "nvidia-a100-80gb",
  "h100-80gb": "nvidia-h100-80gb",
};

/**
 * Zones of a GCP region that offer a GPU type (GKE node pools must be placed there: a regional pool in a zone
 * without the GPU never gets nodes). From Google's "GPU regions and zones" table; check a region with
 * `gcloud compute accelerator-types list --filter="zone ~ <region>"`, or set `gpuZones` in the stack config.
 */
export const GKE_GPU_ZONES: Readonly<Record<string, Partial<Record<GpuType, readonly string[]>>>> = {
  "europe-west4": { "h100-80gb": ["europe-west4-b", "europe-west4-c"], "a100-80gb": ["europe-west4-a"], l4: ["europe-west4-a", "europe-west4-b", "europe-west4-c"], t4: ["europe-west4-a", "europe-west4-b", "europe-west4-c"] },
  "us-central1": { "h100-80gb": ["us-central1-a", "us-central1-c"], "a100-80gb": ["us-central1-a", "us-central1-c"], l4: ["us-central1-a", "us-central1-b", "us-central1-c"], t4: ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"] },
  "us-east4": { "h100-80gb": ["us-east4-a", "us-east4-b", "us-east4-c"], "a100-80gb": ["us-east4-c"], l4: ["us-east4-a", "us-east4-c"] },
};

/** Shape of one machine type. */
export interface MachineShape {
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly gpu?: { readonly type: GpuType; readonly count: number };
}

/** Known machine types per cloud. `local` describes a typical kind node (the laptop). */
/** The CPU pool's machine type when none is given. */
export const DEFAULT_CPU_MACHINE: Readonly<Record<Cloud, string>> = { aws: "m7i.2xlarge", gcp: "n2-standard-8", local: "kind-node" };

export const MACHINES: Readonly<Record<Cloud, Readonly<Record<string, MachineShape>>>> = {
  aws: {
    "m7i.xlarge": { vcpus: 4, memoryGiB: 16 },
    "m7i.2xlarge": { vcpus: 8, memoryGiB: 32 },
    "m7i.4xlarge": { vcpus: 16, memoryGiB: 64 },
    "c7i.2xlarge": { vcpus: 8, memoryGiB: 16 },
    "g4dn.xlarge": { vcpus: 4, memoryGiB: 16, gpu: { type: "t4", count: 1 } },
    "g4dn.12xlarge": { vcpus: 48, memoryGiB: 192, gpu: { type: "t4", count: 4 } },
    "g5.xlarge": { vcpus: 4, memoryGiB: 16, gpu: { type: "a10g", count: 1 } },
    "g5.12xlarge": { vcpus: 48, memoryGiB: 192, gpu: { type: "a10g", count: 4 } },
    "g5.48xlarge": { vcpus: 192, memoryGiB: 768, gpu: { type: "a10g", count: 8 } },
    "g6.xlarge": { vcpus: 4, memoryGiB: 16, gpu: { type: "l4", count: 1 } },
    "g6.12xlarge": { vcpus: 48, memoryGiB: 192, gpu: { type: "l4", count: 4 } },
    "g6.48xlarge": { vcpus: 192, memoryGiB: 768, gpu: { type: "l4", count: 8 } },
    "p4de.24xlarge": { vcpus: 96, memoryGiB: 1152, gpu: { type: "a100-80gb", count: 8 } },
    "p5.48xlarge": { vcpus: 192, memoryGiB: 2048, gpu: { type: "h100-80gb", count: 8 } },
  },
  gcp: {
    "n2-standard-4": { vcpus: 4, memoryGiB: 16 },
    "n2-standard-8": { vcpus: 8, memoryGiB: 32 },
    "n2-standard-16": { vcpus: 16, memoryGiB: 64 },
    "g2-standard-8": { vcpus: 8, memoryGiB: 32, gpu: { type: "l4", count: 1 } },
    "g2-standard-24": { vcpus: 24, memoryGiB: 96, gpu: { type: "l4", count: 2 } },
    "g2-standard-48": { vcpus: 48, memoryGiB: 192, gpu: { type: "l4", count: 4 } },
    "g2-standard-96": { vcpus: 96, memoryGiB: 384, gpu: { type: "l4", count: 8 } },
    "a2-ultragpu-1g": { vcpus: 12, memoryGiB: 170, gpu: { type: "a100-80gb", count: 1 } },
    "a2-ultragpu-8g": { vcpus: 96, memoryGiB: 1360, gpu: { type: "a100-80gb", count: 8 } },
    "a3-highgpu-8g": { vcpus: 208, memoryGiB: 1872, gpu: { type: "h100-80gb", count: 8 } },
  },
  local: {
    "kind-node": { vcpus: 4, memoryGiB: 8 },
  },
};

/** Allocatable share of a machine, as used for fit checks. */
export function allocatable(shape: MachineShape): { cpu: number; memoryGiB: number } {
  return { cpu: shape.vcpus - 0.5, memoryGiB: Math.floor(shape.memoryGiB * 0.9) };
}

/** Machine types of `cloud` whose GPU is `type`, as "name (N×type)" strings, for error messages. */
export function machinesWithGpu(cloud: Cloud, type: GpuType): string[] {
  return Object.entries(MACHINES[cloud])
    .filter(([, s]) => s.gpu?.type === type)
    .map(([n, s]) => `${n} (${s.gpu?.count}×${type})`);
}
