/**
 * Yardsticks that are bounds, not policies (fluid approximations of the arrivals the scenario will bring,
 * `plan.ts`; one pod serves at most the load-tested capacity's throughput):
 * - `replicaSecondsLowerBound`: no autoscaler serves the offered work with fewer replica-seconds. Each second needs
 *   at least work / (capacity throughput) pods; a pod counts from its creation, so every pod added costs its start
 *   time as well (lead time respected): LB = Σ_s need(s) + podStartS · Σ_s max(0, need(s) − need(s−1)).
 * - `reactiveRejectionFloor`: the 429s even a perfect *reactive* autoscaler gets: it sees a second's load when it
 *   ends and orders pods at once, ready a pod start later, and never scales down; what arrives beyond the capacity
 *   in place waits in a fluid gateway queue and is rejected beyond what the queue bound and timeout hold.
 *   (`oracle-ahead` remains the bound for a perfect forecaster.)
 */
import type { Optimum } from "./optimum.ts";
import type { TrafficPlan } from "./plan.ts";
import type { Scenario } from "./scenario-types.ts";

export interface Bounds {
  /** Replica-seconds no autoscaler can go below. */
  readonly replicaSecondsLowerBound: number;
  /** 429s a perfect reactive autoscaler would still get (fluid). */
  readonly reactiveRejectionFloor: number;
}

export function scenarioBounds(sc: Scenario, plan: TrafficPlan, opt: Optimum, meanCost: number, initialReplicas: number): Bounds {
  const perPod = opt.capacityThroughputRps;
  const n = plan.work.length;
  const need = new Float64Array(n);
  for (let s = 0; s < n; s++) need[s] = Math.min(sc.endpoint.replicas.max, Math.max(sc.endpoint.replicas.min, plan.work[s]! / meanCost / perPod));
  let lb = 0;
  let prev = initialReplicas;
  for (let s = 0; s < n; s++) {
    lb += need[s]!;
    if (need[s]! > prev) lb += sc.cluster.podStartS * (need[s]! - prev);
    prev = need[s]!;
  }
  // reactive floor: capacity in place at second s = the most any second before s − lead needed (ratchet)
  const leadS = 1 + Math.ceil(sc.cluster.podStartS);
  let queue = 0;
  let rejected = 0;
  let ratchet = initialReplicas;
  const timeoutS = sc.slo.queueTimeoutMs / 1000;
  for (let s = 0; s < n; s++) {
    if (s - leadS >= 0) ratchet = Math.max(ratchet, Math.ceil(need[s - leadS]! - 1e-9));
    const capacity = Math.min(ratchet, sc.cluster.maxPods) * perPod;
    const arrivals = plan.work[s]! / meanCost;
    const served = Math.min(queue + arrivals, capacity);
    queue = queue + arrivals - served;
    // what waits longer than the timeout (or beyond the queue bound) is answered 429
    const hold = Math.min(sc.gateway.maxQueue, capacity * timeoutS);
    if (queue > hold) {
      rejected += queue - hold;
      queue = hold;
    }
  }
  return { replicaSecondsLowerBound: Math.round(lb), reactiveRejectionFloor: Math.round(rejected) };
}
