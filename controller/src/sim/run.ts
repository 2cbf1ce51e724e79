/**
 * Runs a scenario under several policies, side by side, from the same starting cluster.
 */
import { findOptimum, type Optimum } from "./optimum.ts";
import { meanCost as meanCostOf } from "./cost.ts";
import { planTraffic, type TrafficPlan } from "./plan.ts";
import { initialReplicasFor, makePolicy, type PolicyContext, type PolicyName } from "./policies/index.ts";
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

/** What every policy of one scenario shares: the reference concurrencies, the arrivals, the starting cluster. */
export function prepareScenario(scenario: Scenario): PolicyContext {
  const optimum = findOptimum(scenario);
  const plan = planTraffic(scenario);
  const meanCost = meanCostOf(scenario);
  const initialReplicas = initialReplicasFor(scenario, plan, optimum, meanCost);
  return { scenario, optimum, plan, meanCost, initialReplicas };
}

/** Run one policy in a prepared scenario. */
export function runPolicy(ctx: PolicyContext, policy: Policy, name = policy.name): PolicyRun {
  // the omniscient policies start at their own size; everyone else from the common cluster
  const initial =
    policy instanceof StaticPolicy ? policy.replicas : policy instanceof OraclePolicy ? policy.podsAt(0) : ctx.initialReplicas;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const output = simulate(ctx.scenario, policy, { initialReplicas: initial });
  const cpu = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  return { result: summarize(name, ctx.scenario, output, wallMs, (cpu.user + cpu.system) / 1000), output, policy };
}

export function runScenario(scenario: Scenario, policies: readonly PolicyName[], prepared?: PolicyContext): ScenarioRun {
  const ctx = prepared ?? prepareScenario(scenario);
  const runs = policies.map((name) => runPolicy(ctx, makePolicy(name, ctx), name));
  return { scenario, optimum: ctx.optimum, plan: ctx.plan, initialReplicas: ctx.initialReplicas, runs };
}
