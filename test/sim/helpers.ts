/**
 * Test helpers for the simulator: a scenario builder and `ScriptedPolicy`, a test double of an
 * autoscaler that applies a fixed script of (time, replicas, limit) steps.
 */
import { parseScenario } from "../../controller/src/sim/scenario.ts";
import type { Scenario } from "../../controller/src/sim/scenario-types.ts";
import type { ClusterView, Policy, PolicyAction, SecondObservation } from "../../controller/src/sim/policies/types.ts";

export const BASE = {
  name: "t",
  durationS: 10,
  seed: 1,
  traffic: [{ untilS: 10, qps: 10 }],
  model: { kind: "io", latencyMs: 100, maxInFlight: 100 },
  cluster: { podStartS: 5, warmPoolPods: 10, nodeStartS: 30, maxPods: 10 },
  slo: { p99Ms: 1000, queueTimeoutMs: 1000 },
  endpoint: { concurrency: { min: 1, max: 10 }, replicas: { min: 1, max: 20 } },
};

/** Build a validated scenario from BASE with shallow per-section overrides. */
export function scenario(over: Record<string, unknown> = {}, baseDir = process.cwd()): Scenario {
  return parseScenario({ ...BASE, ...over }, baseDir);
}

/** Test double of a policy: at each `atMs` in the script, asks for `replicas` and `limit`. */
export class ScriptedPolicy implements Policy {
  readonly name = "scripted";
  readonly wantsPods: boolean;
  readonly initialTargetConcurrency: number;
  nextRunAtMs: number;
  readonly observed: SecondObservation[] = [];
  private readonly steps: { atMs: number; replicas: number; limit: number }[];
  private current: PolicyAction;

  constructor(limit: number, steps: { atMs: number; replicas: number; limit?: number }[] = [], wantsPods = false) {
    this.initialTargetConcurrency = limit;
    this.wantsPods = wantsPods;
    this.steps = steps.map((s) => ({ atMs: s.atMs, replicas: s.replicas, limit: s.limit ?? limit }));
    this.nextRunAtMs = this.steps[0]?.atMs ?? Infinity;
    this.current = { desiredReplicas: 0, targetConcurrency: limit };
  }

  observe(obs: SecondObservation): void {
    this.observed.push(obs);
  }

  decide(view: ClusterView): PolicyAction {
    const step = this.steps.shift()!;
    this.current = { desiredReplicas: step.replicas, targetConcurrency: step.limit };
    this.nextRunAtMs = this.steps[0]?.atMs ?? Infinity;
    void view;
    return this.current;
  }
}

export function total(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}
