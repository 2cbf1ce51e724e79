/** Policy 1: an endpoint's concurrency range is sane and within the platform's cap. */
import { at, num } from "../lib/read.ts";
import { SERVING_ENDPOINT, describe } from "../lib/endpoints.ts";
import type { ResourcePolicyDefinition, Violation } from "../types.ts";

export interface ConcurrencyRangeConfig {
  /** Highest per-pod concurrency (`spec.concurrency.max`) the platform allows. @default 1024 */
  maxConcurrencyCap: number;
}

export const concurrencyRange: ResourcePolicyDefinition<ConcurrencyRangeConfig> = {
  kind: "resource",
  name: "endpoint-concurrency-range",
  description: "Endpoint concurrency range is sane: 1 ≤ min ≤ max ≤ the platform cap, provisioned concurrency reachable.",
  enforcementLevel: "mandatory",
  remediation:
    "Set spec.concurrency to integers with 1 ≤ min ≤ max ≤ the cap (policy config maxConcurrencyCap), and " +
    "spec.provisionedConcurrency ≤ concurrency.max × replicas.max (and 0 when scaleToZero is on).",
  // 1024: an I/O-bound agent holds hundreds of slow requests per pod; beyond that a pod's file descriptors,
  // memory per request and the gateway's per-server queue become the limit, not the model.
  defaults: { maxConcurrencyCap: 1024 },
  configSchema: {
    maxConcurrencyCap: { type: "integer", minimum: 1, default: 1024, description: "Highest per-pod concurrency.max allowed." },
  },
  types: [SERVING_ENDPOINT],
  check: (r, config) => {
    const out: Violation[] = [];
    const who = describe(r);
    const spec = at(r.props, "spec");
    const min = num(at(spec, "concurrency", "min"));
    const max = num(at(spec, "concurrency", "max"));
    if (min === undefined || !Number.isInteger(min)) {
      out.push({ message: `${who}: spec.concurrency.min is ${show(at(spec, "concurrency", "min"))}; it must be an integer ≥ 1.` });
    } else if (min < 1) {
      out.push({ message: `${who}: spec.concurrency.min is ${min}; it must be ≥ 1 (a pod must accept at least one request).` });
    }
    if (max === undefined || !Number.isInteger(max)) {
      out.push({ message: `${who}: spec.concurrency.max is ${show(at(spec, "concurrency", "max"))}; it must be an integer.` });
    } else {
      if (max > config.maxConcurrencyCap) {
        out.push({ message: `${who}: spec.concurrency.max is ${max}; the platform cap is ${config.maxConcurrencyCap}.` });
      }
      if (min !== undefined && min > max) {
        out.push({ message: `${who}: spec.concurrency.min (${min}) is greater than spec.concurrency.max (${max}).` });
      }
    }
    const provisioned = num(at(spec, "provisionedConcurrency")) ?? 0;
    if (at(spec, "scaleToZero") === true && provisioned > 0) {
      out.push({ message: `${who}: spec.provisionedConcurrency is ${provisioned} with scaleToZero; provisioned capacity needs scaleToZero off.` });
    }
    const replicasMax = num(at(spec, "replicas", "max"));
    if (provisioned < 0) {
      out.push({ message: `${who}: spec.provisionedConcurrency is ${provisioned}; it must be ≥ 0.` });
    } else if (max !== undefined && replicasMax !== undefined && provisioned > max * replicasMax) {
      out.push({
        message: `${who}: spec.provisionedConcurrency (${provisioned}) exceeds what the endpoint can ever serve: ` +
          `concurrency.max × replicas.max = ${max} × ${replicasMax} = ${max * replicasMax}.`,
      });
    }
    return out;
  },
};

function show(v: unknown): string {
  return v === undefined ? "missing" : JSON.stringify(v);
}
