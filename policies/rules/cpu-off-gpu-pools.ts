/** Policy 3: CPU-only workloads never land on GPU pools (a GPU node costs 10–50× a CPU node). */
import { DAEMONSET, mayHavePodTemplates, nodeSelectorOf, podTemplates, toleratesTaint, type PodTemplateView } from "../lib/workloads.ts";
import { describeTemplate } from "../lib/endpoints.ts";
import { gpuIntent, gpuPlacementDefaults, gpuPlacementSchema, type GpuPlacementConfig } from "./gpu-config.ts";
import type { ResourcePolicyDefinition, ResourceView, Violation } from "../types.ts";

export const cpuOffGpuPools: ResourcePolicyDefinition<GpuPlacementConfig> = {
  kind: "resource",
  name: "cpu-workloads-off-gpu-pools",
  description: "Workloads that request no GPU neither select nor tolerate GPU node pools (DaemonSets excepted).",
  enforcementLevel: "mandatory",
  remediation:
    "Remove the GPU nodeSelector and the nvidia.com/gpu toleration from CPU-only workloads and use the CPU " +
    "NodePool's nodeSelector; if the model really needs a GPU, declare a GPU runtime so it requests one.",
  defaults: gpuPlacementDefaults,
  configSchema: gpuPlacementSchema,
  // Node agents (device plugin, DCGM exporter) must run on GPU nodes without requesting a GPU.
  types: (type) => type !== DAEMONSET && mayHavePodTemplates(type),
  check: (r, config) => podTemplates(r.type, r.props).flatMap((t) => checkTemplate(r, t, config)),
};

function checkTemplate(r: ResourceView, t: PodTemplateView, config: GpuPlacementConfig): Violation[] {
  // GPU-intended workloads without a GPU request are policy 2's finding, not this one's.
  if (gpuIntent(t.spec, t.metadata, config) !== undefined) return [];
  const who = `${describeTemplate(r, t)} (CPU-only: no GPU request)`;
  const out: Violation[] = [];
  const selector = nodeSelectorOf(t.spec);
  const gpuKeys = config.gpuNodeSelectorKeys.filter((k) => selector[k] !== undefined);
  if (gpuKeys.length > 0) {
    out.push({ message: `${who}: nodeSelector pins it to a GPU pool via ${gpuKeys.join(", ")}.` });
  }
  if (toleratesTaint(t.spec, config.gpuTaintKey)) {
    out.push({ message: `${who}: tolerates the GPU taint "${config.gpuTaintKey}", so it can be scheduled onto GPU nodes.` });
  }
  return out;
}
