/** The ServingEndpoint custom resource: types, schema, CRD object, validation and engine mapping. */
export * from "./types.ts";
export type { CelRule, OpenApiSchema } from "./openapi-types.ts";
export { servingEndpointSpecSchema, MAX_TRAFFIC_TARGETS } from "./spec-schema.ts";
export { MAX_CONCURRENCY_LIMIT, MAX_REPLICAS_LIMIT, ENDPOINT_NAME_MAX_LENGTH, ENDPOINT_NAME_PATTERN, isEndpointName } from "./limits.ts";
export { servingEndpointStatusSchema } from "./status-schema.ts";
export { servingEndpointCrd, servingEndpointSchema, printerColumns } from "./crd.ts";
export type { PrinterColumn, ServingEndpointCrd } from "./crd.ts";
export { validateServingEndpoint, assertValidServingEndpoint } from "./validate.ts";
export type { ValidationError, ValidationResult } from "./validate.ts";
export { evaluateCelRules, toCelValue } from "./cel-rules.ts";
export type { RuleViolation } from "./cel-rules.ts";
export { resolveRuntime, LLM_PARAMETER_THRESHOLD } from "./resolve-runtime.ts";
