/** Policy 11: the GPU node pools of an environment can never grow past its GPU-node budget. */
import { gpuPools } from "../lib/node-pools.ts";
import type { StackPolicyDefinition, Violation } from "../types.ts";

export interface GpuNodeBudgetConfig {
  /** Most GPU nodes all GPU pools together may scale to, in this environment (stack). @default 8 */
  maxGpuNodes: number;
  /** Taint key that marks GPU pools. @default "nvidia.com/gpu" */
  gpuTaintKey: string;
}

export const gpuNodeBudget: StackPolicyDefinition<GpuNodeBudgetConfig> = {
  kind: "stack",
  name: "gpu-node-budget",
  description: "The summed maximum size of all GPU node pools stays within the environment's GPU-node budget.",
  enforcementLevel: "mandatory",
  remediation:
    "Lower the GPU pools' maximum size (NodePool maxNodes) or raise the budget for this environment in its policy " +
    "config file (policies/config/<stack>.json: \"gpu-node-budget\": { \"maxGpuNodes\": N }) with the owner's sign-off.",
  defaults: { maxGpuNodes: 8, gpuTaintKey: "nvidia.com/gpu" },
  configSchema: {
    maxGpuNodes: { type: "integer", minimum: 0, default: 8, description: "GPU-node budget of the environment." },
    gpuTaintKey: { type: "string", default: "nvidia.com/gpu", description: "Taint key of GPU node pools." },
  },
  check: (resources, config) => {
    const pools = gpuPools(resources, config.gpuTaintKey);
    const out: Violation[] = [];
    for (const p of pools.filter((p) => p.maxNodes === undefined)) {
      out.push({ message: `GPU pool ${p.resource.name} has no maximum size (${p.how}); the budget cannot hold.`, urn: p.resource.urn });
    }
    const total = pools.reduce((sum, p) => sum + (p.maxNodes ?? 0), 0);
    if (total > config.maxGpuNodes) {
      const parts = pools.map((p) => `${p.resource.name}=${p.maxNodes ?? "∞"} (${p.how})`).join(", ");
      out.push({ message: `GPU pools can grow to ${total} nodes, over the budget of ${config.maxGpuNodes}: ${parts}.` });
    }
    return out;
  },
};
