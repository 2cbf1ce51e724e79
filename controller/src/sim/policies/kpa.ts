/**
 * Knative Serving KPA with its defaults (knative/serving @98e5ef9, files and lines cited per rule below). Reads only what the KPA reads: per-second time-averaged concurrency
 * (queue-proxies + activator, `SecondObservation.avgConcurrency`) and the ready pod count.
 *
 * - tick every 2 s: `tickInterval = 2 * time.Second` (pkg/autoscaler/scaling/multiscaler.go line 36)
 * - stable window 60 s, panic window 10% = 6 s, panic threshold 200%, max scale-up rate 1000,
 *   max scale-down rate 2, target utilisation 0.7 (pkg/autoscaler/config/config.go defaultConfig(), lines 39–67)
 * - target = max(0.01, CC × 0.7), CC = 100 when unset (pkg/reconciler/autoscaling/resources/target.go, line 61)
 * - decider: pkg/autoscaler/scaling/autoscaler.go Scale(), lines 149–313 (panic entry/exit, ratchet)
 * - start in panic mode when more than one pod is ready (same file, lines 95–112)
 * - buckets: 1 s, linear average over the window, partial windows averaged since the first bucket
 *   (pkg/autoscaler/aggregation/bucketing.go)
 *
 * Per-pod limit at the gateway: `containerConcurrency` (the queue-proxy breaker's MaxConcurrency,
 * pkg/queue/sharedmain/main.go lines 406–420); CC = 0 means no limit. Simplification, documented in
 * docs/simulator.md: the scrape sees every pod (Knative samples ≤ 16 pods and scales up the mean).
 */
import type { Scenario } from "../scenario-types.ts";
import { UNLIMITED, type ClusterView, type Policy, type PolicyAction, type SecondObservation } from "./types.ts";

export interface KpaConfig {
  /** `concurrency` (default): in-flight + queued per pod; `rps`: requests per second per pod (autoscaling.knative.dev/metric). */
  readonly metric: "concurrency" | "rps";
  /** Per-pod target for the `rps` metric (autoscaling.knative.dev/target; Knative's default 200). */
  readonly rpsTarget: number;
  /** scale-down-delay: a scale-down takes the highest decision of this long ago and since (Knative default 0). */
  readonly scaleDownDelayMs: number;
  readonly containerConcurrency: number;
  readonly targetUtilization: number;
  readonly stableWindowS: number;
  readonly panicWindowPercentage: number;
  readonly panicThreshold: number;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  readonly tickMs: number;
}

/** Knative defaults; CC defaults to the endpoint's concurrency max (the user's declared per-pod limit). */
export function kpaConfig(sc: Scenario): KpaConfig {
  return {
    metric: "concurrency",
    rpsTarget: 200,
    scaleDownDelayMs: 0,
    containerConcurrency: sc.baselines.kpa?.containerConcurrency ?? sc.endpoint.concurrency.max,
    targetUtilization: sc.baselines.kpa?.targetUtilization ?? 0.7,
    stableWindowS: 60,
    panicWindowPercentage: 10,
    panicThreshold: 2,
    maxScaleUpRate: 1000,
    maxScaleDownRate: 2,
    tickMs: 2000,
  };
}

export class KpaPolicy implements Policy {
  readonly name: string;
  readonly wantsPods = false;
  readonly initialTargetConcurrency: number;
  nextRunAtMs: number;
  private readonly cfg: KpaConfig;
  private readonly target: number;
  private readonly buckets: number[] = [];
  private readonly minReplicas: number;
  private readonly maxReplicas: number;
  private panicTimeMs = NaN;
  private maxPanicPods = 0;
  /** Decisions within the scale-down delay (time, desired), oldest first. */
  private readonly delayed: { atMs: number; desired: number }[] = [];

  constructor(sc: Scenario, cfg: KpaConfig = kpaConfig(sc), initialReady = 0, name = "kpa") {
    this.name = name;
    this.cfg = cfg;
    const total = cfg.metric === "rps" ? cfg.rpsTarget : cfg.containerConcurrency > 0 ? cfg.containerConcurrency : 100;
    this.target = Math.max(0.01, total * cfg.targetUtilization);
    this.initialTargetConcurrency = cfg.containerConcurrency > 0 ? cfg.containerConcurrency : UNLIMITED;
    this.nextRunAtMs = cfg.tickMs;
    this.minReplicas = sc.endpoint.replicas.min;
    this.maxReplicas = sc.endpoint.replicas.max;
    if (initialReady > 1) {
      // a new autoscaler with ready pods starts in panic mode so it cannot scale down on empty history
      this.panicTimeMs = 0;
      this.maxPanicPods = initialReady;
    }
  }

  /** Per-pod concurrency target the decider divides by. */
  get targetConcurrency(): number {
    return this.target;
  }

  observe(obs: SecondObservation): void {
    this.buckets.push(this.cfg.metric === "rps" ? obs.sample.arrivals / ((obs.sample.intervalMs ?? 1000) / 1000) : obs.avgConcurrency);
    const keep = this.cfg.stableWindowS;
    if (this.buckets.length > keep) this.buckets.splice(0, this.buckets.length - keep);
  }

  private average(windowS: number): number {
    const n = Math.min(windowS, this.buckets.length);
    if (n === 0) return 0;
    let s = 0;
    for (let i = this.buckets.length - n; i < this.buckets.length; i++) s += this.buckets[i]!;
    return s / n;
  }

  decide(view: ClusterView): PolicyAction {
    const now = view.nowMs;
    this.nextRunAtMs = now + this.cfg.tickMs;
    const cfg = this.cfg;
    const current = view.state.desiredReplicas;
    if (this.buckets.length === 0) return { desiredReplicas: current, targetConcurrency: this.initialTargetConcurrency };
    const panicWindowS = Math.max(1, Math.round((cfg.stableWindowS * cfg.panicWindowPercentage) / 100));
    const stableAvg = this.average(cfg.stableWindowS);
    const panicAvg = this.average(panicWindowS);
    const ready = Math.max(1, view.state.readyReplicas);
    const maxScaleUp = Math.ceil(cfg.maxScaleUpRate * ready);
    const maxScaleDown = Math.floor(ready / cfg.maxScaleDownRate);
    const dspc = Math.ceil(stableAvg / this.target);
    const dppc = Math.ceil(panicAvg / this.target);
    const clamp = (x: number): number => Math.min(maxScaleUp, Math.max(maxScaleDown, x));
    const desiredStable = clamp(dspc);
    const desiredPanic = clamp(dppc);
    const overThreshold = dppc / ready >= cfg.panicThreshold;
    const panicking = !Number.isNaN(this.panicTimeMs);
    if (!panicking && overThreshold) this.panicTimeMs = now;
    else if (overThreshold) this.panicTimeMs = now;
    else if (panicking && this.panicTimeMs + cfg.stableWindowS * 1000 < now) {
      this.panicTimeMs = NaN;
      this.maxPanicPods = 0;
    }
    let desired: number;
    if (!Number.isNaN(this.panicTimeMs)) {
      desired = Math.max(desiredStable, desiredPanic, this.maxPanicPods);
      this.maxPanicPods = desired;
    } else desired = desiredStable;
    if (cfg.scaleDownDelayMs > 0) {
      // scale-down-delay (pkg/autoscaler/scaling/autoscaler.go delayWindow): the max over the delay window
      this.delayed.push({ atMs: now, desired });
      while (this.delayed.length > 0 && this.delayed[0]!.atMs <= now - cfg.scaleDownDelayMs) this.delayed.shift();
      for (const d of this.delayed) desired = Math.max(desired, d.desired);
    }
    desired = Math.min(this.maxReplicas, Math.max(this.minReplicas, desired));
    return { desiredReplicas: desired, targetConcurrency: this.initialTargetConcurrency };
  }

  /** True while the decider is in panic mode (for tests and charts). */
  get panicking(): boolean {
    return !Number.isNaN(this.panicTimeMs);
  }
}
