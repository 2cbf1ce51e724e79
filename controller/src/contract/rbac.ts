/**
 * Least-privilege RBAC for the APA controller and the gateway agent, as plain Kubernetes objects (the Pulumi
 * component applies them; docs/controller.md lists them). Every rule carries the reason for each verb;
 * `test/controller/rbac.test.ts` checks that the requests the controller makes against the API test double are
 * exactly covered by these rules.
 */
import { SERVING_GROUP, SERVING_PLURAL } from "./crd/types.ts";
import { GATEWAY_NAMESPACE, SYSTEM_NAMESPACE } from "./names.ts";

/** An RBAC PolicyRule plus why it is needed (the `reason` is stripped from the applied object). */
export interface ExplainedRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly reason: string;
}

export interface RbacOptions {
  /** Namespace the controller runs in (ServiceAccount, Lease). @default "autopilot-system" */
  readonly namespace?: string;
  /** @default "apa-controller" */
  readonly serviceAccountName?: string;
  /** @default "apa-controller" */
  readonly leaseName?: string;
}

/** Cluster-wide rules of the controller. */
export function controllerClusterRules(): ExplainedRule[] {
  return [
    { apiGroups: [SERVING_GROUP], resources: [SERVING_PLURAL], verbs: ["list", "watch"], reason: "list+watch: cache every ServingEndpoint's spec (the bounds the engine scales within)" },
    { apiGroups: [SERVING_GROUP], resources: [`${SERVING_PLURAL}/status`], verbs: ["patch"], reason: "patch: publish target concurrency, replica counts and conditions (status subresource only)" },
    { apiGroups: ["apps"], resources: ["deployments"], verbs: ["list", "watch", "patch"], reason: "list+watch: cache endpoint and warm-pool Deployments (replicas, readiness, rollout state); patch: server-side apply of the endpoint's controller ownerReference on a Deployment that has none (that field only, under its own field manager)" },
    { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["patch"], reason: "patch: change replicas through the scale subresource only, never the pod template" },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"], reason: "list+watch: pods with addresses per endpoint (starting vs unschedulable) and the gateway replicas to scrape" },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"], reason: "create: an Event per applied scale decision, with its reason; patch: the series count of similar ones aggregated into it" },
    { apiGroups: ["metrics.k8s.io"], resources: ["pods"], verbs: ["list"], reason: "list: pod CPU and memory from metrics-server (vertical axis)" },
  ];
}

/** Cluster-wide reads of the controller's model-download reporter (kube/download-failures.ts). */
export function controllerPodReadRules(): ExplainedRule[] {
  return [
    { apiGroups: [""], resources: ["pods"], verbs: ["list"], reason: "list: endpoint pods still Pending (label and field selector), whose model download failed, for a Warning Event saying why" },
  ];
}

/** Namespaced rules of the controller (its own namespace): leader election. */
export function controllerLeaseRules(leaseName = "apa-controller"): ExplainedRule[] {
  return [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "update"], resourceNames: [leaseName], reason: "get+update: read and renew/take over the leader-election Lease (only this one, by name)" },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"], reason: "create: make the Lease the first time (RBAC cannot restrict create by name)" },
  ];
}

/** Cluster-wide rules of the gateway agent (reads, plus its reports on endpoints it rejects). */
export function gatewayAgentClusterRules(): ExplainedRule[] {
  return [
    { apiGroups: [SERVING_GROUP], resources: [SERVING_PLURAL], verbs: ["list", "watch"], reason: "list+watch: endpoints to route and their status.targetConcurrency (per-pod maxconn)" },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"], reason: "list+watch: model pods' addresses and readiness (server slots)" },
    { apiGroups: [SERVING_GROUP], resources: [`${SERVING_PLURAL}/status`], verbs: ["patch"], reason: "patch: the GatewayAccepted condition of an endpoint the gateway cannot serve as declared (status subresource only)" },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"], reason: "create: a Warning Event when the gateway rejects an endpoint's settings" },
  ];
}

const strip = (rules: readonly ExplainedRule[]) =>
  rules.map(({ reason: _reason, ...rule }) => ({ ...rule, apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs], ...(rule.resourceNames ? { resourceNames: [...rule.resourceNames] } : {}) }));

/** Name of the admission policy (and its binding) that narrows the controller's Deployment patches. */
export const CONTROLLER_DEPLOYMENT_WRITES_POLICY = "apa-controller-deployment-writes";

/**
 * RBAC cannot narrow `patch` on `deployments` to a field; this ValidatingAdmissionPolicy (built into the API
 * server) does: an update of a Deployment (not its scale subresource) by the controller's ServiceAccount may add
 * ownerReferences and change nothing else of spec, labels, annotations or finalizers, and may remove no
 * ownerReference.
 */
function deploymentWritesPolicy(username: string) {
  const same = (field: string) => `(has(object.metadata.${field}) ? object.metadata.${field} : {}) == (has(oldObject.metadata.${field}) ? oldObject.metadata.${field} : {})`;
  const message = "the APA controller may only add its ownerReference to a Deployment (replicas go through deployments/scale)";
  return {
    policy: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: CONTROLLER_DEPLOYMENT_WRITES_POLICY },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ apiGroups: ["apps"], apiVersions: ["*"], operations: ["UPDATE"], resources: ["deployments"] }] },
        matchConditions: [{ name: "controller-service-account", expression: `request.userInfo.username == '${username}'` }],
        validations: [
          { expression: "object.spec == oldObject.spec", message, reason: "Forbidden" },
          { expression: `${same("labels")} && ${same("annotations")}`, message, reason: "Forbidden" },
          { expression: "(has(object.metadata.finalizers) ? object.metadata.finalizers : []) == (has(oldObject.metadata.finalizers) ? oldObject.metadata.finalizers : [])", message, reason: "Forbidden" },
          {
            expression: "!has(oldObject.metadata.ownerReferences) || oldObject.metadata.ownerReferences.all(o, has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(n, n.uid == o.uid))",
            message,
            reason: "Forbidden",
          },
        ],
      },
    },
    binding: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: CONTROLLER_DEPLOYMENT_WRITES_POLICY },
      spec: { policyName: CONTROLLER_DEPLOYMENT_WRITES_POLICY, validationActions: ["Deny"] },
    },
  };
}

/**
 * ServiceAccount, ClusterRole(+Binding), Role(+Binding) of the controller, and the admission policy (+binding)
 * that limits its Deployment patches to adding an ownerReference.
 */
export function controllerRbac(opts: RbacOptions = {}) {
  const namespace = opts.namespace ?? SYSTEM_NAMESPACE;
  const sa = opts.serviceAccountName ?? "apa-controller";
  const subject = [{ kind: "ServiceAccount", name: sa, namespace }];
  const writes = deploymentWritesPolicy(`system:serviceaccount:${namespace}:${sa}`);
  return {
    deploymentWritesPolicy: writes.policy,
    deploymentWritesPolicyBinding: writes.binding,
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace } },
    clusterRole: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "apa-controller" }, rules: strip([...controllerClusterRules(), ...controllerPodReadRules()]) },
    clusterRoleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "apa-controller" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "apa-controller" },
      subjects: subject,
    },
    role: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "apa-controller-lease", namespace }, rules: strip(controllerLeaseRules(opts.leaseName)) },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "apa-controller-lease", namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "apa-controller-lease" },
      subjects: subject,
    },
  };
}

/** ServiceAccount and ClusterRole(+Binding) of the gateway agent. */
export function gatewayAgentRbac(opts: { readonly namespace?: string; readonly serviceAccountName?: string } = {}) {
  const namespace = opts.namespace ?? GATEWAY_NAMESPACE;
  const sa = opts.serviceAccountName ?? "gateway-agent";
  return {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace } },
    clusterRole: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "gateway-agent" }, rules: strip(gatewayAgentClusterRules()) },
    clusterRoleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "gateway-agent" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "gateway-agent" },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
    },
  };
}
