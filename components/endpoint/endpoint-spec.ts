/**
 * Pure builders of one endpoint's Kubernetes objects. The ServingEndpoint component only wraps these in
 * Pulumi resources. Every pod is restricted (see pod-security.ts) except for the node-cache hostPath volume.
 */
import type { ModelVersionDeclaration } from "../endpoint-types.ts";
import { imageRef } from "../images.ts";
import { guaranteedResources, restrictedContainerSecurity, restrictedPodSecurity, RUN_AS_UID } from "../k8s/pod-security.ts";
import { MODEL_MOUNT_PATH, TRITON_REPOSITORY_PATH, type AdapterPlan, type RuntimePlan } from "../runtime/select-runtime.ts";
import type { PlannedEndpoint } from "../validate-endpoints.ts";
import { type KubeObject, type ModelStoreAccess, PLATFORM } from "../types.ts";
import { downloadScript } from "./download-script.ts";

/** Namespace of an endpoint. */
export function endpointNamespace(endpoint: string): string {
  return `ep-${endpoint}`;
}

/** Name of one version's Deployment / Service / PDB. */
export function versionName(endpoint: string, version: string): string {
  return `${endpoint}-${version}`;
}

/** Labels of an endpoint's pods (all versions). */
export function endpointLabels(endpoint: string): Record<string, string> {
  return { [PLATFORM.labelEndpoint]: endpoint, [PLATFORM.labelPartOf]: PLATFORM.partOf, [PLATFORM.labelComponent]: "model-server" };
}

/** Namespace object. The node cache's hostPath volume is outside the restricted profile, so enforcement is
 * `privileged` with `restricted` warnings and audit; without the node cache the namespace enforces restricted. */
export function buildNamespace(endpoint: string, nodeCache: boolean): KubeObject {
  const level = nodeCache ? "privileged" : "restricted";
  return {
    apiVersion: "v1", kind: "Namespace",
    metadata: {
      name: endpointNamespace(endpoint),
      labels: {
        ...endpointLabels(endpoint),
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    },
  };
}

/** ServiceAccount; `annotations` bind it to a cloud identity where the cloud needs that (GKE uses direct principals,
 * EKS Pod Identity an association; both leave this empty). */
export function buildServiceAccount(endpoint: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "ServiceAccount",
    metadata: { name: endpoint, namespace: endpointNamespace(endpoint), labels: endpointLabels(endpoint), annotations },
    automountServiceAccountToken: false,
  };
}

/** Where one version's files live in the store: `<endpoint prefix><version>/` (the cache layout contract). */
export function versionPrefix(store: ModelStoreAccess, version: string): string {
  return `${store.prefix}${version}/`;
}

function storeEnv(store: ModelStoreAccess, version: string, weightBytes: number): KubeObject[] {
  const env: KubeObject[] = [
    { name: "MODEL_BUCKET", value: store.bucket },
    { name: "MODEL_PREFIX", value: versionPrefix(store, version) },
    { name: "MODEL_BYTES", value: String(Math.ceil(weightBytes)) },
    { name: "HOME", value: "/tmp" },
  ];
  if (store.kind === "gcs") env.push({ name: "CLOUDSDK_CONFIG", value: "/tmp/gcloud" });
  if (store.region !== undefined) env.push({ name: "AWS_REGION", value: store.region });
  if (store.endpointUrl !== undefined) env.push({ name: "AWS_ENDPOINT_URL", value: store.endpointUrl });
  if (store.credentialsSecret !== undefined) {
    for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      env.push({ name: key, valueFrom: { secretKeyRef: { name: store.credentialsSecret, key } } });
    }
  }
  return env;
}

/**
 * The Deployment of one model version. `replicas` is only the initial count: the component sets
 * `ignoreChanges: ["spec.replicas"]` so the autoscaler owns it afterwards.
 */
export function buildDeployment(
  ep: PlannedEndpoint,
  version: ModelVersionDeclaration,
  store: ModelStoreAccess,
  opts: {
    nodeCache: boolean; initialReplicas: number; digestOverrides?: Readonly<Record<string, string>>;
    /** The controller image (it carries the Triton adapter); required for Triton endpoints. */
    adapterImage?: unknown;
    /** This version's own serving image (built from the model's requirements), instead of the runtime's. */
    serverImage?: unknown;
  },
): KubeObject {
  const { decl, plan, pool } = ep;
  const name = versionName(decl.name, version.version);
  const labels = { ...endpointLabels(decl.name), [PLATFORM.labelVersion]: version.version };
  const hex = version.digest.replace(/^sha256:/, "");
  const podMeta = {
    labels,
    annotations: { "serving.autopilot.dev/model-digest": version.digest, "serving.autopilot.dev/runtime": plan.kind },
  };
  // Node cache: the endpoint's own directory on the node (created with the right owner by the node-cache
  // DaemonSet); the init step writes into it, the server reads only this version's digest sub-directory.
  const cacheVolume = opts.nodeCache
    ? { name: "model-cache", hostPath: { path: `${PLATFORM.nodeCacheRoot}/${decl.name}`, type: "Directory" } }
    : { name: "model-cache", emptyDir: { sizeLimit: `${Math.ceil((plan.weightBytes * 1.2) / 2 ** 30) + 1}Gi` } };
  const volumes: KubeObject[] = [cacheVolume, { name: "tmp", emptyDir: { sizeLimit: `${plan.scratchGiB}Gi` } }];
  if (plan.shmGiB !== undefined) volumes.push({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: `${plan.shmGiB}Gi` } });
  const mounts: KubeObject[] = [
    { name: "model-cache", mountPath: MODEL_MOUNT_PATH, subPath: `sha256-${hex}`, readOnly: true },
    { name: "tmp", mountPath: "/tmp" },
  ];
  if (plan.shmGiB !== undefined) mounts.push({ name: "dshm", mountPath: "/dev/shm" });
  const downloader = store.kind === "gcs" ? "gcloudCli" : "awsCli";
  const server: KubeObject = {
    name: "server",
    image: opts.serverImage ?? plan.image,
    ...(plan.command !== undefined ? { command: [...plan.command] } : {}),
    args: [...plan.args],
    env: plan.env.map((e) => ({ ...e })),
    ports: [
      { name: "http", containerPort: plan.port, protocol: "TCP" },
      ...(plan.metrics !== undefined && plan.metrics.port !== plan.port ? [{ name: "metrics", containerPort: plan.metrics.port, protocol: "TCP" }] : []),
    ],
    startupProbe: plan.probes.startup,
    readinessProbe: plan.probes.readiness,
    livenessProbe: plan.probes.liveness,
    resources: guaranteedResources(plan.cpu, `${plan.memoryGiB}Gi`, plan.gpus),
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: mounts,
  };
  const initContainers: KubeObject[] = [{
    name: "fetch-model",
    image: imageRef(downloader, opts.digestOverrides ?? {}),
    command: ["/bin/sh", "-c"],
    args: [downloadScript({ store: store.kind, digest: version.digest, verifyFiles: plan.weightBytes < 10e9, diskGuard: opts.nodeCache })],
    env: storeEnv(store, version.version, plan.weightBytes),
    resources: fetchResources(plan.weightBytes),
    securityContext: restrictedContainerSecurity(true),
    // The script's one-line reason becomes the pod's termination message (kubectl describe pod).
    terminationMessagePolicy: "FallbackToLogsOnError",
    volumeMounts: [{ name: "model-cache", mountPath: "/cache" }, { name: "tmp", mountPath: "/tmp" }],
  }];
  const containers: KubeObject[] = [server];
  if (plan.adapter !== undefined) {
    if (opts.adapterImage === undefined) throw new Error(`endpoint ${decl.name}: a Triton endpoint needs the adapter image (the controller image)`);
    const triton = tritonPod(decl.name, plan.adapter, opts.adapterImage, mounts[0] as KubeObject);
    initContainers.push(triton.prepare);
    volumes.push(triton.volume);
    // Triton serves the repository the prepare step wrote, with probes on its own port; the adapter has the
    // pod's serving port.
    Object.assign(server, {
      ports: [{ name: "triton-http", containerPort: plan.adapter.serverPort, protocol: "TCP" }, ...(plan.metrics !== undefined ? [{ name: "metrics", containerPort: plan.metrics.port, protocol: "TCP" }] : [])],
      startupProbe: plan.adapter.serverProbes.startup,
      readinessProbe: plan.adapter.serverProbes.readiness,
      livenessProbe: plan.adapter.serverProbes.liveness,
      volumeMounts: [...mounts, { name: "triton-repository", mountPath: TRITON_REPOSITORY_PATH, readOnly: true }],
    });
    containers.push(triton.adapter(plan));
  }
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name, namespace: endpointNamespace(decl.name), labels, annotations: { "pulumi.com/skipAwait": "false" } },
    spec: {
      replicas: opts.initialReplicas,
      selector: { matchLabels: { [PLATFORM.labelEndpoint]: decl.name, [PLATFORM.labelVersion]: version.version } },
      // Never go below the ready count during an update; a new pod must be ready for 10 s before it counts.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
      minReadySeconds: 10,
      progressDeadlineSeconds: readyTimeoutS(plan),
      template: {
        metadata: podMeta,
        spec: {
          serviceAccountName: decl.name,
          automountServiceAccountToken: store.kind !== "minio",
          nodeSelector: { ...pool.nodeSelector },
          tolerations: pool.tolerations.map((t) => ({ ...t })),
          securityContext: restrictedPodSecurity(),
          terminationGracePeriodSeconds: 60,
          initContainers,
          containers,
          volumes,
        },
      },
    },
  };
}

/** The controller image's Triton adapter command (the image's entrypoint is node). */
export const ADAPTER_MAIN = "dist/controller/src/serving/adapter-main.js";

/**
 * The Triton parts of a pod: an init step making the model repository from the published model (adapter-main
 * prepare), the emptyDir it writes, and the adapter container answering the MLflow protocol on the serving port.
 */
function tritonPod(endpoint: string, a: AdapterPlan, image: unknown, modelMount: KubeObject) {
  const repoMount = { name: "triton-repository", mountPath: TRITON_REPOSITORY_PATH };
  return {
    volume: { name: "triton-repository", emptyDir: { sizeLimit: "64Mi" } } as KubeObject,
    prepare: {
      name: "triton-repository",
      image,
      args: [ADAPTER_MAIN, "prepare", "--model-dir", MODEL_MOUNT_PATH, "--repository", TRITON_REPOSITORY_PATH, "--model-name", endpoint],
      resources: guaranteedResources(`${Math.round(a.cpu * 1000)}m`, `${Math.round(a.memoryGiB * 1024)}Mi`),
      securityContext: restrictedContainerSecurity(true),
      volumeMounts: [modelMount, repoMount],
    } as KubeObject,
    adapter: (plan: { probes: { startup: unknown; readiness: unknown } }): KubeObject => ({
      name: "mlflow-adapter",
      image,
      args: [ADAPTER_MAIN, "serve", "--port", String(a.port), "--server", `http://127.0.0.1:${a.serverPort}`, "--model-name", endpoint, "--model-dir", MODEL_MOUNT_PATH],
      ports: [{ name: "http", containerPort: a.port, protocol: "TCP" }],
      startupProbe: plan.probes.startup,
      readinessProbe: plan.probes.readiness,
      // Alive while it accepts connections; /ping also needs Triton, which has its own liveness probe.
      livenessProbe: { tcpSocket: { port: a.port }, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
      resources: guaranteedResources(`${Math.round(a.cpu * 1000)}m`, `${Math.round(a.memoryGiB * 1024)}Mi`),
      securityContext: restrictedContainerSecurity(true),
      volumeMounts: [modelMount],
    }),
  };
}

/** Service of one version (the gateway agent discovers pods through its EndpointSlices). */
export function buildService(endpoint: string, version: string, port: number): KubeObject {
  return {
    apiVersion: "v1", kind: "Service",
    metadata: { name: versionName(endpoint, version), namespace: endpointNamespace(endpoint), labels: { ...endpointLabels(endpoint), [PLATFORM.labelVersion]: version } },
    spec: {
      type: "ClusterIP",
      selector: { [PLATFORM.labelEndpoint]: endpoint, [PLATFORM.labelVersion]: version },
      ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/**
 * Resources of the fetch step: it streams the model to disk, so CPU and memory grow with parallel chunks, not with
 * the model. Small models (the laptop's) get a small step; ≥ 1 GB gets 2 cores for 32 parallel 64 MB parts.
 * Worked example: a 2 MB classifier → 250m / 256Mi; a 140 GB LLM → 2 / 2Gi.
 */
export function fetchResources(weightBytes: number): Record<string, Record<string, string>> {
  return weightBytes < 1e9 ? guaranteedResources("250m", "256Mi") : guaranteedResources(2, "2Gi");
}

/** Assumed download rate from the store into the node cache (conservative for S3/GCS in-region). */
export const DOWNLOAD_BYTES_PER_S = 100e6;
/** Allowance for pulling a runtime image onto a fresh node (vLLM and Triton images are ~10 GB). */
export const IMAGE_PULL_ALLOWANCE_S = 600;

/**
 * How long a version's Deployment may take to become ready: image pull + download + the startup probe budget +
 * 5 minutes. The Deployment's progressDeadlineSeconds and Pulumi's create/update timeout both use it.
 * Worked example: a 70B bf16 model (140 GB, TP 8): 600 + 1400 + 430 + 300 = 2730 s (~46 min); a 2 MB
 * classifier: 600 + 1 + 120 + 300 = 1021 s.
 */
export function readyTimeoutS(plan: RuntimePlan): number {
  const startupS = plan.probes.startup.failureThreshold * plan.probes.startup.periodSeconds;
  return Math.ceil(IMAGE_PULL_ALLOWANCE_S + plan.weightBytes / DOWNLOAD_BYTES_PER_S + startupS + 300);
}

/** PodDisruptionBudget of one version: voluntary evictions take at most one pod at a time. */
export function buildPdb(endpoint: string, version: string): KubeObject {
  return {
    apiVersion: "policy/v1", kind: "PodDisruptionBudget",
    metadata: { name: versionName(endpoint, version), namespace: endpointNamespace(endpoint), labels: endpointLabels(endpoint) },
    spec: { maxUnavailable: 1, selector: { matchLabels: { [PLATFORM.labelEndpoint]: endpoint, [PLATFORM.labelVersion]: version } } },
  };
}

/** PodMonitor scraping the model server's own metrics (runtimes without metrics get none). */
export function buildPodMonitor(endpoint: string, metrics: { port: number; path: string } | undefined, servePort: number): KubeObject | undefined {
  if (metrics === undefined) return undefined;
  return {
    apiVersion: "monitoring.coreos.com/v1", kind: "PodMonitor",
    metadata: { name: endpoint, namespace: endpointNamespace(endpoint), labels: { ...endpointLabels(endpoint), release: "kube-prometheus-stack" } },
    spec: {
      selector: { matchLabels: { [PLATFORM.labelEndpoint]: endpoint } },
      podMetricsEndpoints: [{ port: metrics.port === servePort ? "http" : "metrics", path: metrics.path, interval: "15s" }],
    },
  };
}

/** Initial replica count: enough for the provisioned concurrency at the range's midpoint, within bounds. */
export function initialReplicas(ep: PlannedEndpoint, weight: number): number {
  const { replicas, concurrency, provisionedConcurrency = 0 } = ep.decl;
  const mid = Math.max(1, Math.floor((concurrency.min + concurrency.max) / 2));
  const want = Math.ceil(provisionedConcurrency / mid);
  if (weight === 0) return Math.min(replicas.min, 1);
  return Math.min(replicas.max, Math.max(replicas.min, want));
}

export { RUN_AS_UID };
