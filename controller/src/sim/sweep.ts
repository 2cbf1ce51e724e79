/**
 * The baselines as a competent user configures them, their main knob swept, and the Pareto frontier of
 * (replica-seconds, SLO attainment) per baseline. APA is judged against every point of every frontier.
 *
 * Competent configuration (the per-pod capacity `c` is the load-tested one, optimum.ts):
 * - Knative KPA: containerConcurrency = c (the SLO-feasible concurrency, never above the model's own cap),
 *   target utilisation 0.7, scale-down-delay 300 s (a user with slow-starting model pods sets it);
 *   swept: containerConcurrency ∈ c × {1, 0.7, 0.5, 0.35, 0.25}.
 * - Kubernetes HPA: a Pods metric (the gateway's in-flight per pod, through a Prometheus adapter, 15 s) with the
 *   default behaviour and the initial-recommendation rule, the model server's own limit c behind the Service;
 *   swept: target in-flight per pod ∈ c × {0.9, 0.7, 0.5, 0.35, 0.25}. (CPU utilisation only for CPU-bound models:
 *   `hpa-cpu`, outside the sweep.)
 * - Ray Serve: max_ongoing_requests = c, swept target_ongoing_requests ∈ c × {0.9, 0.7, 0.5, 0.35, 0.25}, the
 *   default delays (30 s up, 600 s down).
 */
import type { Optimum } from "./optimum.ts";
import { HpaPolicy, hpaConfig } from "./policies/hpa.ts";
import { KpaPolicy, kpaConfig } from "./policies/kpa.ts";
import { RayPolicy, rayConfig } from "./policies/ray.ts";
import type { Policy } from "./policies/types.ts";
import type { Scenario } from "./scenario-types.ts";

export type Family = "kpa" | "hpa" | "ray";
export const FAMILIES: readonly Family[] = ["kpa", "hpa", "ray"];

/** Fractions of the capacity swept for each family's main knob. */
export const SWEEP_FRACTIONS: Readonly<Record<Family, readonly number[]>> = {
  kpa: [1, 0.7, 0.5, 0.35, 0.25],
  hpa: [0.9, 0.7, 0.5, 0.35, 0.25],
  ray: [0.9, 0.7, 0.5, 0.35, 0.25],
};

/** The knob value each family's competent default uses. */
export const COMPETENT_FRACTION: Readonly<Record<Family, number>> = { kpa: 1, hpa: 0.7, ray: 0.7 };

/** The per-pod capacity a competent user configures: the load-tested concurrency, within the model's own cap. */
export function capacityOf(sc: Scenario, opt: Optimum): number {
  const cap = sc.model.kind === "cpu" ? Infinity : sc.model.maxInFlight;
  return Math.max(1, Math.min(opt.capacity, cap, sc.endpoint.concurrency.max));
}

export interface SweepSpec {
  readonly family: Family;
  /** e.g. `kpa cc=16`. */
  readonly label: string;
  readonly knob: string;
  readonly value: number;
  make(): Policy;
}

export function familyPolicy(family: Family, sc: Scenario, opt: Optimum, initialReplicas: number, fraction: number, name?: string): SweepSpec {
  const c = capacityOf(sc, opt);
  if (family === "kpa") {
    const cc = Math.max(1, Math.round(c * fraction));
    const label = name ?? `kpa cc=${cc}`;
    return { family, label, knob: "containerConcurrency", value: cc, make: () => new KpaPolicy(sc, { ...kpaConfig(sc), containerConcurrency: cc, scaleDownDelayMs: 300_000 }, initialReplicas, label) };
  }
  if (family === "hpa") {
    const target = Math.max(0.5, Math.round(c * fraction * 10) / 10);
    const label = name ?? `hpa inflight=${target}`;
    return { family, label, knob: "targetInFlightPerPod", value: target, make: () => new HpaPolicy(sc, { ...hpaConfig(sc), metric: "inflight", targetInFlightPerPod: target, podLimit: c }, label, initialReplicas) };
  }
  const target = Math.max(0.5, Math.round(c * fraction * 10) / 10);
  const label = name ?? `ray target=${target}`;
  return { family, label, knob: "targetOngoingRequests", value: target, make: () => new RayPolicy(sc, { ...rayConfig(sc), maxOngoingRequests: c, targetOngoingRequests: target }, label) };
}

/** Every point of every family's sweep (duplicates of a knob value dropped). */
export function sweepSpecs(sc: Scenario, opt: Optimum, initialReplicas: number): SweepSpec[] {
  const out: SweepSpec[] = [];
  for (const family of FAMILIES) {
    const seen = new Set<number>();
    for (const f of SWEEP_FRACTIONS[family]) {
      const s = familyPolicy(family, sc, opt, initialReplicas, f);
      if (seen.has(s.value)) continue;
      seen.add(s.value);
      out.push(s);
    }
  }
  return out;
}

export interface FrontierPoint {
  readonly label: string;
  readonly family: string;
  readonly replicaSeconds: number;
  readonly sloAttainment: number;
}

/** The non-dominated points (fewer replica-seconds or higher SLO attainment than every other), by replica-seconds. */
export function paretoFrontier(points: readonly FrontierPoint[]): FrontierPoint[] {
  const sorted = [...points].sort((a, b) => a.replicaSeconds - b.replicaSeconds || b.sloAttainment - a.sloAttainment);
  const out: FrontierPoint[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.sloAttainment > best) {
      out.push(p);
      best = p.sloAttainment;
    }
  }
  return out;
}

export interface Dominance {
  /** A frontier point with at least APA's SLO attainment for at most its replica-seconds (one of them strictly). */
  readonly by: FrontierPoint | undefined;
  /** How much cheaper that point is, fraction of APA's replica-seconds. */
  readonly replicaSecondsSaved: number;
  /** How much more SLO attainment it has, percentage points. */
  readonly sloGainPp: number;
}

/** Whether APA is dominated by any point, and by the one that saves the most replica-seconds. */
export function dominance(apa: FrontierPoint, points: readonly FrontierPoint[]): Dominance {
  let by: FrontierPoint | undefined;
  for (const p of points) {
    const weak = p.replicaSeconds <= apa.replicaSeconds && p.sloAttainment >= apa.sloAttainment;
    const strict = p.replicaSeconds < apa.replicaSeconds || p.sloAttainment > apa.sloAttainment;
    if (weak && strict && (by === undefined || p.replicaSeconds < by.replicaSeconds)) by = p;
  }
  return {
    by,
    replicaSecondsSaved: by === undefined ? 0 : 1 - by.replicaSeconds / apa.replicaSeconds,
    sloGainPp: by === undefined ? 0 : (by.sloAttainment - apa.sloAttainment) * 100,
  };
}

/** Mean and 95% confidence half-width (Student t) of a sample. */
export function meanCi(xs: readonly number[]): { mean: number; half: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  if (n < 2) return { mean, half: 0 };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  // two-sided 95% Student t quantiles for n − 1 degrees of freedom (1..10)
  const t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228][n - 2] ?? 1.96;
  return { mean, half: (t * sd) / Math.sqrt(n) };
}
