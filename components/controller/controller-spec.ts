/**
 * Pure builders of the APA controller's Kubernetes objects: service account, leader-election Role (Leases),
 * 2-replica Deployment spread across nodes, PDB, metrics Service. The CRD and the controller's cluster-wide
 * RBAC rules come from the controller package (see controller-contract.ts).
 */
import { burstableResources, restrictedContainerSecurity, restrictedPodSecurity } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";

/** Name of the controller's Deployment, ServiceAccount and roles. */
export const CONTROLLER_NAME = "apa-controller";
/** Lease the replicas compete for. */
export const LEADER_LEASE = "apa-controller-leader";
const labels = { [PLATFORM.labelComponent]: "apa-controller", [PLATFORM.labelPartOf]: PLATFORM.partOf };

export function buildControllerServiceAccount(): KubeObject {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: CONTROLLER_NAME, namespace: PLATFORM.systemNamespace, labels } };
}

/** Leader election: the replicas read and renew one Lease in the system namespace. */
export function buildLeaseRole(): KubeObject[] {
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role",
      metadata: { name: `${CONTROLLER_NAME}-leader-election`, namespace: PLATFORM.systemNamespace, labels },
      rules: [
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
        { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [LEADER_LEASE], verbs: ["get", "update", "patch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding",
      metadata: { name: `${CONTROLLER_NAME}-leader-election`, namespace: PLATFORM.systemNamespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${CONTROLLER_NAME}-leader-election` },
      subjects: [{ kind: "ServiceAccount", name: CONTROLLER_NAME, namespace: PLATFORM.systemNamespace }],
    },
  ];
}

/** ClusterRole + binding from the controller package's rules. */
export function buildClusterRbac(rules: readonly KubeObject[]): KubeObject[] {
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: CONTROLLER_NAME, labels }, rules: [...rules] },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: CONTROLLER_NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: CONTROLLER_NAME },
      subjects: [{ kind: "ServiceAccount", name: CONTROLLER_NAME, namespace: PLATFORM.systemNamespace }],
    },
  ];
}

/** The Deployment: 2 replicas, one active (leader), the other hot standby; spread over nodes. */
export function buildControllerDeployment(image: unknown, args: readonly string[]): KubeObject {
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name: CONTROLLER_NAME, namespace: PLATFORM.systemNamespace, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: CONTROLLER_NAME,
          securityContext: restrictedPodSecurity(),
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
          containers: [{
            name: "controller", image, args: [...args],
            env: [
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            ],
            ports: [{ name: "metrics", containerPort: 9090, protocol: "TCP" }, { name: "health", containerPort: 8081, protocol: "TCP" }],
            readinessProbe: { httpGet: { path: "/readyz", port: "health" }, periodSeconds: 5, failureThreshold: 3 },
            livenessProbe: { httpGet: { path: "/healthz", port: "health" }, periodSeconds: 10, failureThreshold: 6 },
            resources: burstableResources("500m", "512Mi", "1", "1Gi"),
            securityContext: restrictedContainerSecurity(true),
          }],
        },
      },
    },
  };
}

export function buildControllerPdb(): KubeObject {
  return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: CONTROLLER_NAME, namespace: PLATFORM.systemNamespace, labels }, spec: { minAvailable: 1, selector: { matchLabels: labels } } };
}

export function buildControllerService(): KubeObject {
  return {
    apiVersion: "v1", kind: "Service", metadata: { name: CONTROLLER_NAME, namespace: PLATFORM.systemNamespace, labels },
    spec: { type: "ClusterIP", selector: labels, ports: [{ name: "metrics", port: 9090, targetPort: "metrics", protocol: "TCP" }] },
  };
}
