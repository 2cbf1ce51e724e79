/** Policy 5: every container sets CPU/memory requests and limits; GPU limits equal GPU requests. */
import { GPU_RESOURCE, containersOf, mayHavePodTemplates, podTemplates, quantity } from "../lib/workloads.ts";
import { describeTemplate } from "../lib/endpoints.ts";
import type { ResourcePolicyDefinition, Violation } from "../types.ts";

export const containerResources: ResourcePolicyDefinition<Record<string, never>> = {
  kind: "resource",
  name: "container-resources-set",
  description: "Every container and init container sets cpu and memory requests and limits; nvidia.com/gpu limits equal requests.",
  enforcementLevel: "mandatory",
  remediation:
    "Set resources.requests and resources.limits for cpu and memory on every container (the runtime selector " +
    "sizes them from the model); for GPUs set limits[\"nvidia.com/gpu\"] and, if you set requests too, the same number.",
  defaults: {},
  configSchema: {},
  types: mayHavePodTemplates,
  check: (r) => {
    const out: Violation[] = [];
    for (const t of podTemplates(r.type, r.props)) for (const c of containersOf(t.spec)) {
      const missing: string[] = [];
      for (const section of ["requests", "limits"] as const) {
        for (const res of ["cpu", "memory"]) {
          if (quantity(c.props, section, res) === undefined) missing.push(`${section}.${res}`);
        }
      }
      if (missing.length > 0) {
        out.push({ message: `${describeTemplate(r, t)} ${c.where}: resources ${missing.join(", ")} not set.` });
      }
      const gpuReq = quantity(c.props, "requests", GPU_RESOURCE);
      const gpuLim = quantity(c.props, "limits", GPU_RESOURCE);
      if (gpuReq !== undefined && gpuLim === undefined) {
        out.push({ message: `${describeTemplate(r, t)} ${c.where}: requests ${GPU_RESOURCE}=${gpuReq} without a limit; GPUs are set through limits.` });
      } else if (gpuReq !== undefined && gpuLim !== undefined && gpuReq !== gpuLim) {
        out.push({ message: `${describeTemplate(r, t)} ${c.where}: ${GPU_RESOURCE} limit ${gpuLim} differs from request ${gpuReq}; they must be equal.` });
      }
    }
    return out;
  },
};
