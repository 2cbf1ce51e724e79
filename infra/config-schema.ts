/**
 * Typed stack configuration: the schema (mirrored in Pulumi.yaml's `config:` section — a test keeps the two
 * equal), defaults, and a validator whose errors name the key, the value and what is allowed.
 *
 * Why not ajv: Pulumi hands config over as strings (integers and arrays arrive JSON-encoded), the rules cross keys
 * (a GPU machine type must exist in the chosen cloud) and the messages must follow the project's
 * key/value/allowed format; a 60-line table walk does that more plainly than a JSON Schema plus message mapping.
 */
import { DEFAULT_CPU_MACHINE, GKE_GPU_ZONES, MACHINES } from "../components/catalog.ts";
import { kindClusterOfContext } from "../components/model/kind-load.ts";
import { CLOUDS, type Cloud, DeclarationError, type FieldError } from "../components/types.ts";

/** Pulumi project name; config keys are `autopilot-serving:<key>`. */
export const PROJECT = "autopilot-serving";

type KeyType = "string" | "integer" | "boolean" | "array";

/** One config key: Pulumi type, default, description and the value check. */
export interface ConfigKeySpec {
  readonly type: KeyType;
  readonly default: string | number | boolean | readonly string[];
  readonly description: string;
  /** Allowed values (enums). */
  readonly oneOf?: readonly string[];
  /** Inclusive range (integers). */
  readonly range?: readonly [number, number];
  /** Pulumi should keep the value encrypted (`pulumi config set --secret`). */
  readonly secret?: boolean;
  /** Pattern for strings or array items, with its human description. */
  readonly pattern?: { readonly re: RegExp; readonly says: string };
  /** A value that fails the pattern is not echoed in the error (a raw credential pasted by mistake would be). */
  readonly hideInvalid?: boolean;
}

/** One `gatewayApiKeys` entry: key id, sha256 of the key, the endpoints it may call (DNS labels) or `*`. */
export const API_KEY_ENTRY_RE = /^[A-Za-z0-9._-]{1,64}:[0-9a-f]{64}:(\*|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(,[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*)$/;

/** A parsed `gatewayApiKeys` entry; `endpoints` `["*"]` means every endpoint. */
export interface ScopedApiKey {
  readonly id: string;
  readonly sha256: string;
  readonly endpoints: readonly string[];
}

/** Parses `gatewayApiKeys` entries (already checked against `API_KEY_ENTRY_RE`). */
export function parseScopedApiKeys(entries: readonly string[]): ScopedApiKey[] {
  return entries.map((e) => {
    const [id, sha256, scope] = e.split(":") as [string, string, string];
    return { id, sha256, endpoints: scope.split(",") };
  });
}

/** `exampleCustomImage`: empty, or an image pinned by a version tag and/or a sha256 digest, never `:latest`. */
export const EXAMPLE_CUSTOM_IMAGE_RE = /^$|^(?!.*:latest(@|$))[a-z0-9][a-z0-9./_-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$/;

/** The schema. Order is the order of Pulumi.yaml. */
export const CONFIG_SCHEMA = {
  cloud: { type: "string", default: "local", oneOf: CLOUDS, description: "Where the platform runs: an existing kubeconfig context (local), EKS (aws) or GKE (gcp)." },
  environment: { type: "string", default: "dev", oneOf: ["dev", "staging", "prod"], description: "Environment class; selects the example endpoint sizes and labels resources." },
  kubeContext: { type: "string", default: "", description: "local only: kubeconfig context to deploy into (empty = current context)." },
  region: { type: "string", default: "", pattern: { re: /^$|^[a-z]+(-[a-z]+)+-?\d+$/, says: "a region name such as us-east-1 or europe-west4" }, description: "aws/gcp: region of the cluster and the model cache bucket." },
  gcpProject: { type: "string", default: "", pattern: { re: /^$|^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, says: "a GCP project id" }, description: "gcp: project id." },
  gcpProjectNumber: { type: "string", default: "", pattern: { re: /^$|^\d{6,20}$/, says: "the numeric GCP project number" }, description: "gcp: project number (Workload Identity principals name it)." },
  kubernetesVersion: { type: "string", default: "1.33", oneOf: ["1.31", "1.32", "1.33", "1.34"], description: "aws/gcp: Kubernetes minor version of the cluster." },
  cpuMachineType: { type: "string", default: "", description: "Machine type of the CPU pool (empty = the cloud's default: m7i.2xlarge, n2-standard-8, kind-node)." },
  cpuNodesMin: { type: "integer", default: 1, range: [0, 100], description: "CPU pool minimum nodes." },
  cpuNodesMax: { type: "integer", default: 5, range: [1, 1000], description: "CPU pool maximum nodes." },
  gpuMachineType: { type: "string", default: "", description: "Machine type of the GPU pool (empty = no GPU pool)." },
  gpuNodesMin: { type: "integer", default: 0, range: [0, 100], description: "GPU pool minimum nodes." },
  gpuNodesMax: { type: "integer", default: 2, range: [1, 200], description: "GPU pool maximum nodes (also the GPU-node budget)." },
  gpuAmiFamily: { type: "string", default: "al2023", oneOf: ["al2023", "bottlerocket"], description: "aws: OS of GPU nodes (AL2023 NVIDIA or Bottlerocket NVIDIA AMIs)." },
  warmPoolReplicas: { type: "integer", default: 0, range: [0, 100], description: "Initial placeholder pods per pool; the controller's warm-pool sizer owns the count afterwards." },
  gatewayReplicasMin: { type: "integer", default: 2, range: [1, 100], description: "Gateway HPA minimum replicas." },
  gatewayReplicasMax: { type: "integer", default: 10, range: [1, 500], description: "Gateway HPA maximum replicas." },
  gatewayHost: { type: "string", default: "", pattern: { re: /^$|^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, says: "a DNS name" }, description: "Public host name of the gateway (TLS certificate name); empty = the load balancer's address." },
  gatewayTlsSecret: { type: "string", default: "", pattern: { re: /^$|^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, says: "a Secret name" }, description: "Existing kubernetes.io/tls Secret in the gateway namespace (e.g. kept by cert-manager with an ACME issuer); empty = the program creates it: from gatewayTlsCert/gatewayTlsKey when set, else a generated self-signed certificate." },
  gatewayTlsCert: { type: "string", default: "", pattern: { re: /^$|-----BEGIN CERTIFICATE-----/, says: "a PEM certificate chain" }, description: "PEM certificate for the gateway; with gatewayTlsKey the program creates the TLS Secret from them." },
  gatewayTlsKey: { type: "string", default: "", secret: true, pattern: { re: /^$|-----BEGIN [A-Z ]*PRIVATE KEY-----/, says: "a PEM private key" }, description: "PEM private key for gatewayTlsCert (set it with --secret)." },
  grafanaAdminPassword: { type: "string", default: "", secret: true, pattern: { re: /^$|^.{12,}$/, says: "at least 12 characters" }, description: "Grafana admin password (set it with --secret); empty = a generated password, kept in the grafana-admin Secret." },
  gatewayAuth: { type: "string", default: "api-key", oneOf: ["api-key"], description: "Client authentication at the gateway (API keys; JWT issuers are not configurable from the stack yet)." },
  gatewayApiKeyHashes: { type: "array", default: [], hideInvalid: true, pattern: { re: /^[0-9a-f]{64}$/, says: "sha256 hex digests of API keys" }, description: "SHA-256 hashes of API keys that may call every endpoint (api-key auth); the keys themselves never enter config." },
  gatewayApiKeys: {
    type: "array",
    default: [],
    hideInvalid: true,
    pattern: { re: API_KEY_ENTRY_RE, says: "<key-id>:<sha256 hex>:<endpoint>[,<endpoint>…] or <key-id>:<sha256 hex>:* (key id 1–64 of A-Za-z0-9._-)" },
    description: "API keys scoped to endpoints, as <key-id>:<sha256>:<endpoint>,<endpoint>… (* = every endpoint); the gateway answers 403 on any other endpoint. Changes reach running gateways without a restart.",
  },
  controllerImage: { type: "string", default: "", description: "APA controller image reference; empty = build controller/Dockerfile and push it (pinned by digest)." },
  servingImageRepository: {
    type: "string", default: "",
    pattern: { re: /^$|^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)+$/, says: "an image repository without tag or digest, e.g. registry.example.com/team/model-serving" },
    description: "MLflow serving images built ahead of the deploy: the repository pods pull <repository>:<content tag> from (npm run plan -- --stack <s> --dockerfiles <dir> writes each tag's Dockerfile); empty = the program builds them (@pulumi/docker-build) and pushes them to the platform registry, or on local into the local Docker engine.",
  },
  kindLoadImages: { type: "boolean", default: true, description: "local: load each MLflow serving image the program builds into the kind cluster (kind load docker-image, run by `pulumi up` on this machine after the build and before the version's Deployment; kind must be on PATH); false = the cluster gets the images by other means (a local registry, a cluster sharing the Docker engine's images)." },
  kindCluster: { type: "string", default: "", pattern: { re: /^$|^[a-z0-9.-]+$/, says: "a kind cluster name (kind's rule: ^[a-z0-9.-]+$)" }, description: "local: the kind cluster the serving images are loaded into (kind load docker-image --name <it>); empty = the <name> of kubeContext kind-<name>." },
  imageDigests: { type: "array", default: [], pattern: { re: /^[a-zA-Z]+=sha256:[0-9a-f]{64}$/, says: "role=sha256:<64 hex> (roles in components/images.ts)" }, description: "Digest pins for images whose digest is not in components/images.ts." },
  nodeModelCache: { type: "boolean", default: true, description: "Cache model files on each node (hostPath keyed by digest) so a second pod on a node skips the download." },
  localModelStore: { type: "string", default: "minio", oneOf: ["minio", "external"], description: "local: the model store — an in-cluster MinIO the program deploys, or an external S3-compatible server (no chart, nothing to pull)." },
  localModelStoreUrl: { type: "string", default: "", pattern: { re: /^$|^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, says: "an http(s)://host[:port] URL" }, description: "local, external store: its S3 endpoint URL as pods reach it (e.g. http://172.18.0.1:9000 for a server on the kind network's gateway)." },
  localModelStoreBucket: { type: "string", default: "models", pattern: { re: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, says: "an S3 bucket name" }, description: "local: the model bucket (external store: it must exist and hold <endpoint>/<version>/ prefixes)." },
  localModelStoreRegion: { type: "string", default: "us-east-1", pattern: { re: /^[a-z0-9-]+$/, says: "a region name" }, description: "local, external store: the signing region the server expects." },
  localModelStoreAccessKeyId: { type: "string", default: "", description: "local, external store: access key of a read-only credential every endpoint uses (the store's own policy scopes it)." },
  localModelStoreSecretAccessKey: { type: "string", default: "", secret: true, description: "local, external store: the secret key of localModelStoreAccessKeyId (set it with --secret)." },
  localPayloadLogAccessKeyId: { type: "string", default: "", description: "local, external store: access key the gateway writes payload logs with; the store's policy should allow it s3:PutObject on <bucket>/payload-logs/* and nothing else (required when an endpoint logs payloads)." },
  localPayloadLogSecretAccessKey: { type: "string", default: "", secret: true, description: "local, external store: the secret key of localPayloadLogAccessKeyId (set it with --secret)." },
  localStoreSecretSeed: { type: "string", default: "", secret: true, pattern: { re: /^$|^.{16,}$/, says: "at least 16 characters" }, description: "local: seed the in-cluster store's credentials are derived from (set it with --secret); empty = a generated seed, kept encrypted in the stack's state." },
  mlflowTrackingUri: { type: "string", default: "", pattern: { re: /^$|^https?:\/\/[^\s]+$/, says: "an http(s):// URL of an MLflow tracking server" }, description: "MLflow tracking server that resolves models:/ and runs:/ model references (the Model Registry REST API)." },
  mlflowTrackingToken: { type: "string", default: "", secret: true, description: "Bearer token for mlflowTrackingUri, when the server requires one (set it with --secret)." },
  pythonPackageIndexUrl: { type: "string", default: "https://pypi.org/simple/", pattern: { re: /^$|^https?:\/\/\S+$/, says: "an http(s):// URL of a Simple Repository API, or \"\" to skip the check" }, description: "Python package index (Simple Repository API) the serving images install from: each MLflow model's pinned requirements are checked against it at preview; empty = not checked." },
  exampleLlmUri: { type: "string", default: "", pattern: { re: /^$|^\S+$/, says: "a model reference (models:/…, runs:/…, s3://…, gs://… or a directory)" }, description: "GPU stacks: the model the example endpoint llm-chat serves (a Hugging Face causal LM: config.json + safetensors); empty = the tiny example LLM shipped in examples/models/tiny-llm, published by the program." },
  exampleCustomImage: { type: "string", default: "", pattern: { re: EXAMPLE_CUSTOM_IMAGE_RE, says: "\"\" or an image reference pinned by version tag or sha256 digest (not ':latest', not untagged), e.g. ghcr.io/acme/support-agent:1.4.2" }, description: "The example endpoint support-agent (custom runtime: your image serves HTTP on port 8080 and Prometheus metrics on 9090 at /metrics, readiness at /healthz, the model files at /models/current): the image it runs; empty = no support-agent (the example set then runs only images the program builds or pins)." },
  modelPublishUrl: { type: "string", default: "", pattern: { re: /^$|^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, says: "an http(s)://host[:port] URL" }, description: "local: the S3 URL at which `pulumi up` (on this machine) reaches the model store to publish models (in-cluster MinIO: its NodePort through kind's port mapping, e.g. http://127.0.0.1:30900; external store: default localModelStoreUrl)." },
  modelPublishAccessKeyId: { type: "string", default: "", description: "local, external store: access key with write access for publishing models (empty = the AWS SDK's default credentials from the environment)." },
  modelPublishSecretAccessKey: { type: "string", default: "", secret: true, description: "local, external store: the secret key of modelPublishAccessKeyId (set it with --secret)." },
  modelCacheNoncurrentDays: { type: "integer", default: 30, range: [1, 3650], description: "Days before non-current model object versions are deleted." },
  observability: { type: "boolean", default: true, description: "Install kube-prometheus-stack, the OpenTelemetry collector and dashboards." },
  tracesExporterEndpoint: { type: "string", default: "", pattern: { re: /^$|^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[\w.\/-]*)?$/, says: "an http(s)://host[:port][/path] URL" }, description: "OTLP endpoint the OpenTelemetry collector exports traces to: a tracing backend such as Tempo (http://tempo.tempo.svc:4318), Jaeger (http://jaeger-collector.jaeger.svc:4318) or a vendor's https URL; empty = the collector's debug exporter (its log)." },
  tracesExporterProtocol: { type: "string", default: "http", oneOf: ["http", "grpc"], description: "Protocol of tracesExporterEndpoint: http (OTLP/HTTP, /v1/traces is appended) or grpc (OTLP/gRPC; an http:// endpoint is plain text, https:// uses TLS)." },
  tracesExporterHeaders: { type: "string", default: "", secret: true, pattern: { re: /^$|^\{[\s\S]*\}$/, says: "a JSON object of header name to value" }, description: "Headers sent with every trace export, a JSON object such as {\"authorization\":\"Bearer …\"} (a vendor's API key; set it with --secret). Kept in a Secret, not in the collector's config." },
  metricsServer: { type: "boolean", default: true, description: "Install metrics-server (EKS add-on, chart on local; GKE has its own): the gateway HPA and the controller's pod metrics need it." },
  adminPrincipalArns: { type: "array", default: [], pattern: { re: /^arn:aws:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/, says: "IAM role or user ARNs" }, description: "aws: IAM principals (e.g. the CI deploy role, your SSO admin role) given cluster-admin access entries, beside the identity that creates the cluster." },
  apiServerAuthorizedCidrs: { type: "array", default: [], pattern: { re: /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, says: "IPv4 CIDRs" }, description: "aws/gcp: CIDRs allowed to reach the public Kubernetes API endpoint; empty = any address (the API still requires credentials)." },
  gpuZones: { type: "array", default: [], pattern: { re: /^[a-z]+-[a-z]+\d+-[a-z]$/, says: "zone names such as europe-west4-b" }, description: "gcp: zones of the GPU pool; empty = the zones of the region known to offer the pool's GPU (components/catalog.ts)." },
  gpuReservation: { type: "string", default: "", pattern: { re: /^$|^[a-z]([-a-z0-9]*[a-z0-9])?$/, says: "a Compute Engine reservation name" }, description: "gcp: a specific reservation the GPU pool's nodes consume (empty = on-demand capacity)." },
} as const satisfies Record<string, ConfigKeySpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

/** The validated, typed stack configuration. */
export interface StackConfig {
  readonly stack: string;
  readonly cloud: Cloud;
  readonly environment: "dev" | "staging" | "prod";
  readonly kubeContext: string;
  readonly region: string;
  readonly gcpProject: string;
  readonly gcpProjectNumber: string;
  readonly kubernetesVersion: string;
  readonly cpuMachineType: string;
  readonly cpuNodesMin: number;
  readonly cpuNodesMax: number;
  readonly gpuMachineType: string;
  readonly gpuNodesMin: number;
  readonly gpuNodesMax: number;
  readonly gpuAmiFamily: "al2023" | "bottlerocket";
  readonly warmPoolReplicas: number;
  readonly gatewayReplicasMin: number;
  readonly gatewayReplicasMax: number;
  readonly gatewayHost: string;
  /** Existing TLS Secret ("" = the program creates one). */
  readonly gatewayTlsSecret: string;
  readonly gatewayTlsCert: string;
  readonly gatewayTlsKey: string;
  readonly grafanaAdminPassword: string;
  readonly gatewayAuth: "api-key";
  readonly gatewayApiKeyHashes: readonly string[];
  readonly gatewayApiKeys: readonly string[];
  readonly controllerImage: string;
  readonly servingImageRepository: string;
  /** local: load the serving images the program builds into kind. */
  readonly kindLoadImages: boolean;
  /** local: the kind cluster to load them into ("" = the one kubeContext names). */
  readonly kindCluster: string;
  readonly imageDigests: Readonly<Record<string, string>>;
  readonly nodeModelCache: boolean;
  readonly localModelStore: "minio" | "external";
  readonly localModelStoreUrl: string;
  readonly localModelStoreBucket: string;
  readonly localModelStoreRegion: string;
  readonly localModelStoreAccessKeyId: string;
  readonly localModelStoreSecretAccessKey: string;
  readonly localPayloadLogAccessKeyId: string;
  readonly localPayloadLogSecretAccessKey: string;
  readonly localStoreSecretSeed: string;
  readonly mlflowTrackingUri: string;
  readonly mlflowTrackingToken: string;
  readonly pythonPackageIndexUrl: string;
  readonly exampleLlmUri: string;
  /** The image of the example endpoint support-agent ("" = the endpoint is not declared). */
  readonly exampleCustomImage: string;
  readonly modelPublishUrl: string;
  readonly modelPublishAccessKeyId: string;
  readonly modelPublishSecretAccessKey: string;
  readonly modelCacheNoncurrentDays: number;
  readonly observability: boolean;
  readonly tracesExporterEndpoint: string;
  readonly tracesExporterProtocol: "http" | "grpc";
  /** Header name → value (parsed from the JSON key). */
  readonly tracesExporterHeaders: Readonly<Record<string, string>>;
  readonly metricsServer: boolean;
  readonly adminPrincipalArns: readonly string[];
  readonly apiServerAuthorizedCidrs: readonly string[];
  readonly gpuZones: readonly string[];
  readonly gpuReservation: string;
}

const DEFAULT_CPU = DEFAULT_CPU_MACHINE;

function describe(spec: ConfigKeySpec): string {
  if (spec.oneOf) return spec.oneOf.map((v) => (v === "" ? '""' : v)).join(", ");
  if (spec.range) return `an integer from ${spec.range[0]} to ${spec.range[1]}`;
  if (spec.type === "boolean") return "true, false";
  if (spec.pattern) return spec.type === "array" ? `a list of ${spec.pattern.says}` : spec.pattern.says;
  return `a ${spec.type}`;
}

/**
 * Parses raw config (`autopilot-serving:<key>` → string, as Pulumi passes it) into a StackConfig.
 * Throws a DeclarationError naming every bad key, its value and what is allowed.
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stack: string, secretKeys?: ReadonlySet<string>): StackConfig {
  const errors: FieldError[] = [];
  const out: Record<string, unknown> = {};
  const bad = (key: string, value: unknown, allowed: string, reason?: string) =>
    errors.push({ subject: `${PROJECT}:${key}`, field: key, value, allowed, ...(reason !== undefined ? { reason } : {}) });

  for (const k of Object.keys(raw)) {
    const [ns, key] = k.split(":");
    if (ns === PROJECT && key !== undefined && !(key in CONFIG_SCHEMA)) bad(key, raw[k], `one of the keys ${Object.keys(CONFIG_SCHEMA).join(", ")}`, "unknown key");
  }
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as [string, ConfigKeySpec][]) {
    const text = raw[`${PROJECT}:${key}`];
    if (text === undefined) {
      out[key] = spec.default;
      continue;
    }
    let value: unknown = text;
    // Never echo a secret's value in an error.
    const shown = spec.secret === true ? "[secret]" : spec.hideInvalid === true ? "[not shown: it may hold a credential]" : text;
    // The Pulumi runtime tells which values were stored encrypted; a secret kept in plain text is refused.
    if (spec.secret === true && text !== "" && secretKeys !== undefined && !secretKeys.has(`${PROJECT}:${key}`)) {
      bad(key, shown, `a value set with \`pulumi config set --secret ${key}\``, "stored in plain text in the stack file");
      continue;
    }
    if (spec.type === "integer") {
      value = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
      if (!Number.isInteger(value) || (spec.range && ((value as number) < spec.range[0] || (value as number) > spec.range[1]))) {
        bad(key, shown, describe(spec));
        continue;
      }
    } else if (spec.type === "boolean") {
      if (text !== "true" && text !== "false") {
        bad(key, shown, describe(spec));
        continue;
      }
      value = text === "true";
    } else if (spec.type === "array") {
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || (spec.pattern && !spec.pattern.re.test(v)))) {
        bad(key, shown, describe(spec));
        continue;
      }
    } else if ((spec.oneOf && !spec.oneOf.includes(text)) || (spec.pattern && !spec.pattern.re.test(text))) {
      bad(key, shown, describe(spec));
      continue;
    }
    out[key] = value;
  }
  if (errors.length > 0) throw new DeclarationError("config key", errors);

  // Cross-key rules.
  const cloud = out.cloud as Cloud;
  if (cloud !== "local" && out.region === "") bad("region", "", `a region name (required when cloud is ${cloud})`);
  if (cloud === "gcp" && out.gcpProject === "") bad("gcpProject", "", "a GCP project id (required when cloud is gcp)");
  if (cloud === "gcp" && out.gcpProjectNumber === "") bad("gcpProjectNumber", "", "the numeric project number (required when cloud is gcp)");
  if (cloud === "local" && out.controllerImage === "") bad("controllerImage", "", "an image reference loaded into the cluster (required when cloud is local: there is no registry to push a build to)");
  const minio = cloud === "local" && out.localModelStore === "minio";
  if (cloud === "local" && out.localModelStore === "external") {
    if (out.localModelStoreUrl === "") bad("localModelStoreUrl", "", "the external store's S3 endpoint URL (required when localModelStore is external)");
    if (out.localModelStoreAccessKeyId === "" || out.localModelStoreSecretAccessKey === "") {
      bad(out.localModelStoreAccessKeyId === "" ? "localModelStoreAccessKeyId" : "localModelStoreSecretAccessKey", "", "a read-only credential of the external store (required when localModelStore is external)");
    }
  }
  if ((out.localPayloadLogAccessKeyId === "") !== (out.localPayloadLogSecretAccessKey === "")) {
    bad(out.localPayloadLogAccessKeyId === "" ? "localPayloadLogAccessKeyId" : "localPayloadLogSecretAccessKey", "", "a value when the other of localPayloadLogAccessKeyId / localPayloadLogSecretAccessKey is set (both or neither)");
  }
  if (minio && out.localPayloadLogAccessKeyId !== "") bad("localPayloadLogAccessKeyId", out.localPayloadLogAccessKeyId, `"" with the in-cluster store (it creates the gateway's writer user itself)`);
  const onlyOn = (key: ConfigKey, clouds: readonly Cloud[], what: string) => {
    const spec: ConfigKeySpec = CONFIG_SCHEMA[key];
    if (!clouds.includes(cloud) && JSON.stringify(out[key]) !== JSON.stringify(spec.default)) bad(key, spec.secret === true ? "[secret]" : out[key], `${JSON.stringify(spec.default)} (${what})`);
  };
  for (const k of ["localModelStore", "localModelStoreUrl", "localModelStoreAccessKeyId", "localModelStoreSecretAccessKey", "localPayloadLogAccessKeyId", "localPayloadLogSecretAccessKey"] as const) onlyOn(k, ["local"], "only the local cloud has a choice of model store");
  for (const k of ["modelPublishUrl", "modelPublishAccessKeyId", "modelPublishSecretAccessKey"] as const) onlyOn(k, ["local"], "aws and gcp publish with the deployer's own cloud credentials");
  onlyOn("adminPrincipalArns", ["aws"], "EKS access entries exist only on aws");
  onlyOn("gpuZones", ["gcp"], "only gcp places the GPU pool by zone");
  onlyOn("gpuReservation", ["gcp"], "reservations are configured for gcp only");
  onlyOn("apiServerAuthorizedCidrs", ["aws", "gcp"], "the local cloud uses an existing cluster");
  if (out.gatewayTlsSecret !== "" && out.gatewayTlsCert !== "") bad("gatewayTlsSecret", out.gatewayTlsSecret, `"" when gatewayTlsCert is set (the program creates the Secret from the certificate) — set one of the two`);
  onlyOn("kindCluster", ["local"], "only the local cloud loads images into kind");
  // (A local stack that builds serving images with neither kindCluster nor a kind-<name> kubeContext fails in
  // prepareStack, infra/program.ts: only there is it known whether any image is built.)
  const contextCluster = kindClusterOfContext(out.kubeContext as string);
  if (cloud === "local" && out.kindCluster !== "" && contextCluster !== undefined && out.kindCluster !== contextCluster) {
    bad("kindCluster", out.kindCluster, `"" or "${contextCluster}" (kubeContext ${String(out.kubeContext)} is the kind cluster ${contextCluster}: the images are loaded into the cluster the stack deploys to)`);
  }
  if (cloud !== "local" && out.kubeContext !== "") bad("kubeContext", out.kubeContext, `"" (only the local cloud uses a kubeconfig context)`);
  if (out.cpuMachineType === "") out.cpuMachineType = DEFAULT_CPU[cloud];
  const machines = MACHINES[cloud];
  const cpuShape = machines[out.cpuMachineType as string];
  if (cpuShape === undefined || cpuShape.gpu !== undefined) {
    bad("cpuMachineType", out.cpuMachineType, Object.entries(machines).filter(([, s]) => !s.gpu).map(([n]) => n).join(", "));
  }
  if (out.gpuMachineType !== "") {
    const gpuShape = machines[out.gpuMachineType as string];
    if (gpuShape?.gpu === undefined) {
      const gpuMachines = Object.entries(machines).filter(([, s]) => s.gpu).map(([n]) => n);
      bad("gpuMachineType", out.gpuMachineType, gpuMachines.length > 0 ? `"" or ${gpuMachines.join(", ")}` : `"" (cloud ${cloud} has no GPU machine types)`);
    }
  }
  const gpuType = out.gpuMachineType !== "" ? machines[out.gpuMachineType as string]?.gpu?.type : undefined;
  if (cloud === "gcp" && gpuType !== undefined && (out.gpuZones as string[]).length === 0 && (GKE_GPU_ZONES[out.region as string]?.[gpuType] ?? []).length === 0) {
    bad("gpuZones", [], `the zones of ${String(out.region)} that offer ${gpuType} (none is known to components/catalog.ts; list them with gcloud compute accelerator-types list --filter="zone ~ ${String(out.region)}")`);
  }
  if ((out.cpuNodesMin as number) > (out.cpuNodesMax as number)) bad("cpuNodesMin", out.cpuNodesMin, `≤ cpuNodesMax (${out.cpuNodesMax})`);
  if ((out.gpuNodesMin as number) > (out.gpuNodesMax as number)) bad("gpuNodesMin", out.gpuNodesMin, `≤ gpuNodesMax (${out.gpuNodesMax})`);
  if ((out.gatewayReplicasMin as number) > (out.gatewayReplicasMax as number)) bad("gatewayReplicasMin", out.gatewayReplicasMin, `≤ gatewayReplicasMax (${out.gatewayReplicasMax})`);
  if ((out.gatewayTlsCert === "") !== (out.gatewayTlsKey === "")) {
    bad(out.gatewayTlsCert === "" ? "gatewayTlsCert" : "gatewayTlsKey", "", "a PEM value when the other of gatewayTlsCert / gatewayTlsKey is set (both or neither)");
  }
  if (out.gatewayAuth === "api-key" && (out.gatewayApiKeyHashes as string[]).length === 0 && (out.gatewayApiKeys as string[]).length === 0) {
    bad("gatewayApiKeys", [], "at least one key (here, or a hash in gatewayApiKeyHashes) when gatewayAuth is api-key (the gateway requires auth)");
  }
  const ids = new Set<string>();
  for (const k of parseScopedApiKeys(out.gatewayApiKeys as string[])) {
    if (ids.has(k.id)) bad("gatewayApiKeys", k.id, "key ids used once each");
    ids.add(k.id);
  }
  let traceHeaders: Record<string, string> = {};
  if (out.tracesExporterHeaders !== "") {
    let parsed: unknown;
    try { parsed = JSON.parse(out.tracesExporterHeaders as string); } catch { parsed = undefined; }
    const ok = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) &&
      Object.entries(parsed as object).every(([k, v]) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/.test(k) && typeof v === "string" && !/[\r\n]/.test(v));
    if (!ok) bad("tracesExporterHeaders", "[secret]", "a JSON object of HTTP header names (1..64 token characters) to string values without line breaks");
    else traceHeaders = parsed as Record<string, string>;
    if (out.tracesExporterEndpoint === "") bad("tracesExporterHeaders", "[secret]", `"" when tracesExporterEndpoint is empty (headers go with an OTLP exporter)`);
  }
  if (out.tracesExporterEndpoint !== "" && out.observability !== true) bad("tracesExporterEndpoint", out.tracesExporterEndpoint, `"" when observability is false (no collector is deployed)`);
  if (out.tracesExporterProtocol === "grpc" && out.tracesExporterEndpoint !== "" && /^https?:\/\/[^/]+\/./.test(out.tracesExporterEndpoint as string)) {
    bad("tracesExporterEndpoint", out.tracesExporterEndpoint, "http(s)://host:port without a path (OTLP/gRPC has none)");
  }
  if (errors.length > 0) throw new DeclarationError("config key", errors);

  const digests: Record<string, string> = {};
  for (const pair of out.imageDigests as string[]) {
    const [role, digest] = pair.split("=") as [string, string];
    digests[role] = digest;
  }
  return { ...(out as Omit<StackConfig, "stack" | "imageDigests" | "tracesExporterHeaders">), stack, imageDigests: digests, tracesExporterHeaders: traceHeaders } as StackConfig;
}
