/** Policy 2: GPU runtimes request GPUs and carry the GPU pool's node selector and toleration. */
import { GPU_RESOURCE, DAEMONSET, containersOf, gpuCount, mayHavePodTemplates, nodeSelectorOf, podTemplates, toleratesTaint, type PodTemplateView } from "../lib/workloads.ts";
import { describeTemplate } from "../lib/endpoints.ts";
import { gpuIntent, gpuPlacementDefaults, gpuPlacementSchema, type GpuPlacementConfig } from "./gpu-config.ts";
import type { ResourcePolicyDefinition, ResourceView, Violation } from "../types.ts";

export const gpuRuntimePlacement: ResourcePolicyDefinition<GpuPlacementConfig> = {
  kind: "resource",
  name: "gpu-runtime-on-gpu-pool",
  description: "GPU runtimes (vLLM, Triton on GPU) request GPUs and carry the GPU pool's node selector and toleration.",
  enforcementLevel: "mandatory",
  remediation:
    `Request ${GPU_RESOURCE} in the serving container's resources.limits, and take nodeSelector and tolerations ` +
    "from the GPU NodePool component (pool.nodeSelector / pool.tolerations) instead of typing them by hand.",
  defaults: gpuPlacementDefaults,
  configSchema: gpuPlacementSchema,
  types: (type) => type !== DAEMONSET && mayHavePodTemplates(type),
  check: (r, config) => podTemplates(r.type, r.props).flatMap((t) => checkTemplate(r, t, config)),
};

function checkTemplate(r: ResourceView, t: PodTemplateView, config: GpuPlacementConfig): Violation[] {
  const why = gpuIntent(t.spec, t.metadata, config);
  if (why === undefined) return [];
  const who = `${describeTemplate(r, t)} (GPU workload: ${why})`;
  const out: Violation[] = [];
  const serving = containersOf(t.spec).filter((c) => !c.isInit);
  if (!serving.some((c) => gpuCount(c.props) > 0)) {
    out.push({ message: `${who}: no container requests ${GPU_RESOURCE}; the pod would run without a GPU.` });
  }
  if (!toleratesTaint(t.spec, config.gpuTaintKey)) {
    out.push({ message: `${who}: no toleration for the GPU pool taint "${config.gpuTaintKey}" (NoSchedule); the pod would stay Pending.` });
  }
  const selector = nodeSelectorOf(t.spec);
  if (!config.gpuNodeSelectorKeys.some((k) => selector[k] !== undefined)) {
    out.push({
      message: `${who}: nodeSelector ${JSON.stringify(selector)} selects no GPU pool; expected one of the labels ` +
        `${config.gpuNodeSelectorKeys.join(", ")}.`,
    });
  }
  return out;
}
