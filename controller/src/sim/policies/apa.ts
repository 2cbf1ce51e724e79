/**
 * Our policy: the real APA decision engine (`controller/src/engine`), called whenever the engine's
 * `nextRunAtMs` arrives, fed the gateway's 1 s EndpointSamples (with per-pod signals) and the
 * ReplicaState — the same inputs the controller gives it. Its target concurrency is the gateway's
 * per-pod limit.
 */
import { decide, decisionNeeded, defaultEngineConfig, historyWindowMsFor, type EngineConfig } from "../../engine/index.ts";
import type { EndpointSample, EndpointSpec, EngineMemory, RuntimeKind } from "../../engine/types.ts";
import type { Scenario } from "../scenario-types.ts";
import type { ClusterView, Policy, PolicyAction, SecondObservation } from "./types.ts";

const RUNTIME: Record<Scenario["model"]["kind"], RuntimeKind> = { cpu: "mlflow", batching: "vllm", io: "custom" };

/** The EndpointSpec a user would declare for the scenario's endpoint. */
export function endpointSpecOf(sc: Scenario): EndpointSpec {
  return {
    concurrency: sc.endpoint.concurrency,
    replicas: sc.endpoint.replicas,
    provisionedConcurrency: sc.endpoint.provisionedConcurrency,
    scaleToZero: false,
    runtime: RUNTIME[sc.model.kind],
    sloP99Ms: sc.slo.p99Ms,
    ...(sc.endpoint.initialTargetConcurrency !== undefined ? { initialTargetConcurrency: sc.endpoint.initialTargetConcurrency } : {}),
  };
}

/** A decision as the simulator saw it (for reports and tests). */
export interface ApaTraceEntry {
  readonly atMs: number;
  readonly desiredReplicas: number;
  readonly replicasReason: string;
  readonly targetConcurrency: number;
  readonly concurrencyReason: string;
  readonly concurrencyMessage: string;
}

export class ApaPolicy implements Policy {
  readonly name = "apa";
  readonly wantsPods = true;
  readonly initialTargetConcurrency: number;
  nextRunAtMs = 1000;
  readonly decisions: ApaTraceEntry[] = [];
  private readonly spec: EndpointSpec;
  private readonly config: EngineConfig;
  private readonly keep: number;
  private history: EndpointSample[] = [];
  private memory: EngineMemory | undefined;
  private regularRunAtMs = 0;
  private target: number;

  constructor(sc: Scenario, config: EngineConfig = defaultEngineConfig) {
    this.spec = endpointSpecOf(sc);
    this.config = config;
    this.keep = Math.ceil(historyWindowMsFor(config) / config.sampleIntervalMs);
    // the engine's own starting point for the target, asked with an empty history
    const first = decide({
      spec: this.spec,
      state: { desiredReplicas: 1, readyReplicas: 1, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 0 },
      history: [],
      memory: undefined,
      nowMs: 0,
    }, config);
    this.target = first.targetConcurrency;
    this.initialTargetConcurrency = this.target;
  }

  observe(obs: SecondObservation): void {
    this.history.push(obs.sample);
    if (this.history.length > 2 * this.keep) this.history = this.history.slice(-this.keep);
  }

  decide(view: ClusterView): PolicyAction {
    // The engine reads only its short windows of the history (at most 2 × keep samples are held).
    const input = { spec: this.spec, state: view.state, history: this.history, memory: this.memory, nowMs: view.nowMs };
    // Between regular runs the controller skips calls that cannot change anything; so does the simulator.
    if (!decisionNeeded(input, this.regularRunAtMs, this.config)) {
      this.nextRunAtMs = view.nowMs + this.config.sampleIntervalMs;
      return { desiredReplicas: view.state.desiredReplicas, targetConcurrency: view.state.targetConcurrency };
    }
    const d = decide(input, this.config);
    this.memory = d.memory;
    this.regularRunAtMs = d.regularRunAtMs;
    this.target = d.targetConcurrency;
    this.nextRunAtMs = Math.max(d.nextRunAtMs, view.nowMs + 1);
    if (d.desiredReplicas !== view.state.desiredReplicas || d.targetConcurrency !== view.state.targetConcurrency) {
      this.decisions.push({
        atMs: view.nowMs,
        desiredReplicas: d.desiredReplicas,
        replicasReason: d.replicasReason,
        targetConcurrency: d.targetConcurrency,
        concurrencyReason: d.concurrencyReason,
        concurrencyMessage: d.concurrencyMessage,
      });
    }
    return { desiredReplicas: d.desiredReplicas, targetConcurrency: d.targetConcurrency };
  }
}
