/**
 * Policy 15: every workload's node selector matches the labels of a node pool the stack creates. A selector
 * that no pool satisfies leaves pods Pending forever — the most reported problem in ai-on-eks / data-on-eks.
 */
import { DAEMONSET, mayHavePodTemplates, nodeSelectorOf, podTemplates } from "../lib/workloads.ts";
import { describeTemplate } from "../lib/endpoints.ts";
import { nodePools } from "../lib/node-pools.ts";
import type { StackPolicyDefinition, Violation } from "../types.ts";

export interface NodeSelectorConfig {
  /** Label prefixes the cloud or Kubernetes put on nodes by themselves; selectors on them are not checked. */
  implicitLabelPrefixes: string[];
}

const defaults: NodeSelectorConfig = {
  implicitLabelPrefixes: [
    "kubernetes.io/", "beta.kubernetes.io/", "node.kubernetes.io/", "topology.kubernetes.io/", "cloud.google.com/",
    "eks.amazonaws.com/", "karpenter.sh/", "karpenter.k8s.aws/",
  ],
};

export const nodeSelectorMatchesPool: StackPolicyDefinition<NodeSelectorConfig> = {
  kind: "stack",
  name: "node-selector-matches-a-pool",
  description: "Every workload's nodeSelector (beyond labels nodes get implicitly) is satisfied by a node pool of the stack.",
  enforcementLevel: "mandatory",
  remediation:
    "Take nodeSelector from the NodePool component the workload should run on (pool.nodeSelector) instead of typing " +
    "labels by hand, or add the pool the selector asks for. Stacks that create no node pools (an existing cluster) are not checked.",
  defaults,
  configSchema: {
    implicitLabelPrefixes: {
      type: "array", items: { type: "string" }, default: defaults.implicitLabelPrefixes,
      description: "Label prefixes nodes carry implicitly (not checked).",
    },
  },
  check: (resources, config) => {
    const pools = nodePools(resources);
    if (pools.length === 0) return [];
    const out: Violation[] = [];
    for (const w of resources.filter((r) => mayHavePodTemplates(r.type))) for (const t of podTemplates(w.type, w.props)) {
      const explicit = Object.entries(nodeSelectorOf(t.spec)).filter(([k]) => !config.implicitLabelPrefixes.some((p) => k.startsWith(p)));
      if (explicit.length === 0) continue;
      const fits = pools.some((p) => explicit.every(([k, v]) => p.labels[k] === v));
      // A DaemonSet that fits no pool is a no-op, not a Pending pod; still worth fixing, same finding.
      if (!fits) {
        const kind = w.type === DAEMONSET ? "runs on no node" : "would stay Pending";
        out.push({
          message: `${describeTemplate(w, t)}: nodeSelector ${JSON.stringify(Object.fromEntries(explicit))} matches no node pool ` +
            `(${pools.map((p) => `${p.resource.name} ${JSON.stringify(p.labels)}`).join("; ")}); it ${kind}.`,
          urn: w.urn,
        });
      }
    }
    return out;
  },
};
