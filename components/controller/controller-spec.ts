/**
 * Pure builders of the APA controller's own objects: the 2-replica Deployment (one leader, one hot standby,
 * leader election on a Lease — the controller always runs it), PDB and metrics Service. The CRD and RBAC come
 * from the controller package (controller-contract.ts).
 */
import { burstableResources, restrictedContainerSecurity, restrictedPodSecurity } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";
import { CONTROLLER_SA } from "./controller-contract.ts";

/** Name of the controller's Deployment and Service. */
export const CONTROLLER_NAME = "apa-controller";
/** Port of /healthz, /readyz and /metrics (the controller's `--port`). */
export const CONTROLLER_PORT = 8080;
const labels = { [PLATFORM.labelComponent]: "apa-controller", [PLATFORM.labelPartOf]: PLATFORM.partOf };

/** The Deployment: 2 replicas spread over nodes; the image's default command runs the controller. */
export function buildControllerDeployment(image: unknown, args: readonly string[], size: "small" | "standard" = "standard"): KubeObject {
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
          serviceAccountName: CONTROLLER_SA,
          securityContext: restrictedPodSecurity(),
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
          containers: [{
            name: "controller", image, args: [...args],
            env: [
              // Lease identity and namespace (controller/src/kube/config.ts reads these).
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            ],
            ports: [{ name: "metrics", containerPort: CONTROLLER_PORT, protocol: "TCP" }],
            readinessProbe: { httpGet: { path: "/readyz", port: "metrics" }, periodSeconds: 5, failureThreshold: 3 },
            livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 10, failureThreshold: 6 },
            resources: size === "small" ? burstableResources("100m", "192Mi", "1", "512Mi") : burstableResources("500m", "512Mi", "1", "1Gi"),
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
    spec: { type: "ClusterIP", selector: labels, ports: [{ name: "metrics", port: CONTROLLER_PORT, targetPort: "metrics", protocol: "TCP" }] },
  };
}
