/**
 * Policy 13: the APA controller runs at least two replicas with leader election. The controller always
 * elects a leader on a coordination.k8s.io Lease (it has no switch to turn that off), so the evidence that
 * election works is RBAC: a Role/ClusterRole allowing `update` on leases, bound to the controller's
 * ServiceAccount. An explicit opt-out (`--leader-elect=false`, `LEADER_ELECT=false`) is a violation too.
 */
import { arr, at, labelsMatch, num, str, stringMap } from "../lib/read.ts";
import { describe, namespaceOf } from "../lib/endpoints.ts";
import { DEPLOYMENT, containersOf, podTemplate } from "../lib/workloads.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

export interface ControllerHaConfig {
  /** Pod-template labels that identify the APA controller Deployment. */
  controllerLabels: Record<string, string>;
  /** Least replicas. @default 2 */
  minReplicas: number;
}

const defaults: ControllerHaConfig = { controllerLabels: { "app.kubernetes.io/component": "apa-controller" }, minReplicas: 2 };
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";

export const controllerHa: StackPolicyDefinition<ControllerHaConfig> = {
  kind: "stack",
  name: "controller-ha-leader-election",
  description: "The APA controller Deployment runs ≥ 2 replicas, and its ServiceAccount may update the leader-election Lease.",
  enforcementLevel: "mandatory",
  remediation:
    "Keep the ApaController component's replicas at 2 or more, don't pass --leader-elect=false, and keep its Role " +
    "granting update on leases.coordination.k8s.io bound (RoleBinding) to the controller's ServiceAccount.",
  defaults,
  configSchema: {
    controllerLabels: {
      type: "object", additionalProperties: { type: "string" }, default: defaults.controllerLabels,
      description: "Pod labels identifying the controller Deployment.",
    },
    minReplicas: { type: "integer", minimum: 1, default: 2, description: "Least controller replicas." },
  },
  check: (resources, config) => {
    const controllers = resources.filter(
      (r) => r.type === DEPLOYMENT && labelsMatch(config.controllerLabels, stringMap(podTemplate(r.type, r.props)?.metadata["labels"])),
    );
    // A stack without any Kubernetes workloads (e.g. a cluster-only stack) has no controller to check.
    if (controllers.length === 0) {
      const hasWorkloads = resources.some((r) => r.type === DEPLOYMENT);
      return hasWorkloads ? [{ message: `no controller Deployment with pod labels ${JSON.stringify(config.controllerLabels)} in the stack.` }] : [];
    }
    const out: Violation[] = [];
    for (const c of controllers) {
      const replicas = num(at(c.props, "spec", "replicas")) ?? 1;
      if (replicas < config.minReplicas) out.push({ message: `${describe(c)}: spec.replicas is ${replicas}; at least ${config.minReplicas}.`, urn: c.urn });
      if (optsOut(c)) out.push({ message: `${describe(c)}: leader election is switched off (--leader-elect=false / LEADER_ELECT=false).`, urn: c.urn });
      const sa = str(at(podTemplate(c.type, c.props)?.spec, "serviceAccountName")) ?? "default";
      if (!canUpdateLeases(resources, namespaceOf(c), sa)) {
        out.push({ message: `${describe(c)}: ServiceAccount "${sa}" is not bound to a Role/ClusterRole that may update leases.coordination.k8s.io.`, urn: c.urn });
      }
    }
    return out;
  },
};

function optsOut(d: ResourceView): boolean {
  const t = podTemplate(d.type, d.props);
  if (t === undefined) return false;
  return containersOf(t.spec).some((c) =>
    arr(c.props["args"]).some((a) => a === "--leader-elect=false" || a === "--leader-election=false") ||
    arr(c.props["env"]).some((e) => ["LEADER_ELECT", "LEADER_ELECTION"].includes(str(at(e, "name")) ?? "") && str(at(e, "value")) === "false"));
}

function grantsLeaseUpdate(role: ResourceView): boolean {
  return arr(role.props["rules"]).some((rule) => {
    const groups = arr(at(rule, "apiGroups"));
    const res = arr(at(rule, "resources"));
    const verbs = arr(at(rule, "verbs"));
    return (groups.includes("coordination.k8s.io") || groups.includes("*")) && (res.includes("leases") || res.includes("*")) &&
      (verbs.includes("update") || verbs.includes("*"));
  });
}

/** True when a (Cluster)Role granting lease updates is bound to ServiceAccount `ns/sa`. */
function canUpdateLeases(resources: readonly ResourceView[], ns: string, sa: string): boolean {
  const roles = resources.filter((r) => (r.type === ROLE || r.type === CLUSTER_ROLE) && grantsLeaseUpdate(r));
  return resources.some((b) => {
    if (b.type !== ROLE_BINDING && b.type !== CLUSTER_ROLE_BINDING) return false;
    const bindingNs = namespaceOf(b);
    const subjectOk = arr(b.props["subjects"]).some((s) =>
      str(at(s, "kind")) === "ServiceAccount" && str(at(s, "name")) === sa && (str(at(s, "namespace")) ?? bindingNs) === ns);
    if (!subjectOk) return false;
    const refKind = str(at(b.props, "roleRef", "kind"));
    const refName = str(at(b.props, "roleRef", "name"));
    return roles.some((role) => {
      const roleName = str(at(role.props, "metadata", "name"));
      if (roleName !== refName) return false;
      if (role.type === CLUSTER_ROLE) return refKind === "ClusterRole";
      // A Role only grants inside its namespace, and only through a RoleBinding in that namespace.
      return refKind === "Role" && b.type === ROLE_BINDING && namespaceOf(role) === bindingNs && bindingNs === ns;
    });
  });
}
