/**
 * Ray Serve's default request-based autoscaling policy (ray-project/ray, cited per rule below).
 * Reads only what Ray's controller reads: total ongoing + queued requests as recorded at the
 * handles every 0.5 s and pushed every 10 s, averaged over the look-back window.
 *
 * - target_ongoing_requests 2, max_ongoing_requests 5, look_back_period_s 30, upscale_delay_s 30,
 *   downscale_delay_s 600, smoothing factor 1 (python/ray/serve/config.py AutoscalingConfig @00239d48)
 * - control loop every 0.1 s, handle metrics recorded every 0.5 s and pushed every 10 s
 *   (python/ray/serve/_private/constants.py)
 * - desired = ceil(cur + f·(total/target − cur)), "avoid getting stuck" −1 step, bounds; the delay:
 *   a new value is applied only after the same direction was decided continuously for the delay,
 *   and then the last desired value is applied (python/ray/serve/autoscaling_policy.py @00590c45;
 *   wall-clock delays as in ray PR #62144; last-value semantics: ray issue #46497)
 *
 * Per-pod limit at the gateway: max_ongoing_requests (Ray's hard per-replica cap; the rest waits in
 * the handle queue, here the gateway queue).
 */
import type { Scenario } from "../scenario-types.ts";
import type { ClusterView, Policy, PolicyAction, SecondObservation } from "./types.ts";

export interface RayConfig {
  readonly targetOngoingRequests: number;
  readonly maxOngoingRequests: number;
  readonly lookBackPeriodMs: number;
  readonly upscaleDelayMs: number;
  readonly downscaleDelayMs: number;
  /** upscaling_factor / downscaling_factor (None → smoothing_factor 1). */
  readonly upscalingFactor: number;
  readonly downscalingFactor: number;
  readonly controlLoopMs: number;
  readonly recordMs: number;
  readonly pushMs: number;
}

export function rayConfig(sc: Scenario): RayConfig {
  const r = sc.baselines.ray ?? {};
  return {
    targetOngoingRequests: r.targetOngoingRequests ?? 2,
    maxOngoingRequests: r.maxOngoingRequests ?? 5,
    lookBackPeriodMs: (r.lookBackPeriodS ?? 30) * 1000,
    upscaleDelayMs: (r.upscaleDelayS ?? 30) * 1000,
    downscaleDelayMs: (r.downscaleDelayS ?? 600) * 1000,
    upscalingFactor: 1,
    downscalingFactor: 1,
    controlLoopMs: 100,
    recordMs: 500,
    pushMs: 10_000,
  };
}

export class RayPolicy implements Policy {
  readonly name: string;
  readonly wantsPods = false;
  readonly initialTargetConcurrency: number;
  nextRunAtMs: number;
  private readonly cfg: RayConfig;
  private readonly minReplicas: number;
  private readonly maxReplicas: number;
  /** Records at the handle not yet pushed. */
  private local: { atMs: number; value: number }[] = [];
  /** Records the controller has. */
  private pushed: { atMs: number; value: number }[] = [];
  private nextRecordMs = 0;
  private nextPushMs: number;
  private upSinceMs = NaN;
  private downSinceMs = NaN;

  constructor(sc: Scenario, cfg: RayConfig = rayConfig(sc), name = "ray") {
    this.name = name;
    this.cfg = cfg;
    this.initialTargetConcurrency = cfg.maxOngoingRequests;
    this.minReplicas = sc.endpoint.replicas.min;
    this.maxReplicas = sc.endpoint.replicas.max;
    this.nextRunAtMs = cfg.controlLoopMs;
    this.nextPushMs = cfg.pushMs;
  }

  observe(_obs: SecondObservation): void {
    // Ray's handles record their own counts (see decide); the gateway sample is not Ray's signal
  }

  decide(view: ClusterView): PolicyAction {
    const cfg = this.cfg;
    const now = view.nowMs;
    this.nextRunAtMs = now + cfg.controlLoopMs;
    if (now >= this.nextRecordMs) {
      this.local.push({ atMs: now, value: view.inFlight + view.queued });
      this.nextRecordMs = now + cfg.recordMs;
    }
    if (now >= this.nextPushMs) {
      this.pushed.push(...this.local);
      this.local = [];
      this.nextPushMs = now + cfg.pushMs;
    }
    const cutoff = now - cfg.lookBackPeriodMs;
    while (this.pushed.length > 0 && this.pushed[0]!.atMs < cutoff) this.pushed.shift();
    const cur = view.state.desiredReplicas;
    const hold = { desiredReplicas: cur, targetConcurrency: cfg.maxOngoingRequests };
    if (this.pushed.length === 0) return hold;
    let total = 0;
    for (const r of this.pushed) total += r.value;
    total /= this.pushed.length;
    const desiredRaw = total / cfg.targetOngoingRequests;
    const factor = desiredRaw > cur ? cfg.upscalingFactor : cfg.downscalingFactor;
    let scaled = Math.ceil(cur + factor * (desiredRaw - cur));
    if (Math.ceil(desiredRaw) < cur && scaled === cur) scaled -= 1;
    const desired = Math.min(this.maxReplicas, Math.max(this.minReplicas, scaled));
    if (desired > cur) {
      this.downSinceMs = NaN;
      if (Number.isNaN(this.upSinceMs)) this.upSinceMs = now;
      if (now - this.upSinceMs >= cfg.upscaleDelayMs) {
        this.upSinceMs = NaN;
        return { desiredReplicas: desired, targetConcurrency: cfg.maxOngoingRequests };
      }
    } else if (desired < cur) {
      this.upSinceMs = NaN;
      if (Number.isNaN(this.downSinceMs)) this.downSinceMs = now;
      if (now - this.downSinceMs >= cfg.downscaleDelayMs) {
        this.downSinceMs = NaN;
        return { desiredReplicas: desired, targetConcurrency: cfg.maxOngoingRequests };
      }
    } else {
      this.upSinceMs = NaN;
      this.downSinceMs = NaN;
    }
    return hold;
  }
}
