/**
 * Pure builders of the gateway: HAProxy + the gateway agent sidecar in one pod, a LoadBalancer Service for
 * clients (TLS terminated by HAProxy with the certificate Secret), a metrics Service, PDB and a CPU HPA.
 * The HAProxy config comes from the gateway package's renderer (see gateway-contract.ts).
 */
import { imageRef } from "../images.ts";
import { burstableResources, restrictedContainerSecurity, restrictedPodSecurity } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";

export const GATEWAY_NAME = "gateway";
/** Ports inside the pod (unprivileged: the pod runs as non-root). */
export const GATEWAY_PORTS = { https: 8443, metrics: 8405 } as const;
/** Where the pod mounts its files. */
export const GATEWAY_PATHS = {
  configDir: "/usr/local/etc/haproxy",
  tlsDir: "/etc/haproxy/tls",
  authDir: "/etc/haproxy/auth",
  runDir: "/var/run/haproxy",
} as const;
const labels = { [PLATFORM.labelComponent]: "gateway", [PLATFORM.labelPartOf]: PLATFORM.partOf };

export interface GatewaySpecArgs {
  readonly agentImage: unknown;
  /** Agent container args; undefined = no agent sidecar (its in-cluster entry point has not landed). */
  readonly agentArgs: readonly string[] | undefined;
  readonly tlsSecret: string;
  readonly replicasMin: number;
  readonly replicasMax: number;
  readonly digestOverrides?: Readonly<Record<string, string>>;
}

/** All gateway objects; `apiKeyMap` is the map file HAProxy loads at start (the agent updates it live). */
export function buildGatewayObjects(a: GatewaySpecArgs, haproxyConfig: string, apiKeyMap: string): KubeObject[] {
  const ns = PLATFORM.gatewayNamespace;
  const meta = (name: string) => ({ name, namespace: ns, labels });
  const haproxy: KubeObject = {
    name: "haproxy",
    image: imageRef("haproxy", a.digestOverrides ?? {}),
    args: ["-W", "-db", "-f", `${GATEWAY_PATHS.configDir}/haproxy.cfg`],
    ports: [{ name: "https", containerPort: GATEWAY_PORTS.https, protocol: "TCP" }, { name: "metrics", containerPort: GATEWAY_PORTS.metrics, protocol: "TCP" }],
    readinessProbe: { httpGet: { path: "/metrics", port: "metrics" }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { tcpSocket: { port: "metrics" }, periodSeconds: 10, failureThreshold: 6 },
    resources: burstableResources("1", "512Mi", "2", "1Gi"),
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: [
      { name: "run", mountPath: GATEWAY_PATHS.runDir },
      { name: "config", mountPath: GATEWAY_PATHS.configDir, readOnly: true },
      { name: "auth", mountPath: GATEWAY_PATHS.authDir, readOnly: true },
      { name: "tls", mountPath: GATEWAY_PATHS.tlsDir, readOnly: true },
    ],
  };
  const agent: KubeObject = {
    name: "gateway-agent",
    image: a.agentImage,
    args: [...(a.agentArgs ?? [])],
    env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    resources: burstableResources("200m", "256Mi", "1", "512Mi"),
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: [
      { name: "run", mountPath: GATEWAY_PATHS.runDir },
      { name: "config", mountPath: GATEWAY_PATHS.configDir, readOnly: true },
      { name: "auth", mountPath: GATEWAY_PATHS.authDir, readOnly: true },
    ],
  };
  // The agent shares the run dir (admin socket) with HAProxy and changes slots, maxconn and keys live.
  const pod = {
    serviceAccountName: GATEWAY_NAME,
    securityContext: restrictedPodSecurity(),
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
    containers: a.agentArgs !== undefined ? [haproxy, agent] : [haproxy],
    volumes: [
      { name: "run", emptyDir: { sizeLimit: "64Mi" } },
      { name: "config", configMap: { name: "haproxy-config" } },
      { name: "auth", secret: { secretName: "gateway-api-keys" } },
      { name: "tls", secret: { secretName: a.tlsSecret, items: [{ key: "tls.crt", path: "gateway.pem" }, { key: "tls.key", path: "gateway.pem.key" }] } },
    ],
  };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(GATEWAY_NAME) },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "gateway-agent", labels },
      rules: [
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["serving.autopilot.dev"], resources: ["servingendpoints"], verbs: ["get", "list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "gateway-agent", labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "gateway-agent" },
      subjects: [{ kind: "ServiceAccount", name: GATEWAY_NAME, namespace: ns }],
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("haproxy-config"), data: { "haproxy.cfg": haproxyConfig } },
    { apiVersion: "v1", kind: "Secret", metadata: meta("gateway-api-keys"), type: "Opaque", stringData: { "api-keys.map": apiKeyMap } },
    {
      apiVersion: "apps/v1", kind: "Deployment", metadata: meta(GATEWAY_NAME),
      spec: {
        replicas: a.replicasMin,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: { metadata: { labels }, spec: pod },
      },
    },
    {
      apiVersion: "v1", kind: "Service", metadata: meta(GATEWAY_NAME),
      spec: { type: "LoadBalancer", externalTrafficPolicy: "Local", selector: labels, ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }] },
    },
    {
      apiVersion: "v1", kind: "Service", metadata: meta(`${GATEWAY_NAME}-metrics`),
      spec: { type: "ClusterIP", selector: labels, ports: [{ name: "metrics", port: GATEWAY_PORTS.metrics, targetPort: "metrics", protocol: "TCP" }] },
    },
    { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta(GATEWAY_NAME), spec: { minAvailable: 1, selector: { matchLabels: labels } } },
    {
      apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: meta(GATEWAY_NAME),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: GATEWAY_NAME },
        minReplicas: a.replicasMin, maxReplicas: a.replicasMax,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      },
    },
  ];
}
