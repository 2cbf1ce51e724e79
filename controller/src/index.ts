/**
 * `autopilot-serving/controller`: what the controller shares with the rest of the platform — the ServingEndpoint
 * CRD (types, schema, limits, validator), labels, names and RBAC — and the APA decision engine (`decide`).
 */
export * from "./contract/crd/index.ts";
export * from "./contract/labels.ts";
export * from "./contract/names.ts";
export * from "./contract/rbac.ts";
export { decide, decisionNeeded, defaultEngineConfig, validateEngineConfig, type EngineConfig } from "./engine/index.ts";
export type { Decision, DecisionInput } from "./engine/types.ts";
