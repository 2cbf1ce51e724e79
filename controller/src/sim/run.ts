/**
 * Runs a scenario under several policies, side by side, from the same starting cluster.
 */
import { findOptimum, type Optimum } from "./optimum.ts";
import { meanCost as meanCostOf } from "./cost.ts";
import { planTraffic, type TrafficPlan } from "./plan.ts";
import { initialReplicasFor, makePolicy, type PolicyName } from "./policies/index.ts";
import { OraclePolicy, StaticPolicy } from "./policies/oracle.ts";
import type { Policy } from "./policies/types.ts";
import { summarize, type PolicyResult } from "./report.ts";
import type { Scenario } from "./scenario-types.ts";
import { simulate, type SimOutput } from "./simulate.ts";

export interface PolicyRun {
  readonly result: PolicyResult;
  readonly output: SimOutput;
  readonly policy: Policy;
}

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly optimum: Optimum;
  readonly plan: TrafficPlan;
  readonly initialReplicas: number;
  readonly runs: readonly PolicyRun[];
}

export function runScenario(scenario: Scenario, policies: readonly PolicyName[]): ScenarioRun {
  const optimum = findOptimum(scenario);
  const plan = planTraffic(scenario);
  const meanCost = meanCostOf(scenario);
  const initialReplicas = initialReplicasFor(scenario, plan, optimum, meanCost);
  const ctx = { scenario, optimum, plan, meanCost, initialReplicas };
  const runs = policies.map((name) => {
    const policy = makePolicy(name, ctx);
    // the omniscient policies start at their own size; everyone else from the common cluster
    const initial =
      policy instanceof StaticPolicy ? policy.replicas : policy instanceof OraclePolicy ? policy.podsAt(0) : initialReplicas;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const output = simulate(scenario, policy, { initialReplicas: initial });
    const cpu = process.cpuUsage(c0);
    const wallMs = performance.now() - t0;
    return { result: summarize(name, scenario, output, wallMs, (cpu.user + cpu.system) / 1000), output, policy };
  });
  return { scenario, optimum, plan, initialReplicas, runs };
}
