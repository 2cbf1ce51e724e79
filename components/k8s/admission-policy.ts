/**
 * The cluster's own second line of defence behind the policy pack: a ValidatingAdmissionPolicy (built into the
 * API server, admissionregistration.k8s.io/v1) bound to every endpoint namespace. Endpoint namespaces cannot
 * enforce the restricted Pod Security level when the node-local model cache mounts its hostPath, so this policy
 * enforces the restricted rules that matter most there, whoever applies the object (Pulumi, kubectl, a
 * controller): no privileged containers, host namespaces or host ports; no added capabilities but
 * NET_BIND_SERVICE; no privilege escalation; non-root; default procMount; only safe sysctls; and hostPath only
 * under the endpoint's own cache directory. It checks pods and every built-in kind that carries a pod template.
 */
import type { KubeObject } from "../types.ts";
import { PLATFORM } from "../types.ts";

/** Name of the policy and of its binding. */
export const ENDPOINT_POD_POLICY = "autopilot-endpoint-pod-security";

/** Sysctls the Pod Security Standards call safe. */
const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
];

/** Resources (group → plural names) whose objects are pods or carry a pod template. */
const POD_BEARING: readonly { group: string; resources: string[] }[] = [
  { group: "", resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"] },
  { group: "apps", resources: ["deployments", "statefulsets", "daemonsets", "replicasets"] },
  { group: "batch", resources: ["jobs", "cronjobs"] },
];

const cel = (items: readonly string[]) => `[${items.map((s) => `'${s}'`).join(", ")}]`;

/** The ValidatingAdmissionPolicy and its binding to the endpoint namespaces (label `PLATFORM.labelEndpoint`). */
export function buildEndpointAdmissionPolicy(): KubeObject[] {
  const labels = { [PLATFORM.labelPartOf]: PLATFORM.partOf };
  const containerRule = (expr: string) => "variables.containers.all(c, " + expr + ")";
  const sc = (field: string) => `has(c.securityContext) && has(c.securityContext.${field})`;
  const validations = [
    { expression: containerRule(`!(${sc("privileged")}) || c.securityContext.privileged == false`), message: "privileged containers are not allowed in endpoint namespaces", reason: "Forbidden" },
    {
      expression: "!(has(variables.spec.hostNetwork) && variables.spec.hostNetwork) && !(has(variables.spec.hostPID) && variables.spec.hostPID) && !(has(variables.spec.hostIPC) && variables.spec.hostIPC)",
      message: "hostNetwork, hostPID and hostIPC are not allowed in endpoint namespaces", reason: "Forbidden",
    },
    { expression: containerRule("!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)"), message: "hostPort is not allowed in endpoint namespaces", reason: "Forbidden" },
    {
      expression: containerRule(`!(${sc("capabilities")}) || !has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE')`),
      message: "containers may add no capability but NET_BIND_SERVICE", reason: "Forbidden",
    },
    { expression: containerRule(`${sc("allowPrivilegeEscalation")} && c.securityContext.allowPrivilegeEscalation == false`), message: "every container must set securityContext.allowPrivilegeEscalation: false", reason: "Forbidden" },
    {
      expression: containerRule(`(${sc("runAsNonRoot")} ? c.securityContext.runAsNonRoot : variables.podRunAsNonRoot) && !(${sc("runAsUser")} && c.securityContext.runAsUser == 0)`) +
        " && !(has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsUser) && variables.spec.securityContext.runAsUser == 0)",
      message: "every container must run as non-root (runAsNonRoot: true, runAsUser not 0)", reason: "Forbidden",
    },
    { expression: containerRule(`!(${sc("procMount")}) || c.securityContext.procMount == 'Default'`), message: "procMount must be Default", reason: "Forbidden" },
    {
      expression: `!has(variables.spec.securityContext) || !has(variables.spec.securityContext.sysctls) || variables.spec.securityContext.sysctls.all(s, s.name in ${cel(SAFE_SYSCTLS)})`,
      message: "only the safe sysctls of the Pod Security Standards are allowed", reason: "Forbidden",
    },
    {
      expression: "!has(variables.spec.volumes) || variables.spec.volumes.all(v, !has(v.hostPath) || " +
        "((v.hostPath.path == variables.cacheDir || v.hostPath.path.startsWith(variables.cacheDir + '/')) && !v.hostPath.path.contains('/..') && !v.hostPath.path.contains('/./')))",
      messageExpression: "'hostPath volumes may only mount %s (the endpoint\\'s model cache)'.format([variables.cacheDir])",
      reason: "Forbidden",
    },
  ];
  const policy: KubeObject = {
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy",
    metadata: { name: ENDPOINT_POD_POLICY, labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: POD_BEARING.map((g) => ({ apiGroups: [g.group], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: g.resources })),
      },
      variables: [
        {
          name: "spec",
          expression: "object.kind == 'Pod' ? object.spec : object.kind == 'PodTemplate' ? object.template.spec : " +
            "object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec",
        },
        {
          name: "containers",
          expression: "variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : []) + " +
            "(has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
        },
        {
          name: "podRunAsNonRoot",
          expression: "has(variables.spec.securityContext) && has(variables.spec.securityContext.runAsNonRoot) && variables.spec.securityContext.runAsNonRoot",
        },
        { name: "cacheDir", expression: `'${PLATFORM.nodeCacheRoot}/' + namespaceObject.metadata.labels['${PLATFORM.labelEndpoint}']` },
      ],
      validations,
    },
  };
  const binding: KubeObject = {
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: ENDPOINT_POD_POLICY, labels },
    spec: {
      policyName: ENDPOINT_POD_POLICY,
      validationActions: ["Deny"],
      matchResources: { namespaceSelector: { matchExpressions: [{ key: PLATFORM.labelEndpoint, operator: "Exists" }] } },
    },
  };
  return [policy, binding];
}
