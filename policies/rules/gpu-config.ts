/** Shared config of the GPU placement policies (2 and 3): how GPU workloads and GPU pools are recognised. */
import type { ConfigPropertySchema } from "../types.ts";
import { stringMap, type Json } from "../lib/read.ts";
import { podGpuCount } from "../lib/workloads.ts";

export interface GpuPlacementConfig {
  /** Taint key carried by every GPU node pool. @default "nvidia.com/gpu" */
  gpuTaintKey: string;
  /** Node labels that pin a pod to a GPU pool; a GPU pod must select at least one, a CPU pod none. */
  gpuNodeSelectorKeys: string[];
  /** Pod label or annotation naming the model server (`vllm`, `triton`, `mlflow`, `custom`). */
  runtimeLabelKey: string;
  /** Pod label naming the accelerator the endpoint was planned for (`gpu` or `cpu`). */
  acceleratorLabelKey: string;
  /** Runtimes that always need a GPU. @default ["vllm"] */
  gpuRuntimes: string[];
}

export const gpuPlacementDefaults: GpuPlacementConfig = {
  gpuTaintKey: "nvidia.com/gpu",
  gpuNodeSelectorKeys: ["nvidia.com/gpu.present", "cloud.google.com/gke-accelerator"],
  runtimeLabelKey: "serving.autopilot.dev/runtime",
  acceleratorLabelKey: "serving.autopilot.dev/accelerator",
  gpuRuntimes: ["vllm"],
};

export const gpuPlacementSchema: { readonly [K in keyof GpuPlacementConfig]: ConfigPropertySchema } = {
  gpuTaintKey: { type: "string", default: "nvidia.com/gpu", description: "Taint key of GPU node pools." },
  gpuNodeSelectorKeys: {
    type: "array", items: { type: "string" }, default: gpuPlacementDefaults.gpuNodeSelectorKeys,
    description: "Node labels that pin a pod to a GPU pool.",
  },
  runtimeLabelKey: { type: "string", default: "serving.autopilot.dev/runtime", description: "Pod label or annotation naming the model server." },
  acceleratorLabelKey: {
    type: "string", default: "serving.autopilot.dev/accelerator", description: "Pod label naming the planned accelerator (gpu|cpu).",
  },
  gpuRuntimes: { type: "array", items: { type: "string" }, default: ["vllm"], description: "Runtimes that always need a GPU." },
};

/** Why a pod template is meant for a GPU pool, or undefined when it is not. */
export function gpuIntent(spec: Json, metadata: Json, config: GpuPlacementConfig): string | undefined {
  const labels = stringMap(metadata["labels"]);
  const runtime = labels[config.runtimeLabelKey] ?? stringMap(metadata["annotations"])[config.runtimeLabelKey];
  if (runtime !== undefined && config.gpuRuntimes.includes(runtime)) return `runtime "${runtime}"`;
  if (labels[config.acceleratorLabelKey] === "gpu") return `label ${config.acceleratorLabelKey}=gpu`;
  if (podGpuCount(spec) > 0) return "a GPU request";
  return undefined;
}
