/**
 * Pure construction of the ServingEndpoint status the controller writes, and the rule for when a write is
 * worth it (10,000 endpoints cannot each be written every second).
 */
import type { ServingEndpointCondition, ServingEndpointStatus } from "../contract/crd/types.ts";

export const CONDITION_READY = "Ready";
export const CONDITION_SCALING = "ScalingActive";
export const CONDITION_METRICS = "MetricsAvailable";

/** A condition without its transition time; `setCondition` fills that in. */
export type ConditionInput = Omit<ServingEndpointCondition, "lastTransitionTime" | "observedGeneration">;

/** Replaces the condition of the same type, keeping `lastTransitionTime` when `status` did not change. */
export function setCondition(
  conditions: readonly ServingEndpointCondition[],
  next: ConditionInput,
  nowIso: string,
  generation: number | undefined,
): ServingEndpointCondition[] {
  const prev = conditions.find((c) => c.type === next.type);
  const lastTransitionTime = prev !== undefined && prev.status === next.status ? prev.lastTransitionTime : nowIso;
  const cond: ServingEndpointCondition = {
    ...next,
    lastTransitionTime,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  const rest = conditions.filter((c) => c.type !== next.type);
  return [...rest, cond].sort((a, b) => a.type.localeCompare(b.type));
}

/** The condition types the controller writes. */
const OWN_CONDITION_TYPES: ReadonlySet<string> = new Set([CONDITION_READY, CONDITION_SCALING, CONDITION_METRICS]);

/**
 * The controller's own conditions (Ready, ScalingActive, MetricsAvailable) with every other type (the gateway
 * agent's `GatewayAccepted`) taken from the object as last observed, so a status write never drops another
 * writer's condition.
 */
export function withOthersConditions(own: readonly ServingEndpointCondition[], observed: readonly ServingEndpointCondition[] | undefined): ServingEndpointCondition[] {
  const mine = OWN_CONDITION_TYPES;
  return [...own.filter((c) => mine.has(c.type)), ...(observed ?? []).filter((c) => !mine.has(c.type))].sort((a, b) => a.type.localeCompare(b.type));
}

function sameSignificant(a: ServingEndpointStatus | undefined, b: ServingEndpointStatus): boolean {
  if (
    a === undefined ||
    a.observedGeneration !== b.observedGeneration ||
    a.replicas !== b.replicas ||
    a.readyReplicas !== b.readyReplicas ||
    a.desiredReplicas !== b.desiredReplicas ||
    a.targetConcurrency !== b.targetConcurrency ||
    a.lastScaleTime !== b.lastScaleTime ||
    a.selector !== b.selector
  ) {
    return false;
  }
  const ac = a.conditions ?? [];
  const bc = b.conditions ?? [];
  if (ac.length !== bc.length) return false;
  return ac.every((c, i) => c.type === bc[i]?.type && c.status === bc[i]?.status);
}

/**
 * Write at once when a significant field changes (replica counts, target concurrency, a condition's status,
 * generation, last scale time). At most every `minIntervalMs`: a condition reason change, or QPS / observed
 * concurrency moving by more than 10%, a new learned seasonality. Messages alone never cause a write (they ride along with other writes).
 */
export function statusNeedsWrite(
  prev: ServingEndpointStatus | undefined,
  next: ServingEndpointStatus,
  lastWriteMs: number | undefined,
  nowMs: number,
  minIntervalMs: number,
): boolean {
  if (!sameSignificant(prev, next)) return true;
  if (lastWriteMs !== undefined && nowMs - lastWriteMs < minIntervalMs) return false;
  const moved = (a: number | undefined, b: number | undefined): boolean =>
    (a === undefined) !== (b === undefined) || (a !== undefined && b !== undefined && Math.abs(a - b) > 0.1 * Math.max(1, Math.abs(a)));
  if (moved(prev?.observedQps, next.observedQps) || moved(prev?.observedConcurrency, next.observedConcurrency)) return true;
  // the learned seasonality changes once per bucket (15 min): persisted at the write rate, never forcing a write
  if (prev?.seasonality !== next.seasonality) return true;
  const prevConds = prev?.conditions ?? [];
  return (next.conditions ?? []).some((c, i) => prevConds[i]?.reason !== c.reason);
}

/** Rounds load figures so status does not churn on noise: 2 decimals. */
export const round2 = (x: number): number => Math.round(x * 100) / 100;
