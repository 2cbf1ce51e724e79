/**
 * The physical-limit policies. Both read the future arrivals from a dry run of the scenario (see
 * plan.ts) instead of any metric, and size pods with the same capacity rule (`podsFor`) at the
 * throughput-optimal concurrency, which is also their per-pod gateway limit.
 *
 * - `static`: a fixed replica count sized for the run's peak second, ready from t = 0.
 * - `oracle`: re-decides every second for the largest per-second load over the last 10 s and the next
 *   `lookaheadS`; with lookahead 1 s it knows the load the moment it arrives but its pods still take
 *   the full start time (the bound for any reactive autoscaler); `oracle-ahead` looks ahead by the pod
 *   start time, so its pods are ready when the load comes (the bound even for a perfect forecaster).
 */
import type { Optimum } from "../optimum.ts";
import { podsFor, type TrafficPlan } from "../plan.ts";
import type { ClusterView, Policy, PolicyAction, SecondObservation } from "./types.ts";

export class StaticPolicy implements Policy {
  readonly name = "static";
  readonly wantsPods = false;
  readonly initialTargetConcurrency: number;
  nextRunAtMs = Infinity;
  readonly replicas: number;

  constructor(replicas: number, opt: Optimum) {
    this.replicas = replicas;
    this.initialTargetConcurrency = opt.concurrency;
  }

  observe(_obs: SecondObservation): void {}

  decide(view: ClusterView): PolicyAction {
    this.nextRunAtMs = Infinity;
    void view;
    return { desiredReplicas: this.replicas, targetConcurrency: this.initialTargetConcurrency };
  }
}

/** Replicas `static` uses: sized for the busiest second of the run. */
export function staticReplicas(plan: TrafficPlan, opt: Optimum, meanCost: number): number {
  let peak = 0;
  for (const w of plan.work) peak = Math.max(peak, w / meanCost);
  return Math.max(1, podsFor(peak, opt));
}

export class OraclePolicy implements Policy {
  readonly name: string;
  readonly wantsPods = false;
  readonly initialTargetConcurrency: number;
  nextRunAtMs = 0;
  private readonly plan: TrafficPlan;
  private readonly opt: Optimum;
  private readonly lookaheadS: number;
  private readonly meanCost: number;
  private readonly minReplicas: number;
  private readonly maxReplicas: number;
  private static readonly trailingS = 10;

  constructor(name: string, plan: TrafficPlan, opt: Optimum, meanCost: number, lookaheadS: number, replicas: { min: number; max: number }) {
    this.name = name;
    this.plan = plan;
    this.opt = opt;
    this.meanCost = meanCost;
    this.lookaheadS = lookaheadS;
    this.initialTargetConcurrency = opt.concurrency;
    this.minReplicas = replicas.min;
    this.maxReplicas = replicas.max;
  }

  observe(_obs: SecondObservation): void {}

  /** Pods the oracle wants at second s. */
  podsAt(s: number): number {
    const w = this.plan.work;
    let peak = 0;
    const from = Math.max(0, s - OraclePolicy.trailingS);
    const to = Math.min(w.length - 1, s + Math.ceil(this.lookaheadS) - 1);
    for (let i = from; i <= to; i++) peak = Math.max(peak, w[i]! / this.meanCost);
    return Math.min(this.maxReplicas, Math.max(this.minReplicas, podsFor(peak, this.opt)));
  }

  decide(view: ClusterView): PolicyAction {
    const s = Math.floor(view.nowMs / 1000);
    this.nextRunAtMs = (s + 1) * 1000;
    return { desiredReplicas: this.podsAt(s), targetConcurrency: this.opt.concurrency };
  }
}
