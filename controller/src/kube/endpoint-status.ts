/** Pure composition of one endpoint's status from the cycle's results (conditions, counts, load figures). */
import type { ServingEndpointCondition, ServingEndpointStatus } from "../contract/crd/types.ts";
import type { EndpointSample, ReplicaState } from "../engine/types.ts";
import { ENDPOINT_LABEL } from "../contract/labels.ts";
import { CONDITION_METRICS, CONDITION_READY, round2, setCondition, type ConditionInput } from "./status.ts";

export interface StatusInput {
  readonly previous: ServingEndpointStatus | undefined;
  readonly conditions: readonly ServingEndpointCondition[];
  /** The ScalingActive condition decided this cycle. */
  readonly scaling: ConditionInput;
  /** Why metrics are degraded (or recovering), undefined when healthy. */
  readonly degraded: string | undefined;
  /** True when `degraded` only reflects the recovery hold (metrics are back). */
  readonly recovering: boolean;
  readonly state: ReplicaState;
  readonly desired: number;
  readonly target: number;
  readonly observed: number | undefined;
  readonly sample: EndpointSample | undefined;
  readonly lastScaleTime: string | undefined;
  readonly generation: number | undefined;
  readonly nowIso: string;
  readonly name: string;
  readonly scaleToZero: boolean;
  /** The learned seasonality to persist (encoded), or undefined to keep the previous status's. */
  readonly seasonality?: string;
}

export function composeStatus(i: StatusInput): ServingEndpointStatus {
  const { state, generation: gen, nowIso: iso } = i;
  let c = setCondition(i.conditions, i.scaling, iso, gen);
  c = setCondition(
    c,
    i.degraded === undefined
      ? { type: CONDITION_METRICS, status: "True", reason: "GatewaySamples", message: "every gateway replica reports this endpoint" }
      : { type: CONDITION_METRICS, status: "False", reason: i.recovering ? "Recovering" : "MetricsDegraded", message: i.degraded },
    iso,
    gen,
  );
  c = setCondition(
    c,
    state.readyReplicas > 0 || (i.desired === 0 && i.scaleToZero)
      ? { type: CONDITION_READY, status: "True", reason: state.readyReplicas > 0 ? "ReplicasReady" : "ScaledToZero", message: `${state.readyReplicas} of ${state.desiredReplicas} replicas ready` }
      : { type: CONDITION_READY, status: "False", reason: "NoReadyReplicas", message: `0 of ${state.desiredReplicas} replicas ready` },
    iso,
    gen,
  );
  const qps = i.sample === undefined ? i.previous?.observedQps : round2((i.sample.arrivals * 1000) / (i.sample.intervalMs ?? 1000));
  return {
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
    replicas: state.desiredReplicas,
    readyReplicas: state.readyReplicas,
    desiredReplicas: i.desired,
    // 0 means "not decided yet": never publish it (the gateway would read maxconn 0 as unlimited).
    ...(i.target > 0 ? { targetConcurrency: i.target } : {}),
    ...(i.observed !== undefined ? { observedConcurrency: round2(i.observed) } : {}),
    ...(qps !== undefined ? { observedQps: qps } : {}),
    ...(i.lastScaleTime !== undefined ? { lastScaleTime: i.lastScaleTime } : {}),
    selector: podSelectorOf(i.name),
    conditions: c,
    ...((i.seasonality ?? i.previous?.seasonality) !== undefined ? { seasonality: i.seasonality ?? i.previous?.seasonality } : {}),
  };
}

/**
 * `status.selector`, the scale subresource's `labelSelectorPath`: the label selector of the endpoint's pods in
 * string form (what HPA and KEDA read to find the pods behind `/scale`). Written with every status, error
 * statuses included.
 */
export function podSelectorOf(name: string): string {
  return `${ENDPOINT_LABEL}=${name}`;
}

/** FNV-1a 32-bit hash of a string (stable spread of per-endpoint timers). */
export function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
