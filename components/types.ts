/**
 * Leaf types shared by the components and the pure builders. Imports nothing but other leaf modules.
 * Units are in the names: `...GiB` gibibytes, `...S` seconds, `...Bytes` bytes.
 */
import { ENDPOINT_LABEL, VERSION_LABEL, WARM_POOL_LABEL } from "../controller/src/contract/labels.ts";
import { GATEWAY_NAMESPACE, SYSTEM_NAMESPACE } from "../controller/src/contract/names.ts";

/** Where the platform runs: an existing kubeconfig context, EKS, or GKE. */
export type Cloud = "local" | "aws" | "gcp";
export const CLOUDS: readonly Cloud[] = ["local", "aws", "gcp"];

/** A Kubernetes toleration (core/v1 Toleration). */
export interface Toleration {
  readonly key: string;
  readonly operator: "Exists" | "Equal";
  readonly value?: string;
  readonly effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
}

/** A Kubernetes taint as node pools declare it (the cloud APIs spell the effect differently; see node-pool-spec.ts). */
export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
}

/** GPU models the catalog knows (see catalog.ts for memory and machine shapes). */
export type GpuType = "t4" | "l4" | "a10g" | "a100-80gb" | "h100-80gb";
export const GPU_TYPES: readonly GpuType[] = ["t4", "l4", "a10g", "a100-80gb", "h100-80gb"];

/** Kind of a node pool. */
export type PoolKind = "cpu" | "gpu";

/**
 * What a node pool exposes to workloads. Endpoints take their node selector and tolerations from here and never
 * hand-type them (a selector/taint mismatch leaves pods Pending).
 */
export interface PoolPlacement {
  /** Pool name as endpoints refer to it (`cpu`, `gpu`). */
  readonly poolName: string;
  readonly kind: PoolKind;
  /** Labels every node of the pool carries; pods must select them. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Tolerations pods need to land on the pool's tainted nodes. */
  readonly tolerations: readonly Toleration[];
  /** Taints the pool puts on its nodes. */
  readonly taints: readonly Taint[];
  /** Allocatable vCPUs of one node (after system reservations). */
  readonly cpuPerNode: number;
  /** Allocatable memory of one node. */
  readonly memoryGiBPerNode: number;
  /** GPUs of one node; absent on CPU pools. */
  readonly gpu?: { readonly type: GpuType; readonly memoryGiB: number; readonly perNode: number };
}

/** One failed check on a user declaration: which object, which field, the value, and what is allowed. */
export interface FieldError {
  /** The endpoint name or config key the error is about. */
  readonly subject: string;
  /** Dotted field path, e.g. `concurrency.min`. */
  readonly field: string;
  readonly value: unknown;
  /** What would be accepted (and, for impossible combinations, what would work). */
  readonly allowed: string;
  /** Why the value is refused, when more than "not allowed" needs saying. */
  readonly reason?: string;
}

/** Renders a FieldError as one line: `endpoint "x": field "y" has value 3; allowed: ...`. */
export function formatFieldError(kind: "endpoint" | "config key", e: FieldError): string {
  const why = e.reason !== undefined ? ` (${e.reason})` : "";
  return `${kind} "${e.subject}": field "${e.field}" has value ${JSON.stringify(e.value)}${why}; allowed: ${e.allowed}`;
}

/** Thrown when declarations are invalid; carries every error so the user fixes them in one pass. */
export class DeclarationError extends Error {
  readonly errors: readonly FieldError[];
  constructor(kind: "endpoint" | "config key", errors: readonly FieldError[]) {
    super(errors.map((e) => formatFieldError(kind, e)).join("\n"));
    this.name = "DeclarationError";
    this.errors = errors;
  }
}

/**
 * How an endpoint's pods reach its model prefix in the model cache. `bucket` may be a Pulumi Output (the
 * builders only place it into env values).
 */
export interface ModelStoreAccess {
  /** `minio`: any S3-compatible store reached at `endpointUrl` (the in-cluster MinIO or an external server). */
  readonly kind: "s3" | "gcs" | "minio";
  readonly bucket: unknown;
  /** Prefix of this endpoint's models, `<endpoint>/`; the endpoint identity can read nothing else. */
  readonly prefix: string;
  /** S3-compatible endpoint URL (minio). */
  readonly endpointUrl?: string;
  /** Secret in the endpoint namespace with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (minio only). */
  readonly credentialsSecret?: string;
  readonly region?: string;
  /** Where the pods must be able to connect to read their model: the store and the cloud's credential endpoint
   * (EKS Pod Identity agent, GKE metadata server). Endpoint NetworkPolicies admit exactly these. */
  readonly egress: readonly StoreEgress[];
}

/** One egress destination of model-reading pods. */
export type StoreEgress =
  | { readonly kind: "cidr"; readonly cidr: string; readonly port: number; readonly why: string }
  | { readonly kind: "pods"; readonly namespace: string; readonly podLabels: Readonly<Record<string, string>>; readonly port: number; readonly why: string };

/** Kubernetes-shaped plain object (what the builders return and Pulumi resources take). */
export type KubeObject = Record<string, unknown>;

/** Names the platform's namespaces and labels use. Endpoint, version and warm-pool labels are the ones the
 * controller and gateway agent select by (controller/src/contract/labels.ts). */
export const PLATFORM = {
  systemNamespace: SYSTEM_NAMESPACE,
  gatewayNamespace: GATEWAY_NAMESPACE,
  monitoringNamespace: "autopilot-monitoring",
  cacheNamespace: "autopilot-cache",
  /** GPU node agents (device plugin, DCGM exporter): host access, Pod Security `privileged`. */
  gpuSystemNamespace: "autopilot-gpu-system",
  labelEndpoint: ENDPOINT_LABEL,
  labelVersion: VERSION_LABEL,
  labelWarmPool: WARM_POOL_LABEL,
  labelComponent: "app.kubernetes.io/component",
  labelPartOf: "app.kubernetes.io/part-of",
  partOf: "autopilot-serving",
  /** Node directory of the node-local model cache (one sub-directory per endpoint, then per model digest). */
  nodeCacheRoot: "/var/lib/autopilot/models",
} as const;
