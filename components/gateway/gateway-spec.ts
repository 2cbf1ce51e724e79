/**
 * Pure builders of the gateway: one pod with two containers —
 * - `tls`: HAProxy (official 3.2 image) terminating TLS on :8443 with the certificate Secret, answering 401 at
 *   once to requests without an `Authorization` header, and passing the rest to the agent's HAProxy on
 *   127.0.0.1 (which checks the key's hash and its endpoint scope);
 * - `gateway-agent`: the gateway agent (controller image), which runs the routing HAProxy (per-pod limits, queue,
 *   429s, API keys) as its child and keeps it in sync with the cluster.
 * Plus the LoadBalancer Service, a metrics Service (the controller finds the gateway pods through its
 * EndpointSlices and reads each pod's `/stats` — HAProxy's backend CSV — on the agent's health port; Prometheus
 * scrapes HAProxy's exporter through a ServiceMonitor), PDB and an HPA on CPU.
 */
import { imageRef } from "../images.ts";
import { burstableResources, restrictedContainerSecurity, restrictedPodSecurity } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";
import { GATEWAY_AGENT_SA } from "../controller/controller-contract.ts";
import { GATEWAY_METRICS_SERVICE, STATS_PATH } from "../../controller/src/contract/names.ts";

export const GATEWAY_NAME = "gateway";
/** ConfigMap holding the TLS front's haproxy.cfg. */
export const TLS_PROXY_CONFIGMAP = "haproxy-config";
/** Service whose EndpointSlices list the gateway pods for the controller's scrape (and each agent's count). */
export { GATEWAY_METRICS_SERVICE };
/**
 * Ports inside the pod (unprivileged: the pod runs as non-root). `metrics`: HAProxy's Prometheus exporter;
 * `health`: the agent's HTTP server (/healthz, /readyz, its own /metrics, and /stats for the controller).
 */
export const GATEWAY_PORTS = { https: 8443, agentHttp: 8080, metrics: 8405, health: 8081 } as const;
/** Path of HAProxy's backend CSV (`show stat -1 2 -1`) on the agent's health port: the controller's scrape. */
export const GATEWAY_STATS_PATH = STATS_PATH;
/** Where the pod mounts its files. */
export const GATEWAY_PATHS = {
  tlsConfigDir: "/usr/local/etc/haproxy",
  tlsDir: "/etc/haproxy/tls",
  authDir: "/etc/gateway/auth",
  workDir: "/var/run/gateway",
  tlsRunDir: "/var/run/haproxy",
} as const;
/** Labels of the gateway pods (selectors of its Services, policies, and the local store's payload-log writer rule). */
export const GATEWAY_POD_LABELS: Readonly<Record<string, string>> = { [PLATFORM.labelComponent]: "gateway", [PLATFORM.labelPartOf]: PLATFORM.partOf };
const labels = GATEWAY_POD_LABELS;

export interface GatewaySpecArgs {
  /** Image of the gateway agent (the controller image; it carries HAProxy). */
  readonly agentImage: unknown;
  /** Agent container args (agentArgs()). */
  readonly agentArgs: readonly string[];
  /** Agent container environment (agentEnv()). @default [] */
  readonly agentEnv?: readonly { name: string; value?: unknown; valueFrom?: unknown }[];
  /** Name of the kubernetes.io/tls Secret the TLS front mounts. */
  readonly tlsSecret: string;
  /** Gateway replicas at least (the HorizontalPodAutoscaler's minimum). */
  readonly replicasMin: number;
  /** Gateway replicas at most. */
  readonly replicasMax: number;
  /** Image digests by role (the TLS front). @default {} */
  readonly digestOverrides?: Readonly<Record<string, string>>;
  /** Annotations of the LoadBalancer Service (the cloud's load balancer settings). @default {} */
  readonly serviceAnnotations?: Readonly<Record<string, string>>;
  /** `spec.loadBalancerClass` of the Service (EKS: the AWS Load Balancer Controller's NLB class). @default none (the cluster's default) */
  readonly loadBalancerClass?: string;
  /** Container sizes: `small` for one laptop node. @default "standard" */
  readonly size?: "small" | "standard";
}

/** Requests and limits of the two containers by size. */
export const GATEWAY_RESOURCES = {
  small: { tls: burstableResources("100m", "64Mi", "1", "256Mi"), agent: burstableResources("200m", "256Mi", "1", "512Mi") },
  standard: { tls: burstableResources("500m", "128Mi", "2", "512Mi"), agent: burstableResources("1", "512Mi", "2", "1Gi") },
} as const;

/**
 * Connection limits of the TLS front, where the client's address is known (the cloud load balancer preserves it):
 * connections HAProxy holds at once (5000 TLS connections fit the container's memory; HAProxy needs two file
 * descriptors each), and per client address the connections held and new ones per 10 s (over either, a new
 * connection is closed at once).
 */
export const GATEWAY_EDGE_LIMITS = { maxConnections: 5_000, perSourceMaxConnections: 200, perSourceConnectionsPer10s: 2_000 } as const;

/** Config of the TLS-terminating HAProxy. */
export function tlsProxyConfig(): string {
  const l = GATEWAY_EDGE_LIMITS;
  return [
    "global",
    `    maxconn ${l.maxConnections}`,
    "    log stdout format raw local0",
    `    stats socket ${GATEWAY_PATHS.tlsRunDir}/tls.sock mode 600 level user`,
    "    ssl-default-bind-options ssl-min-ver TLSv1.2",
    "    tune.ssl.default-dh-param 2048",
    "",
    "defaults",
    "    mode http",
    "    log global",
    "    option httplog",
    "    timeout connect 5s",
    "    timeout http-request 10s",
    "    timeout http-keep-alive 10s",
    "    timeout client 15m",
    "    timeout server 15m",
    "",
    "frontend tls_in",
    `    bind 0.0.0.0:${GATEWAY_PORTS.https} ssl crt ${GATEWAY_PATHS.tlsDir}/gateway.pem alpn h2,http/1.1`,
    "    tcp-request connection track-sc1 src table st_src",
    `    tcp-request connection reject if { sc1_conn_cur(st_src) gt ${l.perSourceMaxConnections} }`,
    `    tcp-request connection reject if { sc1_conn_rate(st_src) gt ${l.perSourceConnectionsPer10s} }`,
    // Edge check for a Bearer credential; the agent's HAProxy verifies the key (sha256 map) and its endpoint scope.
    "    http-request set-var(txn.bearer) http_auth_bearer",
    `    http-request return status 401 content-type application/json string '{"error_code":"UNAUTHENTICATED","message":"missing credentials; send Authorization: Bearer with an API key or token"}' hdr WWW-Authenticate Bearer unless { var(txn.bearer) -m found }`,
    // The client's address replaces any X-Forwarded-For it sent (appending would let it claim another).
    "    http-request set-header x-forwarded-for %[src]",
    "    default_backend agent",
    "",
    "backend st_src",
    "    stick-table type ipv6 size 1m expire 60s store conn_cur,conn_rate(10s)",
    "",
    "backend agent",
    `    server agent 127.0.0.1:${GATEWAY_PORTS.agentHttp}`,
    "",
  ].join("\n");
}

/** All gateway objects; `apiKeysJson` is the agent's API-key file (hashes only). */
export function buildGatewayObjects(a: GatewaySpecArgs, apiKeysJson: string): KubeObject[] {
  const ns = PLATFORM.gatewayNamespace;
  const meta = (name: string) => ({ name, namespace: ns, labels });
  const tls: KubeObject = {
    name: "tls",
    image: imageRef("haproxy", a.digestOverrides ?? {}),
    args: ["-W", "-db", "-f", `${GATEWAY_PATHS.tlsConfigDir}/haproxy.cfg`],
    ports: [{ name: "https", containerPort: GATEWAY_PORTS.https, protocol: "TCP" }],
    readinessProbe: { tcpSocket: { port: "https" }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { tcpSocket: { port: "https" }, periodSeconds: 10, failureThreshold: 6 },
    resources: GATEWAY_RESOURCES[a.size ?? "standard"].tls,
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: [
      { name: "tls-config", mountPath: GATEWAY_PATHS.tlsConfigDir, readOnly: true },
      { name: "tls", mountPath: GATEWAY_PATHS.tlsDir, readOnly: true },
      { name: "tls-run", mountPath: GATEWAY_PATHS.tlsRunDir },
    ],
  };
  const agent: KubeObject = {
    name: "gateway-agent",
    image: a.agentImage,
    args: [...a.agentArgs],
    ...(a.agentEnv !== undefined && a.agentEnv.length > 0 ? { env: [...a.agentEnv] } : {}),
    ports: [
      { name: "metrics", containerPort: GATEWAY_PORTS.metrics, protocol: "TCP" },
      { name: "health", containerPort: GATEWAY_PORTS.health, protocol: "TCP" },
    ],
    readinessProbe: { httpGet: { path: "/readyz", port: "health" }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: "/healthz", port: "health" }, periodSeconds: 10, failureThreshold: 6 },
    resources: GATEWAY_RESOURCES[a.size ?? "standard"].agent,
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: [
      { name: "work", mountPath: GATEWAY_PATHS.workDir },
      { name: "auth", mountPath: GATEWAY_PATHS.authDir, readOnly: true },
    ],
  };
  const pod = {
    serviceAccountName: GATEWAY_AGENT_SA,
    securityContext: restrictedPodSecurity(),
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } }],
    containers: [tls, agent],
    volumes: [
      { name: "work", emptyDir: { sizeLimit: "64Mi" } },
      { name: "tls-run", emptyDir: { sizeLimit: "8Mi" } },
      { name: "tls-config", configMap: { name: TLS_PROXY_CONFIGMAP } },
      { name: "auth", secret: { secretName: "gateway-api-keys" } },
      { name: "tls", secret: { secretName: a.tlsSecret, items: [{ key: "tls.crt", path: "gateway.pem" }, { key: "tls.key", path: "gateway.pem.key" }] } },
    ],
  };
  return [
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta(TLS_PROXY_CONFIGMAP), data: { "haproxy.cfg": tlsProxyConfig() } },
    { apiVersion: "v1", kind: "Secret", metadata: meta("gateway-api-keys"), type: "Opaque", stringData: { "api-keys.json": apiKeysJson } },
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
      apiVersion: "v1", kind: "Service", metadata: { ...meta(GATEWAY_NAME), ...(a.serviceAnnotations !== undefined ? { annotations: { ...a.serviceAnnotations } } : {}) },
      spec: {
        type: "LoadBalancer", externalTrafficPolicy: "Local", selector: labels, ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }],
        ...(a.loadBalancerClass !== undefined ? { loadBalancerClass: a.loadBalancerClass } : {}),
      },
    },
    {
      apiVersion: "v1", kind: "Service", metadata: meta(GATEWAY_METRICS_SERVICE),
      spec: {
        type: "ClusterIP", selector: labels,
        ports: [
          { name: "metrics", port: GATEWAY_PORTS.metrics, targetPort: "metrics", protocol: "TCP" },
          { name: "stats", port: GATEWAY_PORTS.health, targetPort: "health", protocol: "TCP" },
        ],
      },
    },
    {
      // Clients reach the pod only through TLS; the agent's plain port stays pod-local in practice.
      apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("gateway-ingress"),
      spec: {
        podSelector: { matchLabels: labels }, policyTypes: ["Ingress"],
        ingress: [
          { ports: [{ protocol: "TCP", port: GATEWAY_PORTS.https }] },
          {
            from: [PLATFORM.systemNamespace, PLATFORM.monitoringNamespace].map((n) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n } } })),
            ports: [{ protocol: "TCP", port: GATEWAY_PORTS.metrics }],
          },
          {
            // The controller's per-second scrape of /stats on the agent's HTTP server.
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": PLATFORM.systemNamespace } } }],
            ports: [{ protocol: "TCP", port: GATEWAY_PORTS.health }],
          },
        ],
      },
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
