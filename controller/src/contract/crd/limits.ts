/**
 * Limits shared by the ServingEndpoint CRD and the gateway: what the API server accepts is what the gateway can
 * serve. One definition: the CRD schema (`spec-schema.ts`, `crd.ts`), the offline validator (`validate.ts`) and
 * the gateway's validation (`controller/src/gateway/validate.ts`) read them from here.
 */

/** An endpoint name is a DNS label: it is a URL segment (`/serving-endpoints/{name}`) and an HAProxy backend name. */
export const ENDPOINT_NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** Longest endpoint name (a DNS label). */
export const ENDPOINT_NAME_MAX_LENGTH = 63;
/** Largest per-pod concurrency: the gateway's per-server `maxconn`. */
export const MAX_CONCURRENCY_LIMIT = 4096;
/** Largest replica bound: the gateway's server slots per endpoint (and keeps CEL cost estimates, max × max, small). */
export const MAX_REPLICAS_LIMIT = 4096;

const NAME_RE = new RegExp(ENDPOINT_NAME_PATTERN);

/** True when `name` may name an endpoint. */
export function isEndpointName(name: unknown): name is string {
  return typeof name === "string" && name.length <= ENDPOINT_NAME_MAX_LENGTH && NAME_RE.test(name);
}
