/**
 * `autopilot-serving` (and `autopilot-serving/components`, the same module): declare a model-serving platform and
 * its endpoints in a Pulumi program.
 *
 *     const platform = new ServingPlatform("serving", { cloud: "aws", region: "eu-west-1", gateway: { apiKeyHashes } });
 *     await ServingEndpoint.declare("iris", { platform, endpoint: { name: "iris", model: { uri: "models:/iris@champion" }, computePool: "cpu", … } });
 *
 * A team's stack declares endpoints on a platform deployed by another stack:
 *
 *     const platform = await PlatformReference.fromStack("org/platform/prod");
 *
 * Every component is exported too, for programs that compose their own platform instead of taking
 * `ServingPlatform` whole, with the declaration types and the planner. More: `autopilot-serving/controller` (the
 * ServingEndpoint CRD, labels, RBAC and the APA decision engine), `autopilot-serving/testing` (Pulumi mocks that
 * record resources).
 */
export { Cluster, type ClusterArgs } from "./cluster/cluster.ts";
export { NodePool, type NodePoolArgs } from "./node-pool/node-pool.ts";
export { poolPlacement } from "./node-pool/node-pool-spec.ts";
export { WarmPool, type WarmPoolArgs } from "./warm-pool/warm-pool.ts";
export { ModelCache, type ModelCacheArgs, type LocalModelStore } from "./model-cache/model-cache.ts";
export { grantStoreRead, type EndpointIdentity, type StoreWiring } from "./model-cache/store-grant.ts";
export { Gateway, type GatewayArgs, type GatewayTls } from "./gateway/gateway.ts";
export { apiKeysFile } from "./gateway/gateway-contract.ts";
export { Observability, type ObservabilityArgs } from "./observability/observability.ts";
export { ApaController, type ApaControllerArgs } from "./controller/apa-controller.ts";
export { controllerContract, type ControllerContract } from "./controller/controller-contract.ts";
export { MetricsServer } from "./platform/metrics-server.ts";
export {
  ServingPlatform, poolSpecs, PACKAGE_ROOT, type GatewaySettings, type PoolDeclaration, type PoolSpec, type ServingPlatformArgs,
} from "./platform/serving-platform.ts";
export {
  PlatformReference, platformExports, PLATFORM_EXPORTS_SCHEMA,
  type PlatformExports, type PlatformReferenceArgs, type PlatformStackOutputs, type StoreReference,
} from "./platform/platform-reference.ts";
export { ServingEndpoint, type ServingEndpointArgs } from "./endpoint/serving-endpoint.ts";
export type { EndpointPlatform, PlatformLike } from "./endpoint/endpoint-platform.ts";
export { resolveEndpoints, type ModelVersionSource, type ResolvedStack } from "./model/resolve-endpoints.ts";
export { ModelPublication, type ModelPublicationArgs } from "./model/model-publication.ts";
export { publishVersion, type PublishRequest, type PublishResult } from "./model/publish.ts";
export type { FetchContext } from "./model/sources/fetch-model.ts";
export { checkDeclaration, planEndpoints, type PlannedEndpoint } from "./validate-endpoints.ts";
export { selectRuntime, type RuntimePlan } from "./runtime/select-runtime.ts";
export * from "./endpoint-types.ts";
export * from "./types.ts";
export { MACHINES, DEFAULT_CPU_MACHINE } from "./catalog.ts";
