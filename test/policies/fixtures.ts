/**
 * Hand-made resources shaped exactly like the providers' inputs (@pulumi/kubernetes 4.x, @pulumi/aws 7.x,
 * @pulumi/gcp 9.x), forming a compliant platform stack. Tests mutate copies to break one thing at a time.
 */
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

export const DIGEST = "sha256:" + "ab".repeat(32);
const GATEWAY_LABELS = { "app.kubernetes.io/component": "gateway" };

/** A restricted container security context. */
export const restrictedContainer = {
  allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] },
};
export const restrictedPod = { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } };

export function resources(cpu: string, memory: string, gpus = 0): Record<string, unknown> {
  const gpu = gpus > 0 ? { "nvidia.com/gpu": String(gpus) } : {};
  return { requests: { cpu, memory, ...gpu }, limits: { cpu, memory, ...gpu } };
}

export interface EndpointOptions {
  name: string;
  runtime: "mlflow" | "vllm" | "triton";
  gpus: number;
  image: string;
}

/** The Kubernetes objects the ServingEndpoint component creates for one endpoint. */
export function endpoint(o: EndpointOptions): OfflineResource[] {
  const ns = `ep-${o.name}`;
  const podLabels = { "serving.autopilot.dev/endpoint": o.name };
  const podAnnotations = { "serving.autopilot.dev/runtime": o.runtime };
  const gpuPlacement = o.gpus > 0
    ? { nodeSelector: { "serving.autopilot.dev/pool": "gpu", "nvidia.com/gpu.present": "true" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] }
    : { nodeSelector: { "serving.autopilot.dev/pool": "cpu" } };
  return [
    { type: "kubernetes:core/v1:Namespace", name: `${o.name}-ns`, props: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "serving.autopilot.dev/endpoint": o.name, "pod-security.kubernetes.io/enforce": "restricted" } } } },
    {
      type: "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint", name: `${o.name}-cr`,
      props: {
        apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", metadata: { name: o.name, namespace: ns },
        spec: {
          model: { uri: `s3://models/${o.name}/1`, flavor: o.runtime === "vllm" ? "transformers" : "sklearn" },
          runtime: o.runtime, concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 10 }, provisionedConcurrency: 4,
          auth: { apiKeys: true, jwt: false },
        },
      },
    },
    {
      type: "kubernetes:apps/v1:Deployment", name: `${o.name}-deploy`,
      props: {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: o.name, namespace: ns },
        spec: {
          replicas: 1, selector: { matchLabels: { "serving.autopilot.dev/endpoint": o.name } },
          template: {
            metadata: { labels: podLabels, annotations: podAnnotations },
            spec: {
              serviceAccountName: o.name, securityContext: restrictedPod, ...gpuPlacement,
              initContainers: [{
                name: "model-fetch", image: `ghcr.io/autopilot-serving/model-fetch@${DIGEST}`,
                resources: resources("500m", "512Mi"), securityContext: restrictedContainer,
              }],
              containers: [{
                name: "server", image: o.image, ports: [{ name: "http", containerPort: 8080 }],
                resources: resources(o.gpus > 0 ? "8" : "1", o.gpus > 0 ? "64Gi" : "2Gi", o.gpus),
                securityContext: restrictedContainer,
                readinessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 5 },
                startupProbe: { httpGet: { path: "/health", port: 8080 }, failureThreshold: 120, periodSeconds: 5 },
              }],
            },
          },
        },
      },
    },
    {
      type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: `${o.name}-netpol`,
      props: {
        apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny-except-gateway", namespace: ns },
        spec: {
          podSelector: {}, policyTypes: ["Ingress"],
          ingress: [{
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "autopilot-gateway" } }, podSelector: { matchLabels: GATEWAY_LABELS } }],
            ports: [{ port: 8080, protocol: "TCP" }],
          }, {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "autopilot-monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
            ports: [{ port: 8080, protocol: "TCP" }],
          }],
        },
      },
    },
    {
      type: "kubernetes:policy/v1:PodDisruptionBudget", name: `${o.name}-pdb`,
      props: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: o.name, namespace: ns }, spec: { maxUnavailable: 1, selector: { matchLabels: { "serving.autopilot.dev/endpoint": o.name } } } },
    },
    {
      type: "kubernetes:monitoring.coreos.com/v1:PodMonitor", name: `${o.name}-podmonitor`,
      props: {
        apiVersion: "monitoring.coreos.com/v1", kind: "PodMonitor", metadata: { name: o.name, namespace: ns },
        spec: { selector: { matchLabels: { "serving.autopilot.dev/endpoint": o.name } }, podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "15s" }] },
      },
    },
  ];
}

/** Platform pieces in the cluster: gateway and controller (with Lease RBAC). */
export function platform(): OfflineResource[] {
  const container = (name: string, image: string, extra: Record<string, unknown> = {}) => ({
    name, image, resources: resources("500m", "512Mi"), securityContext: restrictedContainer, ...extra,
  });
  return [
    { type: "kubernetes:core/v1:Namespace", name: "system-ns", props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "autopilot-system" } } },
    { type: "kubernetes:core/v1:Namespace", name: "gateway-ns", props: { apiVersion: "v1", kind: "Namespace", metadata: { name: "autopilot-gateway" } } },
    {
      type: "kubernetes:core/v1:ConfigMap", name: "gateway-config",
      props: {
        apiVersion: "v1", kind: "ConfigMap", metadata: { name: "haproxy", namespace: "autopilot-gateway" },
        data: { "haproxy.cfg": [
          "global", "    maxconn 20000", "", "frontend fe_public", "    bind 0.0.0.0:8080",
          "    http-request set-var(txn.bearer) http_auth_bearer",
          "    http-request return status 401 content-type application/json string '{\"error_code\":\"UNAUTHENTICATED\"}' unless { var(txn.bearer) -m found }",
          "    use_backend be_%[var(txn.ep)]", "", "backend be_iris", "    server-template s 1-8 0.0.0.0:8080 disabled", "",
        ].join("\n") },
      },
    },
    {
      type: "kubernetes:apps/v1:Deployment", name: "gateway",
      props: {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "gateway", namespace: "autopilot-gateway" },
        spec: {
          replicas: 2, selector: { matchLabels: GATEWAY_LABELS },
          template: {
            metadata: { labels: GATEWAY_LABELS },
            spec: { securityContext: restrictedPod, containers: [
              container("haproxy", "haproxytech/haproxy-debian:3.2.4"),
              container("agent", `ghcr.io/autopilot-serving/autopilot-serving@${DIGEST}`, { args: ["gateway-agent"] }),
            ] },
          },
        },
      },
    },
    {
      type: "kubernetes:core/v1:Service", name: "gateway-metrics",
      props: { apiVersion: "v1", kind: "Service", metadata: { name: "gateway-metrics", namespace: "autopilot-gateway", labels: GATEWAY_LABELS }, spec: { selector: GATEWAY_LABELS, ports: [{ name: "metrics", port: 8405 }] } },
    },
    {
      type: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", name: "gateway-servicemonitor",
      props: {
        apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "gateway", namespace: "autopilot-monitoring" },
        spec: { namespaceSelector: { matchNames: ["autopilot-gateway"] }, selector: { matchLabels: GATEWAY_LABELS }, endpoints: [{ port: "metrics", interval: "5s" }] },
      },
    },
    {
      type: "kubernetes:apps/v1:Deployment", name: "controller",
      props: {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "apa-controller", namespace: "autopilot-system" },
        spec: {
          replicas: 2, selector: { matchLabels: { "app.kubernetes.io/component": "apa-controller" } },
          template: {
            metadata: { labels: { "app.kubernetes.io/component": "apa-controller" } },
            spec: { serviceAccountName: "apa-controller", securityContext: restrictedPod, containers: [container("controller", `ghcr.io/autopilot-serving/autopilot-serving@${DIGEST}`, { args: ["controller", "--leader-elect"] })] },
          },
        },
      },
    },
    {
      type: "kubernetes:rbac.authorization.k8s.io/v1:Role", name: "controller-leases",
      props: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "apa-leader-election", namespace: "autopilot-system" }, rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["apa-controller-leader"], verbs: ["get", "update"] }] },
    },
    {
      type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", name: "controller-leases-binding",
      props: {
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "apa-leader-election", namespace: "autopilot-system" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "apa-leader-election" },
        subjects: [{ kind: "ServiceAccount", name: "apa-controller", namespace: "autopilot-system" }],
      },
    },
  ];
}

/** AWS model cache and pools: bucket + public access block + SSE + versioning, per-endpoint read policy, node groups. */
export function aws(endpoints: readonly string[]): OfflineResource[] {
  const bucket = "autopilot-models-staging";
  return [
    { type: "aws:s3/bucket:Bucket", name: "models", id: bucket, props: { bucket, forceDestroy: false } },
    { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "models-pab", props: { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true } },
    { type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name: "models-sse", props: { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] } },
    { type: "aws:s3/bucketVersioning:BucketVersioning", name: "models-versioning", props: { bucket, versioningConfiguration: { status: "Enabled" } } },
    ...endpoints.map((e): OfflineResource => ({
      type: "aws:iam/policy:Policy", name: `${e}-model-read`,
      props: {
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/${e}/*`] },
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${bucket}`], Condition: { StringLike: { "s3:prefix": [`${e}/*`] } } },
          ],
        }),
      },
    })),
    { type: "aws:eks/nodeGroup:NodeGroup", name: "cpu-pool", props: { clusterName: "autopilot", amiType: "AL2023_x86_64_STANDARD", instanceTypes: ["m6i.2xlarge"], scalingConfig: { minSize: 2, maxSize: 20, desiredSize: 2 }, labels: { "serving.autopilot.dev/pool": "cpu" } } },
    {
      type: "aws:eks/nodeGroup:NodeGroup", name: "gpu-pool",
      props: {
        clusterName: "autopilot", amiType: "AL2023_x86_64_NVIDIA", instanceTypes: ["g6e.2xlarge"], scalingConfig: { minSize: 0, maxSize: 4, desiredSize: 0 },
        labels: { "serving.autopilot.dev/pool": "gpu", "nvidia.com/gpu.present": "true" }, taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }],
      },
    },
  ];
}

/** GCP model cache and pools: a private GCS bucket, per-endpoint conditional read grants, a GPU node pool. */
export function gcp(endpoints: readonly string[]): OfflineResource[] {
  const bucket = "autopilot-models-prod";
  return [
    { type: "gcp:storage/bucket:Bucket", name: "models", id: bucket, props: { name: bucket, location: "US", publicAccessPrevention: "enforced", uniformBucketLevelAccess: true, versioning: { enabled: true } } },
    ...endpoints.map((e): OfflineResource => ({
      type: "gcp:storage/bucketIAMMember:BucketIAMMember", name: `${e}-model-read`,
      props: {
        bucket, role: "roles/storage.objectViewer",
        member: `principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p.svc.id.goog/subject/ns/ep-${e}/sa/${e}`,
        condition: { title: `only ${e}`, expression: `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${e}/")` },
      },
    })),
    {
      type: "gcp:container/nodePool:NodePool", name: "cpu-pool",
      props: { cluster: "autopilot", nodeLocations: ["us-central1-a"], autoscaling: { minNodeCount: 1, maxNodeCount: 10 }, nodeConfig: { machineType: "n2-standard-8", labels: { "serving.autopilot.dev/pool": "cpu" } } },
    },
    {
      type: "gcp:container/nodePool:NodePool", name: "gpu-pool",
      props: {
        cluster: "autopilot", nodeLocations: ["us-central1-a"], autoscaling: { minNodeCount: 0, maxNodeCount: 2 },
        nodeConfig: { machineType: "g2-standard-24", labels: { "serving.autopilot.dev/pool": "gpu", "nvidia.com/gpu.present": "true" }, taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }], guestAccelerators: [{ type: "nvidia-l4", count: 2, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } }] },
      },
    },
  ];
}

/** A compliant stack: platform, a CPU and a GPU endpoint, plus the cloud pieces. */
export function goodStack(cloud: "local" | "aws" | "gcp" = "aws"): OfflineResource[] {
  const eps = ["iris", "llama"];
  return [
    ...platform(),
    ...endpoint({ name: "iris", runtime: "mlflow", gpus: 0, image: "ghcr.io/mlflow/mlflow:v3.1.1" }),
    ...endpoint({ name: "llama", runtime: "vllm", gpus: 2, image: "vllm/vllm-openai:v0.11.0" }),
    ...(cloud === "aws" ? aws(eps) : cloud === "gcp" ? gcp(eps) : []),
  ];
}

/** Deep copy, so a test can mutate freely. */
export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The one resource with this Pulumi name (throws when absent: a broken fixture is a test bug). */
export function find(rs: readonly OfflineResource[], name: string): OfflineResource & { props: any } {
  const r = rs.find((x) => x.name === name);
  if (r === undefined) throw new Error(`fixture has no resource named ${name}`);
  return r as OfflineResource & { props: any };
}
