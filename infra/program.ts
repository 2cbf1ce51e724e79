/**
 * The Pulumi program as functions: read and validate the stack config; resolve every endpoint's model (registry,
 * run, store or directory: flavor, size, version label and digest come from the model's files) and plan it
 * (`prepareStack`; no resource exists until all of that passed); then build the platform, publishing each model
 * version into the cache, and return the stack outputs (`runProgram`).
 * `infra/index.ts` runs them under the Pulumi engine; `infra/evaluate.ts` under mocks.
 */
import { PackageIndexError, type UnresolvedRequirement, unresolvedRequirements } from "../components/model/package-index.ts";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { controllerContract } from "../components/controller/controller-contract.ts";
import type { EndpointDeclaration, ResolvedEndpoint } from "../components/endpoint-types.ts";
import { kindClusterOfContext } from "../components/model/kind-load.ts";
import { type ModelVersionSource, resolveEndpoints } from "../components/model/resolve-endpoints.ts";
import type { FetchContext } from "../components/model/sources/fetch-model.ts";
import { planServingImages, type ServingImagePlan } from "../components/model/serving-image.ts";
import { DeclarationError, type FieldError } from "../components/types.ts";
import type { GatewayTls } from "../components/gateway/gateway.ts";
import { platformExports, type PlatformStackOutputs } from "../components/platform/platform-reference.ts";
import { type PoolDeclaration, poolSpecs, type PoolSpec, ServingPlatform } from "../components/platform/serving-platform.ts";
import { type PlannedEndpoint, planEndpoints } from "../components/validate-endpoints.ts";
import { parseScopedApiKeys, parseStackConfig, PROJECT, type ScopedApiKey, type StackConfig } from "./config-schema.ts";
import { declareEndpoints, type EndpointContext } from "./endpoints.ts";

/** Repository root (the controller image's build context). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Reads this stack's config from the Pulumi runtime and validates it. */
export function readStackConfig(): StackConfig {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(pulumi.runtime.allConfig())) if (k.startsWith(`${PROJECT}:`)) raw[k] = v;
  // Which values the CLI passed as secrets (PULUMI_CONFIG_SECRET_KEYS); the SDK exports the reader but not its type.
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret;
  return parseStackConfig(raw, pulumi.getStack(), new Set(Object.keys(raw).filter((k) => isSecret(k))));
}

/** The pools a config declares: the CPU pool, and the GPU pool when `gpuMachineType` is set. */
export function stackPools(cfg: StackConfig): PoolDeclaration[] {
  const pools: PoolDeclaration[] = [{ name: "cpu", kind: "cpu", machineType: cfg.cpuMachineType, minNodes: cfg.cpuNodesMin, maxNodes: cfg.cpuNodesMax }];
  if (cfg.gpuMachineType !== "") pools.push({ name: "gpu", kind: "gpu", machineType: cfg.gpuMachineType, minNodes: cfg.gpuNodesMin, maxNodes: cfg.gpuNodesMax });
  return pools;
}

/** What the program builds: pools, planned endpoints, the model versions to publish and the serving images. */
export interface StackPlan {
  readonly pools: PoolSpec[];
  readonly endpoints: PlannedEndpoint[];
  readonly models: Readonly<Record<string, readonly ModelVersionSource[]>>;
  readonly images: ServingImagePlan;
}

/** How models are fetched for this stack: its MLflow tracking server, relative directories from the project root. */
export function fetchContext(cfg: StackConfig): FetchContext {
  return {
    cwd: REPO_ROOT,
    ...(cfg.pythonPackageIndexUrl !== "" ? { packageIndex: cfg.pythonPackageIndexUrl } : {}),
    ...(cfg.mlflowTrackingUri !== "" ? { registry: { trackingUri: cfg.mlflowTrackingUri, ...(cfg.mlflowTrackingToken !== "" ? { token: cfg.mlflowTrackingToken } : {}) } } : {}),
  };
}

/**
 * Resolves every endpoint's model and plans the stack; throws one DeclarationError listing every bad endpoint.
 * `fetch` overrides how models are fetched (tests point it at their own registry or cache); `edit` changes the
 * resolved endpoints before planning (a seam for tests that render exact versions and digests).
 */
export async function prepareStack(
  cfg: StackConfig,
  declare: (ctx: EndpointContext) => EndpointDeclaration[] = declareEndpoints,
  fetch: FetchContext = fetchContext(cfg),
  edit?: (resolved: ResolvedEndpoint[]) => ResolvedEndpoint[],
): Promise<StackPlan> {
  const pools = poolSpecs(cfg.cloud, stackPools(cfg));
  const gpuPool = pools.find((p) => p.placement.kind === "gpu")?.placement;
  const decls = declare({ environment: cfg.environment, ...(gpuPool !== undefined ? { gpuPool } : {}), ...(cfg.exampleLlmUri !== "" ? { llmUri: cfg.exampleLlmUri } : {}), ...(cfg.exampleCustomImage !== "" ? { customImage: cfg.exampleCustomImage } : {}) });
  const resolved = await resolveEndpoints(decls, fetch);
  const edited = edit !== undefined ? edit(resolved.endpoints) : resolved.endpoints;
  const endpoints = planEndpoints(edited, pools.map((p) => p.placement), cfg.imageDigests);
  const images = planServingImages(endpoints.map((e) => {
    const versions = (resolved.models[e.decl.name] ?? []).filter((m) => e.decl.versions.some((v) => v.version === m.version));
    return { name: e.decl.name, runtimeKind: e.plan.kind, ownImage: e.decl.runtime?.image !== undefined, versions, fields: versions.map((v) => v.field) };
  }), cfg.imageDigests);
  // Checked before any resource exists: payload logs on an external local store need the writer's own key.
  if (cfg.cloud === "local" && cfg.localModelStore === "external" && cfg.localPayloadLogAccessKeyId === "" && endpoints.some((e) => e.decl.payloadLogging !== undefined)) {
    throw new DeclarationError("config key", [{
      subject: `${PROJECT}:localPayloadLogAccessKeyId`, field: "localPayloadLogAccessKeyId", value: "",
      allowed: `a key of the external store allowed s3:PutObject on ${cfg.localModelStoreBucket}/payload-logs/* (required: ${endpoints.filter((e) => e.decl.payloadLogging !== undefined).map((e) => e.decl.name).join(", ")} log payloads)`,
    }]);
  }
  if (images.errors.length > 0) throw new DeclarationError("endpoint", images.errors);
  // Checked before any resource exists: a local stack that builds serving images must know the kind cluster to load them into.
  const built = Object.keys(images.plan.images);
  if (cfg.cloud === "local" && cfg.kindLoadImages && cfg.servingImageRepository === "" && built.length > 0 && cfg.kindCluster === "" && kindClusterOfContext(cfg.kubeContext) === undefined) {
    throw new DeclarationError("config key", [{
      subject: `${PROJECT}:kindCluster`, field: "kindCluster", value: "",
      allowed: `the kind cluster to load the serving images into (required: kubeContext ${JSON.stringify(cfg.kubeContext)} is not a kind context kind-<name>, and the program builds the serving images ${built.join(", ")}), or kindLoadImages false when the cluster gets them by other means`,
    }]);
  }
  if (fetch.packageIndex !== undefined) {
    const unresolved = await unresolvedImageRequirements(images.plan, resolved.models, fetch.packageIndex);
    if (unresolved.length > 0) throw new DeclarationError("endpoint", unresolved);
  }
  return { pools, endpoints, models: resolved.models, images: images.plan };
}

/** Every serving image's pinned requirements the package index cannot satisfy, as errors of the versions that need them. */
async function unresolvedImageRequirements(plan: ServingImagePlan, models: StackPlan["models"], index: string): Promise<FieldError[]> {
  let unresolved: UnresolvedRequirement[];
  try {
    unresolved = await unresolvedRequirements(Object.values(plan.images).flatMap((i) => i.requirements), index);
  } catch (e) {
    if (!(e instanceof PackageIndexError)) throw e;
    throw new DeclarationError("config key", [{ subject: `${PROJECT}:pythonPackageIndexUrl`, field: "pythonPackageIndexUrl", value: index, allowed: "a reachable Python package index (Simple Repository API), or \"\" to skip the check", reason: e.message }]);
  }
  const errors: FieldError[] = [];
  for (const [endpoint, versions] of Object.entries(plan.byVersion)) {
    for (const [version, tag] of Object.entries(versions)) {
      const src = models[endpoint]?.find((m) => m.version === version);
      for (const u of unresolved.filter((x) => plan.images[tag]!.requirements.includes(x.requirement))) {
        errors.push({ subject: endpoint, field: `${src?.field ?? "model.uri"} (requirements)`, value: u.requirement, allowed: `a release the package index has (the serving image installs it with pip)`, reason: `${src?.resolvedFrom ?? version}: ${u.reason}` });
      }
    }
  }
  return errors;
}

/**
 * `gatewayApiKeys` parsed. A scope may name endpoints of team stacks, which this stack does not know, so names
 * are held to the DNS-label pattern only (config-schema.ts); an unknown name simply matches no endpoint.
 */
export function scopedApiKeys(cfg: StackConfig): ScopedApiKey[] {
  return parseScopedApiKeys(cfg.gatewayApiKeys);
}

/** Stack outputs. */
export interface ProgramOutputs {
  readonly gatewayUrl: pulumi.Output<string>;
  /** The generated gateway certificate to trust (PEM), "" when the stack brings its own. */
  readonly gatewayCaCertificate: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  /** `POST` URL of each endpoint. */
  readonly endpointUrls: Record<string, pulumi.Output<string>>;
  /** What team stacks read with PlatformReference.fromStack (the kubeconfig and the store secret as secrets). */
  readonly platform: PlatformStackOutputs["platform"];
  readonly kubeconfig: pulumi.Output<string>;
  readonly modelStoreSecret: pulumi.Output<string>;
}

/** Builds the platform for `cfg` from its prepared plan. */
export function runProgram(cfg: StackConfig, plan: StackPlan): ProgramOutputs {
  const { endpoints, models } = plan;
  const apiKeys = scopedApiKeys(cfg);
  const tls: GatewayTls = cfg.gatewayTlsCert !== "" ? { kind: "pem", cert: cfg.gatewayTlsCert, key: cfg.gatewayTlsKey }
    : cfg.gatewayTlsSecret !== "" ? { kind: "existing", secretName: cfg.gatewayTlsSecret } : { kind: "generated" };
  const platform = new ServingPlatform("autopilot", {
    cloud: cfg.cloud, region: cfg.region, kubernetesVersion: cfg.kubernetesVersion,
    ...(cfg.kubeContext !== "" ? { kubeContext: cfg.kubeContext } : {}),
    ...(cfg.cloud === "gcp" ? { gcpProject: cfg.gcpProject, gcpProjectNumber: cfg.gcpProjectNumber, gpuZones: cfg.gpuZones, gpuReservation: cfg.gpuReservation } : {}),
    ...(cfg.cloud === "aws" ? { adminPrincipalArns: cfg.adminPrincipalArns } : {}),
    apiServerAuthorizedCidrs: cfg.apiServerAuthorizedCidrs,
    deletionProtection: cfg.environment === "prod",
    forceDestroyBuckets: cfg.environment !== "prod",
    pools: stackPools(cfg), gpuAmiFamily: cfg.gpuAmiFamily, endpoints: endpoints.map((e) => e.decl), models, servingImages: plan.images,
    modelPublish: {
      ...(cfg.modelPublishUrl !== "" ? { url: cfg.modelPublishUrl } : {}),
      ...(cfg.modelPublishAccessKeyId !== "" ? { accessKeyId: cfg.modelPublishAccessKeyId, secretAccessKey: pulumi.secret(cfg.modelPublishSecretAccessKey) } : {}),
    },
    warmPoolReplicas: cfg.warmPoolReplicas, nodeCache: cfg.nodeModelCache, noncurrentDays: cfg.modelCacheNoncurrentDays,
    ...(cfg.cloud === "local"
      ? { localStore: cfg.localModelStore === "minio"
        ? { kind: "minio" as const, bucket: cfg.localModelStoreBucket, ...(cfg.localStoreSecretSeed !== "" ? { secretSeed: pulumi.secret(cfg.localStoreSecretSeed) } : {}) }
        : {
          kind: "external" as const, url: cfg.localModelStoreUrl, bucket: cfg.localModelStoreBucket, region: cfg.localModelStoreRegion, accessKeyId: cfg.localModelStoreAccessKeyId, secretAccessKey: pulumi.secret(cfg.localModelStoreSecretAccessKey),
          ...(cfg.localPayloadLogAccessKeyId !== "" ? { payloadWriter: { accessKeyId: cfg.localPayloadLogAccessKeyId, secretAccessKey: pulumi.secret(cfg.localPayloadLogSecretAccessKey) } } : {}),
        } }
      : {}),
    observability: cfg.observability, metricsServer: cfg.metricsServer,
    ...(cfg.tracesExporterEndpoint !== ""
      ? { traces: { endpoint: cfg.tracesExporterEndpoint, protocol: cfg.tracesExporterProtocol, headers: Object.fromEntries(Object.entries(cfg.tracesExporterHeaders).map(([k, v]) => [k, pulumi.secret(v)])) } }
      : {}),
    gateway: { replicasMin: cfg.gatewayReplicasMin, replicasMax: cfg.gatewayReplicasMax, host: cfg.gatewayHost, apiKeyHashes: cfg.gatewayApiKeyHashes, apiKeys, tls },
    ...(cfg.grafanaAdminPassword !== "" ? { grafanaAdminPassword: cfg.grafanaAdminPassword } : {}),
    controllerImage: cfg.controllerImage, repoRoot: REPO_ROOT, servingImageRepository: cfg.servingImageRepository,
    ...(cfg.cloud === "local" ? { kindCluster: cfg.kindLoadImages ? cfg.kindCluster || (kindClusterOfContext(cfg.kubeContext) ?? "") : "" } : {}),
    controllerContract: controllerContract(),
    imageDigests: cfg.imageDigests,
  });
  const endpointUrls: Record<string, pulumi.Output<string>> = {};
  for (const e of endpoints) endpointUrls[e.decl.name] = pulumi.interpolate`${platform.gatewayUrl}/serving-endpoints/${e.decl.name}/invocations`;
  return { gatewayUrl: platform.gatewayUrl, gatewayCaCertificate: platform.gatewayCaCertificate, grafanaUrl: platform.grafanaUrl, endpointUrls, ...platformExports(platform) };
}
