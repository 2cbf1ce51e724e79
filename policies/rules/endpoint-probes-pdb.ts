/** Policy 12: every endpoint workload has readiness and startup probes and a PodDisruptionBudget. */
import { at } from "../lib/read.ts";
import { PDB, describe, endpointWorkloads, selectorMatches, namespaceOf } from "../lib/endpoints.ts";
import { containersOf, podLabels, podTemplate } from "../lib/workloads.ts";
import type { StackPolicyDefinition, Violation } from "../types.ts";

export interface EndpointProbesConfig {
  /** Label on Namespaces (and pods) that marks a serving endpoint. */
  endpointLabelKey: string;
}

export const endpointProbesPdb: StackPolicyDefinition<EndpointProbesConfig> = {
  kind: "stack",
  name: "endpoint-probes-and-pdb",
  description: "Every endpoint workload's serving containers have readiness and startup probes, and a PodDisruptionBudget covers its pods.",
  enforcementLevel: "mandatory",
  remediation:
    "Give each serving container a readinessProbe and a startupProbe sized to the model's load time (the runtime " +
    "selector does), and add a PodDisruptionBudget in the endpoint namespace whose selector matches the pod labels.",
  defaults: { endpointLabelKey: "serving.autopilot.dev/endpoint" },
  configSchema: {
    endpointLabelKey: { type: "string", default: "serving.autopilot.dev/endpoint", description: "Label marking endpoint namespaces and pods." },
  },
  check: (resources, config) => {
    const out: Violation[] = [];
    const pdbs = resources.filter((r) => r.type === PDB);
    for (const w of endpointWorkloads(resources, config.endpointLabelKey)) {
      const t = podTemplate(w.type, w.props);
      if (t === undefined) continue;
      for (const c of containersOf(t.spec).filter((c) => !c.isInit)) {
        const missing = ["readinessProbe", "startupProbe"].filter((p) => at(c.props, p) === undefined);
        if (missing.length > 0) out.push({ message: `${describe(w)} ${c.where}: no ${missing.join(" and no ")}.`, urn: w.urn });
      }
      const labels = podLabels(w.type, w.props);
      const covered = pdbs.some(
        (p) => namespaceOf(p) === namespaceOf(w) && selectorMatches(at(p.props, "spec", "selector"), labels),
      );
      if (!covered) out.push({ message: `${describe(w)}: no PodDisruptionBudget in its namespace selects its pods ${JSON.stringify(labels)}.`, urn: w.urn });
    }
    return out;
  },
};
