/**
 * Builds a policy by name for one scenario. Every policy in a comparison starts from the same
 * cluster: `initialReplicas` ready pods at t = 0.
 */
import type { Optimum } from "../optimum.ts";
import { podsFor, type TrafficPlan } from "../plan.ts";
import type { Scenario } from "../scenario-types.ts";
import { validateEngineConfig, type EngineConfig } from "../../engine/config.ts";
import { ApaPolicy } from "./apa.ts";
import { HpaPolicy } from "./hpa.ts";
import { KpaPolicy, kpaConfig } from "./kpa.ts";
import { OraclePolicy, StaticPolicy, staticReplicas } from "./oracle.ts";
import { RayPolicy } from "./ray.ts";
import type { Policy } from "./types.ts";
import { COMPETENT_FRACTION, familyPolicy } from "../sweep.ts";

export const POLICY_NAMES = ["apa", "apa-reactive", "kpa", "hpa", "ray", "kpa-default", "kpa-tuned", "hpa-cpu", "ray-default", "static", "oracle", "oracle-ahead"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
export const DEFAULT_POLICIES: readonly PolicyName[] = ["apa", "kpa", "hpa", "ray", "static", "oracle-ahead"];

export interface PolicyContext {
  readonly scenario: Scenario;
  readonly optimum: Optimum;
  readonly plan: TrafficPlan;
  readonly meanCost: number;
  readonly initialReplicas: number;
}

/** Ready replicas every policy starts with: the scenario's `initialReplicas`, or sized for the first 10 s. */
export function initialReplicasFor(sc: Scenario, plan: TrafficPlan, opt: Optimum, meanCost: number): number {
  if (sc.endpoint.initialReplicas !== undefined) return sc.endpoint.initialReplicas;
  let peak = 0;
  for (let s = 0; s < Math.min(10, plan.work.length); s++) peak = Math.max(peak, plan.work[s]! / meanCost);
  const r = sc.endpoint.replicas;
  return Math.min(r.max, Math.max(r.min, podsFor(peak, opt)));
}

/** Seconds the `oracle-ahead` looks ahead: a pod's start, plus a node's when the warm pool cannot hold the peak. */
function aheadS(ctx: PolicyContext): number {
  const c = ctx.scenario.cluster;
  const peak = staticReplicas(ctx.plan, ctx.optimum, ctx.meanCost);
  return 1 + c.podStartS + (peak > Math.max(c.warmPoolPods, ctx.initialReplicas) ? c.nodeStartS + c.imagePullS : 0);
}

export function makePolicy(name: PolicyName, ctx: PolicyContext): Policy {
  const sc = ctx.scenario;
  switch (name) {
    case "apa":
      return new ApaPolicy(sc);
    case "apa-reactive": {
      // the same engine without forecasting: the scenario's period replaced by a day it never completes
      const cfg = validateEngineConfig({ ...(sc.engine as Partial<EngineConfig>), forecastPeriodMs: 86_400_000, forecastBuckets: 96 });
      return new ApaPolicy(sc, cfg, "apa-reactive");
    }
    // competent configurations (sweep.ts): the load-tested per-pod capacity, the knob at its usual setting
    case "kpa":
      return familyPolicy("kpa", sc, ctx.optimum, ctx.initialReplicas, COMPETENT_FRACTION.kpa, "kpa").make();
    case "hpa":
      return familyPolicy("hpa", sc, ctx.optimum, ctx.initialReplicas, COMPETENT_FRACTION.hpa, "hpa").make();
    case "ray":
      return familyPolicy("ray", sc, ctx.optimum, ctx.initialReplicas, COMPETENT_FRACTION.ray, "ray").make();
    // the projects' defaults, for reference
    case "kpa-default":
      return new KpaPolicy(sc, undefined, ctx.initialReplicas, "kpa-default");
    case "kpa-tuned":
      // Knative hand-tuned by someone who knows the swept optimum: containerConcurrency = c*
      return new KpaPolicy(sc, { ...kpaConfig(sc), containerConcurrency: ctx.optimum.concurrency }, ctx.initialReplicas, "kpa-tuned");
    case "hpa-cpu":
      return new HpaPolicy(sc, undefined, "hpa-cpu");
    case "ray-default":
      return new RayPolicy(sc, undefined, "ray-default");
    case "static": {
      const fixed = sc.baselines.static?.replicas ?? staticReplicas(ctx.plan, ctx.optimum, ctx.meanCost);
      return new StaticPolicy(Math.min(sc.endpoint.replicas.max, fixed), ctx.optimum);
    }
    case "oracle":
      return new OraclePolicy("oracle", ctx.plan, ctx.optimum, ctx.meanCost, 1, sc.endpoint.replicas);
    case "oracle-ahead":
      return new OraclePolicy("oracle-ahead", ctx.plan, ctx.optimum, ctx.meanCost, aheadS(ctx), sc.endpoint.replicas);
  }
}

/** Parse a comma-separated policy list; errors name the bad entry and the allowed names. */
export function parsePolicies(list: string): PolicyName[] {
  const names = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const n of names) {
    if (!(POLICY_NAMES as readonly string[]).includes(n)) {
      throw new Error(`--policies: unknown policy "${n}"; allowed: ${POLICY_NAMES.join(", ")}`);
    }
  }
  if (names.length === 0) throw new Error(`--policies: empty list; allowed: ${POLICY_NAMES.join(", ")}`);
  return names as PolicyName[];
}
