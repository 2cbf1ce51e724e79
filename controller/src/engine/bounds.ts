/**
 * Hard limits applied after the horizontal decision: the provisioned-concurrency floor, the scale subresource's
 * floor (`spec.replicas.desired`), the replica bounds and the scale-to-zero rule. They hold on every path, including fail-static holds.
 */
import type { EngineConfig } from "./config.ts";
import { windowCovered } from "./coverage.ts";
import type { Coverage, DecisionInput, EndpointSpec, ReplicaReason } from "./types.ts";

export interface Bounded {
  readonly desired: number;
  readonly reason: ReplicaReason;
  readonly message: string;
}

/** Replicas needed to keep `provisionedConcurrency` ready at target `c`. */
export function provisionedFloor(spec: EndpointSpec, c: number): number {
  return spec.provisionedConcurrency > 0 ? Math.ceil(spec.provisionedConcurrency / c - 1e-9) : 0;
}

/**
 * True when the spec allows zero replicas and the endpoint has been idle (no arrival, nothing in flight
 * or queued) over a fully covered idle window, with at least that much engine memory.
 */
export function idleForZero(input: DecisionInput, cfg: EngineConfig, sinceMs: number, coverage: Coverage | undefined): boolean {
  const { spec, nowMs } = input;
  if (!spec.scaleToZero || spec.replicas.min > 0 || spec.provisionedConcurrency > 0) return false;
  if (nowMs - sinceMs < cfg.scaleToZeroIdleMs) return false;
  if (!windowCovered(coverage, nowMs, cfg.scaleToZeroIdleMs, cfg)) return false;
  const lastActive = coverage?.lastActiveAtMs;
  return lastActive === undefined || lastActive <= nowMs - cfg.scaleToZeroIdleMs;
}

/** Apply the floor and the bounds to a horizontal decision, keeping its reason when nothing binds. */
export function applyBounds(spec: EndpointSpec, c: number, d: Bounded, allowZero: boolean): Bounded {
  let { desired, reason, message } = d;
  // Zero is only reachable through the scale-to-zero rule (or an already-zero endpoint that stays idle).
  const min = allowZero && spec.scaleToZero ? spec.replicas.min : Math.max(1, spec.replicas.min);
  const floor = provisionedFloor(spec, c);
  if (desired < floor) {
    message = `${message}; provisioned concurrency ${spec.provisionedConcurrency} at target ${c} needs ${floor} replicas`;
    desired = floor;
    reason = "ProvisionedFloor";
  }
  const asked = spec.scaleSubresourceReplicas;
  if (asked !== undefined && asked > 0 && desired < asked) {
    message = `${message}; raised to the ${asked} replicas asked for through the scale subresource`;
    desired = asked;
    reason = "ScaleSubresource";
  }
  if (desired < min) {
    message = `${message}; raised to the minimum of ${min} replicas`;
    desired = min;
    reason = "ReplicaBounds";
  }
  if (desired > spec.replicas.max) {
    message = `${message}; limited to the maximum of ${spec.replicas.max} replicas`;
    desired = spec.replicas.max;
    reason = "ReplicaBounds";
  }
  return { desired, reason, message };
}
