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
import { poolPlacement } from "../components/node-pool/node-pool-spec.ts";
import { type PoolSpec, ServingPlatform } from "../components/platform/serving-platform.ts";
import { type PlannedEndpoint, planEndpoints } from "../components/validate-endpoints.ts";
import { parseStackConfig, PROJECT, type StackConfig } from "./config-schema.ts";
import { declareEndpoints, type EndpointContext } from "./endpoints.ts";

/** Repository root (the controller image's build context). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Reads this stack's config from the Pulumi runtime and validates it. */
export function readStackConfig(): StackConfig {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(pulumi.runtime.allConfig())) if (k.startsWith(`${PROJECT}:`)) raw[k] = v;
  return parseStackConfig(raw, pulumi.getStack());
}

/** Pools and planned endpoints of a config (pure; throws DeclarationError on any bad endpoint). */
export function planStack(cfg: StackConfig, declare: (ctx: EndpointContext) => EndpointDeclaration[] = declareEndpoints): { pools: PoolSpec[]; endpoints: PlannedEndpoint[] } {
  const pools: PoolSpec[] = [{
    placement: poolPlacement(cfg.cloud, "cpu", "cpu", cfg.cpuMachineType),
    machineType: cfg.cpuMachineType, minNodes: cfg.cpuNodesMin, maxNodes: cfg.cpuNodesMax,
  }];
  if (cfg.gpuMachineType !== "") {
    pools.push({
      placement: poolPlacement(cfg.cloud, "gpu", "gpu", cfg.gpuMachineType),
      machineType: cfg.gpuMachineType, minNodes: cfg.gpuNodesMin, maxNodes: cfg.gpuNodesMax,
    });
  }
  const gpuPool = pools.find((p) => p.placement.kind === "gpu")?.placement;
  const decls = declare({ environment: cfg.environment, ...(gpuPool !== undefined ? { gpuPool } : {}) });
  return { pools, endpoints: planEndpoints(decls, pools.map((p) => p.placement), cfg.imageDigests) };
}

/** Stack outputs. */
export interface ProgramOutputs {
  readonly gatewayUrl: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  /** `POST` URL of each endpoint. */
  readonly endpointUrls: Record<string, pulumi.Output<string>>;
}

/** Builds the platform for `cfg`. */
export function runProgram(cfg: StackConfig, declare?: (ctx: EndpointContext) => EndpointDeclaration[]): ProgramOutputs {
  const { pools, endpoints } = planStack(cfg, declare);
  const platform = new ServingPlatform("autopilot", {
    cloud: cfg.cloud, region: cfg.region, kubernetesVersion: cfg.kubernetesVersion,
    ...(cfg.kubeContext !== "" ? { kubeContext: cfg.kubeContext } : {}),
    ...(cfg.cloud === "gcp" ? { gcpProject: cfg.gcpProject, gcpProjectNumber: cfg.gcpProjectNumber } : {}),
    deletionProtection: cfg.environment === "prod",
    pools, gpuAmiFamily: cfg.gpuAmiFamily, endpoints,
    warmPoolReplicas: cfg.warmPoolReplicas, nodeCache: cfg.nodeModelCache, noncurrentDays: cfg.modelCacheNoncurrentDays,
    ...(cfg.cloud === "local" ? { localSecretSeed: cfg.localStoreSecretSeed } : {}),
    observability: cfg.observability,
    gateway: {
      replicasMin: cfg.gatewayReplicasMin, replicasMax: cfg.gatewayReplicasMax, host: cfg.gatewayHost, tlsSecret: cfg.gatewayTlsSecret,
      apiKeyHashes: cfg.gatewayApiKeyHashes, ...(cfg.gatewayTlsCert !== "" ? { tlsCert: cfg.gatewayTlsCert, tlsKey: cfg.gatewayTlsKey } : {}),
    },
    ...(cfg.grafanaAdminPassword !== "" ? { grafanaAdminPassword: cfg.grafanaAdminPassword } : {}),
    controllerImage: cfg.controllerImage, repoRoot: REPO_ROOT,
    controllerContract: controllerContract(),
    digestOverrides: cfg.imageDigests,
  });
  const endpointUrls: Record<string, pulumi.Output<string>> = {};
  for (const e of endpoints) endpointUrls[e.decl.name] = pulumi.interpolate`${platform.gatewayUrl}/serving-endpoints/${e.decl.name}/invocations`;
  return { gatewayUrl: platform.gatewayUrl, grafanaUrl: platform.grafanaUrl, endpointUrls };
}
