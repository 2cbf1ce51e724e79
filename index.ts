/**
 * `autopilot-serving`: declare a model-serving platform and its endpoints in a Pulumi program.
 *
 *     const platform = new ServingPlatform("serving", { cloud: "aws", region: "eu-west-1", gateway: { apiKeyHashes } });
 *     await ServingEndpoint.declare("iris", { platform, endpoint: { name: "iris", model: { uri: "models:/iris@champion" }, computePool: "cpu", … } });
 *
 * A team's stack declares endpoints on a platform deployed by another stack:
 *
 *     const platform = await PlatformReference.fromStack("org/platform/prod");
 *
 * More: `autopilot-serving/components` (each component), `autopilot-serving/controller` (the ServingEndpoint CRD,
 * labels, RBAC and the APA decision engine), `autopilot-serving/testing` (Pulumi mocks that record resources).
 */
export {
  ServingPlatform, type GatewaySettings, type PoolDeclaration, type ServingPlatformArgs,
} from "./components/platform/serving-platform.ts";
export {
  PlatformReference, platformExports, type PlatformExports, type PlatformReferenceArgs, type PlatformStackOutputs,
} from "./components/platform/platform-reference.ts";
export { ServingEndpoint, type ServingEndpointArgs } from "./components/endpoint/serving-endpoint.ts";
export type { PlatformLike } from "./components/endpoint/endpoint-platform.ts";
export { resolveEndpoints, type ModelVersionSource, type ResolvedStack } from "./components/model/resolve-endpoints.ts";
export type { FetchContext } from "./components/model/sources/fetch-model.ts";
export { checkDeclaration, planEndpoints, type PlannedEndpoint } from "./components/validate-endpoints.ts";
export * from "./components/endpoint-types.ts";
export { type Cloud, DeclarationError, type FieldError, type PoolPlacement, type Toleration } from "./components/types.ts";
export type { GatewayTls } from "./components/gateway/gateway.ts";
