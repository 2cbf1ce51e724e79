/**
 * Kubernetes HPA (autoscaling/v2) with default behaviour on CPU utilisation, fed by a
 * metrics-server model (sources: kubernetes/kubernetes, cited per rule below). Reads only per-pod CPU usage as
 * metrics-server reports it, pod phases and readiness times.
 *
 * - sync every 15 s, tolerance 0.1, downscale stabilisation 300 s, CPU initialization period 300 s,
 *   initial readiness delay 30 s (pkg/controller/podautoscaler/config/v1alpha1/defaults.go)
 * - default behavior: scale-up policies {Pods 4 / 15 s, Percent 100 / 15 s}, selectPolicy Max,
 *   stabilization 0; scale-down {Percent 100 / 15 s} after the 300 s window (pkg/apis/autoscaling/v2/defaults.go)
 * - replica math, groupPods and the missing/unready re-run: replica_calculator.go (GetResourceReplicas,
 *   groupPods); stabilisation and rate limits: horizontal.go (normalizeDesiredReplicasWithBehaviors,
 *   calculateScaleUpLimitWithScalingRules, calculateScaleDownLimitWithBehaviors)
 * - metrics-server: each pod's CPU averaged over the last `metricResolutionS` (15 s, metrics-server's
 *   default --metric-resolution), published at each scrape; the HPA reads the latest one. This is the
 *   metric lag: a value is 0–15 s old when scraped and up to 15 s older when the HPA syncs.
 *
 * Target CPU utilisation: 70% (a common production setting; the API default is 80%). Per-pod limit: the model
 * server's own (the endpoint's concurrency max unless set). Data plane: a plain Service (`dispatch: "random"`):
 * kube-proxy sends each request to a ready pod picked at random, not to the least loaded one; a pod at its model
 * server's limit does not take it (the request waits, as a client retry would, in the simulator's queue).
 */
import type { Scenario } from "../scenario-types.ts";
import type { ClusterView, PodObservation, Policy, PolicyAction, SecondObservation } from "./types.ts";

export interface HpaConfig {
  /** `cpu` (Resource metric, the default) or `inflight`: a Pods metric, the gateway's in-flight + queued per ready pod (Prometheus adapter). */
  readonly metric: "cpu" | "inflight";
  /** Target average value of the `inflight` metric per pod. */
  readonly targetInFlightPerPod: number;
  /** Per-pod limit at the gateway (the model server's own limit behind a plain Service). */
  readonly podLimit: number;
  /** The data plane: `random` (a plain Service, kube-proxy's pick; the default) or `least-connections` (a gateway in front). */
  readonly dispatch: "random" | "least-connections";
  readonly targetCpuUtil: number;
  readonly tolerance: number;
  readonly syncPeriodMs: number;
  /** Phase of the sync within its period, ms (the controller's loop is not aligned with scrapes). */
  readonly syncOffsetMs: number;
  readonly metricResolutionMs: number;
  readonly downscaleStabilizationMs: number;
  readonly cpuInitializationPeriodMs: number;
  readonly scaleUpPods: number;
  readonly scaleUpPercent: number;
  readonly scaleDownPercent: number;
  readonly policyPeriodMs: number;
}

export function hpaConfig(sc: Scenario): HpaConfig {
  return {
    metric: "cpu",
    targetInFlightPerPod: sc.endpoint.concurrency.max,
    podLimit: sc.endpoint.concurrency.max,
    dispatch: "random",
    targetCpuUtil: sc.baselines.hpa?.targetCpuUtil ?? 0.7,
    tolerance: 0.1,
    syncPeriodMs: 15_000,
    syncOffsetMs: 7_000,
    metricResolutionMs: (sc.baselines.hpa?.metricResolutionS ?? 15) * 1000,
    downscaleStabilizationMs: 300_000,
    cpuInitializationPeriodMs: 300_000,
    scaleUpPods: 4,
    scaleUpPercent: 100,
    scaleDownPercent: 100,
    policyPeriodMs: 15_000,
  };
}

interface PodMetric {
  readonly atMs: number;
  readonly cores: number;
}

interface PodTrack {
  phase: PodObservation["phase"];
  createdAtMs: number;
  readyAtMs: number;
  requestCores: number;
  /** Per-second CPU cores since the last scrape. */
  windowSum: number;
  windowN: number;
  metric: PodMetric | undefined;
}

export class HpaPolicy implements Policy {
  readonly wantsPods = true;
  readonly initialTargetConcurrency: number;
  readonly dispatch: HpaConfig["dispatch"];
  nextRunAtMs: number;
  private readonly cfg: HpaConfig;
  private readonly minReplicas: number;
  private readonly maxReplicas: number;
  private readonly pods = new Map<number, PodTrack>();
  private nextScrapeMs: number;
  private readonly recommendations: { atMs: number; replicas: number }[] = [];
  private readonly events: { atMs: number; change: number }[] = [];
  /** Last computed usage ratio (for tests). */
  lastUsageRatio = NaN;
  readonly name: string;
  /** `inflight` metric: per-second totals since the last scrape, and the last published mean. */
  private inflightSum = 0;
  private inflightN = 0;
  private inflightMetric: number | undefined;

  /**
   * `initialReplicas`: the HPA's first stabilisation entry is the scale it found (the controller records the
   * current replicas as a recommendation), so it does not drop below its starting scale for the 300 s window.
   */
  constructor(sc: Scenario, cfg: HpaConfig = hpaConfig(sc), name = "hpa", initialReplicas?: number) {
    this.name = name;
    this.cfg = cfg;
    this.initialTargetConcurrency = cfg.podLimit;
    this.dispatch = cfg.dispatch;
    if (initialReplicas !== undefined) this.recommendations.push({ atMs: 0, replicas: initialReplicas });
    this.minReplicas = sc.endpoint.replicas.min;
    this.maxReplicas = sc.endpoint.replicas.max;
    this.nextRunAtMs = cfg.syncPeriodMs + cfg.syncOffsetMs;
    this.nextScrapeMs = cfg.metricResolutionMs;
  }

  observe(obs: SecondObservation): void {
    const seen = new Set<number>();
    for (const p of obs.pods ?? []) {
      seen.add(p.id);
      let tr = this.pods.get(p.id);
      if (!tr || tr.createdAtMs !== p.createdAtMs) {
        tr = { phase: p.phase, createdAtMs: p.createdAtMs, readyAtMs: p.readyAtMs, requestCores: p.cpuRequestCores, windowSum: 0, windowN: 0, metric: undefined };
        this.pods.set(p.id, tr);
      }
      tr.phase = p.phase;
      tr.readyAtMs = p.readyAtMs;
      if (p.phase === "ready" || p.phase === "draining") {
        tr.windowSum += p.cpuCores;
        tr.windowN++;
      }
    }
    for (const id of this.pods.keys()) if (!seen.has(id)) this.pods.delete(id);
    const t = obs.sample.atMs;
    this.inflightSum += obs.avgConcurrency;
    this.inflightN++;
    if (t >= this.nextScrapeMs) {
      if (this.inflightN > 0) this.inflightMetric = this.inflightSum / this.inflightN;
      this.inflightSum = 0;
      this.inflightN = 0;
      // metrics-server scrape: the average over the window just ended, stamped now
      for (const tr of this.pods.values()) {
        if (tr.windowN > 0) tr.metric = { atMs: t, cores: tr.windowSum / tr.windowN };
        tr.windowSum = 0;
        tr.windowN = 0;
      }
      this.nextScrapeMs += this.cfg.metricResolutionMs;
    }
  }

  decide(view: ClusterView): PolicyAction {
    const now = view.nowMs;
    this.nextRunAtMs = now + this.cfg.syncPeriodMs;
    const current = view.state.desiredReplicas;
    const limit = this.initialTargetConcurrency;
    const rec = this.replicaRecommendation(now, current);
    if (rec === undefined) return { desiredReplicas: current, targetConcurrency: limit };
    const desired = this.normalize(now, current, rec);
    if (desired !== current) this.events.push({ atMs: now, change: desired - current });
    return { desiredReplicas: desired, targetConcurrency: limit };
  }

  /** replica_calculator.go GetMetricReplicas for a Pods metric (average value per ready pod). */
  private podsMetricRecommendation(current: number): number | undefined {
    const m = this.inflightMetric;
    if (m === undefined) return undefined;
    let ready = 0;
    for (const tr of this.pods.values()) if (tr.phase === "ready") ready++;
    if (ready === 0) return undefined;
    const usageRatio = m / ready / this.cfg.targetInFlightPerPod;
    this.lastUsageRatio = usageRatio;
    if (Math.abs(1 - usageRatio) <= this.cfg.tolerance) return current;
    return Math.ceil(usageRatio * ready);
  }

  /** replica_calculator.go GetResourceReplicas; undefined when no pod has a usable metric. */
  private replicaRecommendation(now: number, current: number): number | undefined {
    const cfg = this.cfg;
    if (cfg.metric === "inflight") return this.podsMetricRecommendation(current);
    const metrics = new Map<number, { cores: number; request: number }>();
    const unready: PodTrack[] = [];
    const missing: PodTrack[] = [];
    for (const [id, tr] of this.pods) {
      if (tr.phase === "draining") continue; // deletionTimestamp set: ignored
      if (tr.phase === "unschedulable" || tr.phase === "starting") {
        unready.push(tr); // Pending, or running without Ready within the initialization period
        continue;
      }
      if (!tr.metric) {
        missing.push(tr);
        continue;
      }
      const withinInit = tr.createdAtMs + cfg.cpuInitializationPeriodMs > now;
      // within the initialization period a sample must cover a full window after the Ready transition
      if (withinInit && tr.metric.atMs < tr.readyAtMs + cfg.metricResolutionMs) {
        unready.push(tr);
        continue;
      }
      metrics.set(id, { cores: tr.metric.cores, request: tr.requestCores });
    }
    if (metrics.size === 0) return undefined;
    const targetPct = Math.round(cfg.targetCpuUtil * 100);
    const ratioOf = (m: Iterable<{ cores: number; request: number }>): number => {
      let used = 0;
      let req = 0;
      for (const x of m) {
        used += x.cores * 1000; // milli-cores
        req += x.request * 1000;
      }
      const utilization = Math.floor((used * 100) / req);
      return utilization / targetPct;
    };
    const within = (r: number): boolean => Math.abs(1 - r) <= cfg.tolerance;
    const usageRatio = ratioOf(metrics.values());
    this.lastUsageRatio = usageRatio;
    const readyPodCount = metrics.size;
    const scaleUpWithUnready = unready.length > 0 && usageRatio > 1;
    if (!scaleUpWithUnready && missing.length === 0) {
      if (within(usageRatio)) return current;
      return Math.ceil(usageRatio * readyPodCount);
    }
    const all = [...metrics.values()];
    for (const m of missing) {
      if (usageRatio < 1) all.push({ cores: (m.requestCores * Math.max(100, targetPct)) / 100, request: m.requestCores });
      else if (usageRatio > 1) all.push({ cores: 0, request: m.requestCores });
    }
    if (scaleUpWithUnready) for (const u of unready) all.push({ cores: 0, request: u.requestCores });
    const newRatio = ratioOf(all);
    if (within(newRatio) || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) return current;
    const newReplicas = Math.ceil(newRatio * all.length);
    if ((newRatio < 1 && newReplicas > current) || (newRatio > 1 && newReplicas < current)) return current;
    return newReplicas;
  }

  /** horizontal.go normalizeDesiredReplicasWithBehaviors: stabilisation, then rate limits, then bounds. */
  private normalize(now: number, current: number, rec: number): number {
    const cfg = this.cfg;
    let up = rec;
    let down = rec;
    const downCutoff = now - cfg.downscaleStabilizationMs;
    for (const r of this.recommendations) {
      if (r.atMs > now) up = Math.min(up, r.replicas); // up window is 0 s: nothing qualifies
      if (r.atMs > downCutoff) down = Math.max(down, r.replicas);
    }
    this.recommendations.push({ atMs: now, replicas: rec });
    while (this.recommendations.length > 0 && this.recommendations[0]!.atMs <= downCutoff) this.recommendations.shift();
    let stabilized = current;
    if (stabilized < up) stabilized = up;
    if (stabilized > down) stabilized = down;

    const periodCutoff = now - cfg.policyPeriodMs;
    while (this.events.length > 0 && this.events[0]!.atMs <= periodCutoff) this.events.shift();
    let added = 0;
    let deleted = 0;
    for (const e of this.events) {
      if (e.atMs <= periodCutoff) continue;
      if (e.change > 0) added += e.change;
      else deleted -= e.change;
    }
    let desired = stabilized;
    if (desired > current) {
      const start = current - added + deleted;
      let limit = Math.max(start + cfg.scaleUpPods, Math.ceil(start * (1 + cfg.scaleUpPercent / 100)));
      if (limit < current) limit = current;
      desired = Math.min(desired, Math.min(this.maxReplicas, limit));
    } else if (desired < current) {
      const start = current + deleted - added;
      let limit = Math.floor(start * (1 - cfg.scaleDownPercent / 100));
      if (limit > current) limit = current;
      desired = Math.max(desired, Math.max(this.minReplicas, limit));
    }
    return Math.min(this.maxReplicas, Math.max(this.minReplicas, desired));
  }
}
