/** Policy 12: every endpoint workload has readiness and startup probes and a PodDisruptionBudget. */
import { at } from "../lib/read.ts";
import { PDB, describe, endpointWorkloads, selectorMatches, namespaceOf } from "../lib/endpoints.ts";
import { containersOf, podLabels, podTemplate } from "../lib/workloads.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

export interface EndpointProbesConfig {
  /** Label on Namespaces (and pods) that marks a serving endpoint. */
  endpointLabelKey: string;
}

export const endpointProbesPdb: StackPolicyDefinition<EndpointProbesConfig> = {
  kind: "stack",
  name: "endpoint-probes-and-pdb",
  description: "Every endpoint workload's serving containers have readiness and startup probes, and a PodDisruptionBudget that keeps some of its pods selects them.",
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
      const selecting = pdbs.filter((p) => namespaceOf(p) === namespaceOf(w) && selectorMatches(at(p.props, "spec", "selector"), labels));
      if (selecting.length === 0) {
        out.push({ message: `${describe(w)}: no PodDisruptionBudget in its namespace selects its pods ${JSON.stringify(labels)}.`, urn: w.urn });
        continue;
      }
      const protecting = selecting.filter((p) => disruptionLimitProblem(p) === undefined);
      if (protecting.length === 0) {
        const why = selecting.map((p) => `${describe(p)} ${disruptionLimitProblem(p)}`).join("; ");
        out.push({ message: `${describe(w)}: the PodDisruptionBudgets that select its pods protect none of them: ${why}.`, urn: w.urn });
      }
    }
    return out;
  },
};

/**
 * Why a PDB lets every selected pod be evicted at once, or undefined when it keeps at least one: `maxUnavailable`
 * of 100% (or more), `minAvailable` of 0 or 0%, or neither set.
 */
function disruptionLimitProblem(pdb: ResourceView): string | undefined {
  const maxUnavailable = at(pdb.props, "spec", "maxUnavailable");
  const minAvailable = at(pdb.props, "spec", "minAvailable");
  const percent = (v: unknown) => (typeof v === "string" && /^\d+%$/.test(v) ? Number(v.slice(0, -1)) : undefined);
  if (maxUnavailable !== undefined) {
    const p = percent(maxUnavailable);
    return p !== undefined && p >= 100 ? `allows maxUnavailable ${String(maxUnavailable)}` : undefined;
  }
  if (minAvailable !== undefined) {
    const p = percent(minAvailable);
    return minAvailable === 0 || minAvailable === "0" || p === 0 ? `requires minAvailable ${String(minAvailable)}` : undefined;
  }
  return "sets neither minAvailable nor maxUnavailable";
}
