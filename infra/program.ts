/**
 * The Pulumi program as a function: read and validate the stack config, validate and plan every endpoint
 * (no resource exists until all of that passed), then build the platform and return the stack outputs.
 * `infra/index.ts` runs it under the Pulumi engine; `infra/evaluate.ts` runs it under mocks.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { controllerContract } from "../components/controller/controller-contract.ts";
import type { EndpointDeclaration } from "../components/endpoint-types.ts";
import type { GatewayTls } from "../components/gateway/gateway.ts";
import { platformExports, type PlatformStackOutputs } from "../components/platform/platform-reference.ts";
import { type PoolDeclaration, poolSpecs, type PoolSpec, ServingPlatform } from "../components/platform/serving-platform.ts";
import { type PlannedEndpoint, planEndpoints } from "../components/validate-endpoints.ts";
import { parseStackConfig, PROJECT, type StackConfig } from "./config-schema.ts";
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

/** Pools and planned endpoints of a config (pure; throws DeclarationError on any bad endpoint). */
export function planStack(cfg: StackConfig, declare: (ctx: EndpointContext) => EndpointDeclaration[] = declareEndpoints): { pools: PoolSpec[]; endpoints: PlannedEndpoint[]; declarations: EndpointDeclaration[] } {
  const pools = poolSpecs(cfg.cloud, stackPools(cfg));
  const gpuPool = pools.find((p) => p.placement.kind === "gpu")?.placement;
  const declarations = declare({ environment: cfg.environment, ...(gpuPool !== undefined ? { gpuPool } : {}) });
  return { pools, endpoints: planEndpoints(declarations, pools.map((p) => p.placement), cfg.imageDigests), declarations };
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

/** Builds the platform for `cfg`. */
export function runProgram(cfg: StackConfig, declare?: (ctx: EndpointContext) => EndpointDeclaration[]): ProgramOutputs {
  const { endpoints, declarations } = planStack(cfg, declare);
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
    pools: stackPools(cfg), gpuAmiFamily: cfg.gpuAmiFamily, endpoints: declarations,
    warmPoolReplicas: cfg.warmPoolReplicas, nodeCache: cfg.nodeModelCache, noncurrentDays: cfg.modelCacheNoncurrentDays,
    ...(cfg.cloud === "local"
      ? { localStore: cfg.localModelStore === "minio"
        ? { kind: "minio" as const, bucket: cfg.localModelStoreBucket, secretSeed: cfg.localStoreSecretSeed }
        : { kind: "external" as const, url: cfg.localModelStoreUrl, bucket: cfg.localModelStoreBucket, region: cfg.localModelStoreRegion, accessKeyId: cfg.localModelStoreAccessKeyId, secretAccessKey: pulumi.secret(cfg.localModelStoreSecretAccessKey) } }
      : {}),
    observability: cfg.observability, metricsServer: cfg.metricsServer,
    gateway: { replicasMin: cfg.gatewayReplicasMin, replicasMax: cfg.gatewayReplicasMax, host: cfg.gatewayHost, apiKeyHashes: cfg.gatewayApiKeyHashes, tls },
    ...(cfg.grafanaAdminPassword !== "" ? { grafanaAdminPassword: cfg.grafanaAdminPassword } : {}),
    controllerImage: cfg.controllerImage, repoRoot: REPO_ROOT,
    controllerContract: controllerContract(),
    imageDigests: cfg.imageDigests,
  });
  const endpointUrls: Record<string, pulumi.Output<string>> = {};
  for (const e of endpoints) endpointUrls[e.decl.name] = pulumi.interpolate`${platform.gatewayUrl}/serving-endpoints/${e.decl.name}/invocations`;
  return { gatewayUrl: platform.gatewayUrl, gatewayCaCertificate: platform.gatewayCaCertificate, grafanaUrl: platform.grafanaUrl, endpointUrls, ...platformExports(platform) };
}
