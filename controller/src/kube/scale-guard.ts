/**
 * The controller's last word before a replica write, pure. It never computes a replica count (the engine
 * does); it only decides whether the engine's count may be applied now:
 * - equal to the current count → nothing to write;
 * - a scale-down while gateway metrics are degraded (a gateway replica missing or failing, a stale or partial
 *   sample, or within the recovery hold after that) → hold ("fail static");
 * - a scale-down while a Deployment rolls out → hold (never fight a rollout; scale-ups are allowed, like HPA);
 * - otherwise → scale.
 */

export type ScaleAction =
  | { readonly kind: "none" }
  | { readonly kind: "hold"; readonly reason: "FailStatic" | "RolloutInProgress"; readonly message: string }
  | { readonly kind: "scale"; readonly from: number; readonly to: number };

export interface GuardInput {
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  /** Why metrics are not trustworthy right now; undefined when they are. */
  readonly metricsDegraded: string | undefined;
  readonly rollingOut: boolean;
}

export function guardScale(input: GuardInput): ScaleAction {
  const { currentReplicas: from, desiredReplicas: to } = input;
  if (to === from) return { kind: "none" };
  if (to < from && input.metricsDegraded !== undefined) {
    return {
      kind: "hold",
      reason: "FailStatic",
      message: `holding ${from} replicas (engine wanted ${to}): ${input.metricsDegraded}`,
    };
  }
  if (to < from && input.rollingOut) {
    return { kind: "hold", reason: "RolloutInProgress", message: `holding ${from} replicas (engine wanted ${to}) until the rollout completes` };
  }
  return { kind: "scale", from, to };
}
