/**
 * Pure construction of the ServingEndpoint status the controller writes, and the rule for when a write is
 * worth it (10,000 endpoints cannot each be written every second).
 */
import type { ServingEndpointCondition, ServingEndpointStatus } from "../crd/types.ts";

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

function significant(s: ServingEndpointStatus | undefined): string {
  return JSON.stringify([
    s?.observedGeneration,
    s?.replicas,
    s?.readyReplicas,
    s?.desiredReplicas,
    s?.targetConcurrency,
    s?.lastScaleTime,
    s?.selector,
    (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
  ]);
}

/**
 * Write at once when a significant field changes (replica counts, target concurrency, condition status or
 * reason, generation); write load figures and messages at most every `minIntervalMs`.
 */
export function statusNeedsWrite(
  prev: ServingEndpointStatus | undefined,
  next: ServingEndpointStatus,
  lastWriteMs: number | undefined,
  nowMs: number,
  minIntervalMs: number,
): boolean {
  if (significant(prev) !== significant(next)) return true;
  if (lastWriteMs !== undefined && nowMs - lastWriteMs < minIntervalMs) return false;
  return JSON.stringify(prev) !== JSON.stringify(next);
}

/** Rounds load figures so status does not churn on noise: 2 decimals. */
export const round2 = (x: number): number => Math.round(x * 100) / 100;
