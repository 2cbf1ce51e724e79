/**
 * The scenario's per-request cost distribution (a trace's cost column, a bimodal mix, or 1 for every request):
 * what one request costs the pod relative to a cost-1 request.
 */
import { resolve } from "node:path";
import { Prng } from "./prng.ts";
import type { Scenario } from "./scenario-types.ts";
import { readTrace } from "./trace.ts";

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
