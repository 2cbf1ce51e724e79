/**
 * Pure mapping from a ServingEndpoint's spec (the contract) to what the engine needs (`EndpointSpec`). No I/O;
 * used by the controller and the simulator-facing tools.
 */
import { resolveRuntime } from "../contract/crd/resolve-runtime.ts";
import type { ServingEndpointSpec } from "../contract/crd/types.ts";
import type { EndpointSpec } from "./types.ts";

/** The engine's view of a (validated, defaulted) spec. */
export function toEndpointSpec(spec: ServingEndpointSpec): EndpointSpec {
  return {
    concurrency: { min: spec.concurrency.min, max: spec.concurrency.max },
    replicas: { min: spec.replicas.min, max: spec.replicas.max },
    provisionedConcurrency: spec.provisionedConcurrency ?? 0,
    scaleToZero: spec.scaleToZero ?? false,
    ...(spec.replicas.desired !== undefined && spec.replicas.desired > 0 ? { scaleSubresourceReplicas: spec.replicas.desired } : {}),
    runtime: resolveRuntime(spec.model, spec.runtime),
    ...(spec.sloP99Ms !== undefined ? { sloP99Ms: spec.sloP99Ms } : {}),
  };
}
