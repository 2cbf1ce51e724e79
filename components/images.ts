/**
 * Container images and Helm charts the platform deploys, pinned in one place.
 *
 * Digests: this machine has no registry access, so a digest appears here only when it was found quoted for that
 * exact tag in public repositories (source noted). Images without a known digest are pinned by exact version tag
 * and `imageRef()` returns `repo:tag` for them; set `autopilot-serving:imageDigests` (stack config) to pin them
 * before a production apply — `docs/infra.md` shows the `crane digest` loop. Charts are pinned by exact version.
 */

/** One pinned image. */
export interface PinnedImage {
  readonly repository: string;
  readonly tag: string;
  /** `sha256:...` of the (multi-arch) image index, when known. */
  readonly digest?: string;
}

/** Platform images by role. */
export const IMAGES = {
  /** Placeholder pods of the warm pool. Digest quoted identically by many public repos (e.g. cilium Dockerfiles). */
  pause: {
    repository: "registry.k8s.io/pause",
    tag: "3.10",
    digest: "sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a",
  },
  /** Gateway proxy (supported 3.2 LTS line). Digest quoted for the `3.2` tag in a public repo. */
  haproxy: {
    repository: "docker.io/library/haproxy",
    tag: "3.2",
    digest: "sha256:e2b397cdbd612221cf79dec325690139d00a78b4ce4eae065530fbc81e1f6192",
  },
  /** vLLM OpenAI-compatible server. Index digest quoted by several public repos. */
  vllm: {
    repository: "docker.io/vllm/vllm-openai",
    tag: "v0.11.0",
    digest: "sha256:014a95f21c9edf6abe0aea6b07353f96baa4ec291c427bb1176dc7c93a85845c",
  },
  /** MLflow scoring server (`mlflow models serve`). */
  mlflow: {
    repository: "ghcr.io/mlflow/mlflow",
    tag: "v3.4.0",
    digest: "sha256:9c9e24a3fc24a0e9dcc5ba1daa9ebfc59e01b0a23b6eb89a4fdf25b84ad5347c",
  },
  /** Triton Inference Server (ONNX Runtime, TensorRT, PyTorch, TensorFlow backends). */
  triton: { repository: "nvcr.io/nvidia/tritonserver", tag: "25.09-py3" },
  /** Model downloader for S3 and S3-compatible stores (parallel multipart `aws s3 sync`). */
  awsCli: { repository: "docker.io/amazon/aws-cli", tag: "2.27.50" },
  /** The local cloud's in-cluster model store (MinIO server; the tag MinIO's chart 5.4.0 ships). */
  minio: { repository: "quay.io/minio/minio", tag: "RELEASE.2024-12-18T13-15-44Z" },
  /** MinIO client for the store's setup Job (bucket, users, policies). */
  minioClient: { repository: "quay.io/minio/mc", tag: "RELEASE.2024-11-21T17-21-54Z" },
  /** Model downloader for GCS (`gcloud storage cp` does parallel sliced downloads). */
  gcloudCli: { repository: "gcr.io/google.com/cloudsdktool/google-cloud-cli", tag: "541.0.0-slim" },
} as const satisfies Record<string, PinnedImage>;

/** Image roles. */
export type ImageRole = keyof typeof IMAGES;

/**
 * The reference to put in a pod spec: `repo:tag@digest` when a digest is known (from the table or from
 * `digestOverrides`, keyed by role), else `repo:tag`.
 */
export function imageRef(role: ImageRole, digestOverrides: Readonly<Record<string, string>> = {}): string {
  const img: PinnedImage = IMAGES[role];
  const digest = digestOverrides[role] ?? img.digest;
  return digest !== undefined ? `${img.repository}:${img.tag}@${digest}` : `${img.repository}:${img.tag}`;
}

/** True when `ref` is pinned by digest (`...@sha256:<64 hex>`). */
export function isDigestPinned(ref: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(ref);
}

/** A pinned third-party Helm chart. */
export interface PinnedChart {
  readonly chart: string;
  readonly version: string;
  readonly repo: string;
}

/** Third-party charts (installed with `k8s.helm.v4.Chart` so policies see every object). */
export const CHARTS = {
  kubePrometheusStack: {
    chart: "kube-prometheus-stack",
    version: "81.2.1",
    repo: "https://prometheus-community.github.io/helm-charts",
  },
  openTelemetryCollector: {
    chart: "opentelemetry-collector",
    version: "0.136.0",
    repo: "https://open-telemetry.github.io/opentelemetry-helm-charts",
  },
  dcgmExporter: { chart: "dcgm-exporter", version: "4.8.1", repo: "https://nvidia.github.io/dcgm-exporter/helm-charts" },
  nvidiaDevicePlugin: { chart: "nvidia-device-plugin", version: "0.18.2", repo: "https://nvidia.github.io/k8s-device-plugin" },
  metricsServer: { chart: "metrics-server", version: "3.13.1", repo: "https://kubernetes-sigs.github.io/metrics-server/" },
  clusterAutoscaler: { chart: "cluster-autoscaler", version: "9.59.0", repo: "https://kubernetes.github.io/autoscaler" },
  awsLoadBalancerController: { chart: "aws-load-balancer-controller", version: "3.5.0", repo: "https://aws.github.io/eks-charts" },
} as const satisfies Record<string, PinnedChart>;
