/** Policy 13: the APA controller runs at least two replicas with leader election. */
import { arr, at, num, str, labelsMatch, stringMap } from "../lib/read.ts";
import { describe } from "../lib/endpoints.ts";
import { DEPLOYMENT, containersOf, podTemplate } from "../lib/workloads.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

export interface ControllerHaConfig {
  /** Pod-template labels that identify the APA controller Deployment. */
  controllerLabels: Record<string, string>;
  /** Least replicas. @default 2 */
  minReplicas: number;
}

const defaults: ControllerHaConfig = { controllerLabels: { "app.kubernetes.io/name": "apa-controller" }, minReplicas: 2 };
const ROLE_TYPES = ["kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"];

export const controllerHa: StackPolicyDefinition<ControllerHaConfig> = {
  kind: "stack",
  name: "controller-ha-leader-election",
  description: "The APA controller Deployment runs ≥ 2 replicas with leader election on a coordination.k8s.io Lease it may update.",
  enforcementLevel: "mandatory",
  remediation:
    "Keep the ApaController component's replicas at 2 or more, keep leader election on (--leader-elect / " +
    "LEADER_ELECT=true) and keep the Role rule granting get/create/update on leases.coordination.k8s.io.",
  defaults,
  configSchema: {
    controllerLabels: {
      type: "object", additionalProperties: { type: "string" }, default: defaults.controllerLabels,
      description: "Pod labels identifying the controller Deployment.",
    },
    minReplicas: { type: "integer", minimum: 1, default: 2, description: "Least controller replicas." },
  },
  check: (resources, config) => {
    const controllers = resources.filter((r) => {
      if (r.type !== DEPLOYMENT) return false;
      return labelsMatch(config.controllerLabels, stringMap(podTemplate(r.type, r.props)?.metadata["labels"]));
    });
    // A stack without any Kubernetes workloads (e.g. a cluster-only stack) has no controller to check.
    if (controllers.length === 0) {
      const hasWorkloads = resources.some((r) => r.type === DEPLOYMENT);
      return hasWorkloads ? [{ message: `no controller Deployment with pod labels ${JSON.stringify(config.controllerLabels)} in the stack.` }] : [];
    }
    const out: Violation[] = [];
    const leaseRbac = resources.some((r) => ROLE_TYPES.includes(r.type) && grantsLeaseUpdate(r));
    for (const c of controllers) {
      const replicas = num(at(c.props, "spec", "replicas")) ?? 1;
      if (replicas < config.minReplicas) out.push({ message: `${describe(c)}: spec.replicas is ${replicas}; at least ${config.minReplicas}.`, urn: c.urn });
      if (!hasLeaderElection(c)) out.push({ message: `${describe(c)}: leader election is not enabled (no --leader-elect flag or LEADER_ELECT=true).`, urn: c.urn });
      if (!leaseRbac) out.push({ message: `${describe(c)}: no Role/ClusterRole grants update on leases.coordination.k8s.io.`, urn: c.urn });
    }
    return out;
  },
};

function hasLeaderElection(d: ResourceView): boolean {
  const t = podTemplate(d.type, d.props);
  if (t === undefined) return false;
  return containersOf(t.spec).some((c) => {
    const args = [...arr(c.props["args"]), ...arr(c.props["command"])].map(str);
    const flag = args.some((a) => a === "--leader-elect" || a === "--leader-elect=true" || a === "--leader-election");
    const env = arr(c.props["env"]).some(
      (e) => ["LEADER_ELECT", "LEADER_ELECTION", "LEADER_ELECTION_ENABLED"].includes(str(at(e, "name")) ?? "") && str(at(e, "value")) === "true",
    );
    return flag || env;
  });
}

function grantsLeaseUpdate(role: ResourceView): boolean {
  return arr(role.props["rules"]).some((rule) => {
    const groups = arr(at(rule, "apiGroups"));
    const res = arr(at(rule, "resources"));
    const verbs = arr(at(rule, "verbs"));
    return groups.includes("coordination.k8s.io") && res.includes("leases") && (verbs.includes("update") || verbs.includes("*"));
  });
}
