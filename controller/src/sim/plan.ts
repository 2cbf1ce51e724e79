/**
 * What the omniscient policies (static, oracle) know: the offered work per second, taken from a
 * dry run of the scenario's own arrival stream (same seed, so exactly the arrivals that will come),
 * and the capacity rule both use to turn offered work into pods.
 */
import type { Optimum } from "./optimum.ts";
import type { Scenario } from "./scenario-types.ts";
import { ArrivalStream } from "./traffic.ts";

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
