/**
 * What the omniscient policies (static, oracle) know: the offered work per second, taken from a
 * dry run of the scenario's own arrival stream (same seed, so exactly the arrivals that will come),
 * and the capacity rule both use to turn offered work into pods.
 */
import { resolve } from "node:path";
import type { Optimum } from "./optimum.ts";
import { Prng } from "./prng.ts";
import type { Scenario } from "./scenario-types.ts";
import { readTrace } from "./trace.ts";
import { ArrivalStream } from "./traffic.ts";

/** Per-request cost draws with the scenario's cost distribution (trace cost column, bimodal, or 1). */
export function costSampler(scenario: Scenario, rng: Prng): () => number {
  for (const [i, seg] of scenario.traffic.entries()) {
    if (seg.trace?.costColumn) {
      const tr = readTrace(resolve(scenario.baseDir, seg.trace.path), seg.trace.timeColumn ?? "TIMESTAMP", seg.trace.costColumn, `traffic[${i}].trace`);
      const costs = tr.costs!;
      return () => costs[Math.floor(rng.uniform() * costs.length)]!;
    }
  }
  const cost = scenario.model.cost;
  if (cost) return () => (rng.uniform() < cost.heavyFraction ? cost.heavyFactor : 1);
  return () => 1;
}

/** Mean of the cost distribution. */
export function meanCost(scenario: Scenario): number {
  const rng = new Prng(1);
  const draw = costSampler(scenario, rng);
  let s = 0;
  for (let i = 0; i < 20000; i++) s += draw();
  return s / 20000;
}

export interface TrafficPlan {
  /** Arrivals per simulated second. */
  readonly counts: Float64Array;
  /** Σ cost of the arrivals per second. */
  readonly work: Float64Array;
  readonly totalRequests: number;
  readonly attributions: readonly string[];
}

/** Dry-run the arrival stream. */
export function planTraffic(scenario: Scenario): TrafficPlan {
  const n = Math.ceil(scenario.durationS);
  const counts = new Float64Array(n);
  const work = new Float64Array(n);
  const stream = new ArrivalStream(scenario);
  let total = 0;
  for (let t = stream.next(); t < scenario.durationS * 1000; t = stream.next()) {
    const s = Math.floor(t / 1000);
    counts[s]!++;
    work[s]! += stream.cost;
    total++;
  }
  return { counts, work, totalRequests: total, attributions: stream.attributions() };
}

/** Halfin–Whitt quality-and-efficiency-driven staffing parameter used by static and oracle. */
export const STAFFING_BETA = 2;

/**
 * Pods needed for `requestsPerS` (cost-1-equivalent requests per second) at the optimal concurrency:
 * the offered load in request slots is a = rate × c_opt / throughput_opt (Little law at the optimum);
 * slots = a + β·√a (square-root staffing); pods = ceil(slots / c_opt).
 */
export function podsFor(requestsPerS: number, opt: Optimum): number {
  if (requestsPerS <= 0) return 0;
  const a = (requestsPerS * opt.concurrency) / opt.throughputRps;
  return Math.ceil((a + STAFFING_BETA * Math.sqrt(a)) / opt.concurrency);
}
