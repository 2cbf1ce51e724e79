/**
 * Our policy: the real APA decision engine (`controller/src/engine`) through the shared driver
 * (`engine/driver.ts`, as the controller and the local loop run it), ticked every simulated second, fed the
 * gateway's 1 s EndpointSamples (with per-pod signals) and the ReplicaState — the same inputs the controller
 * gives it. Its target concurrency is the gateway's per-pod limit.
 */
import { EngineDriver, type DriverTick } from "../../engine/driver.ts";
import { decide, validateEngineConfig, type EngineConfig } from "../../engine/index.ts";
import type { EndpointSpec, RuntimeKind } from "../../engine/types.ts";
import type { Scenario, SignalSpec } from "../scenario-types.ts";
import { engineSample, PodMetricsPeriod } from "../signals.ts";
import type { ClusterView, Policy, PolicyAction, SecondObservation } from "./types.ts";

const RUNTIME: Record<Scenario["model"]["kind"], RuntimeKind> = { cpu: "mlflow", batching: "vllm", llm: "vllm", io: "custom" };

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

/** The engine config for a scenario: the defaults with the scenario's `engine` overrides (validated when loaded). */
export function engineConfigOf(sc: Scenario): EngineConfig {
  return validateEngineConfig(sc.engine as Partial<EngineConfig>);
}

/** A decision as the simulator saw it (for reports and tests). */
export interface ApaTraceEntry {
  readonly atMs: number;
  readonly desiredReplicas: number;
  readonly replicasReason: string;
  readonly replicasMessage: string;
  readonly targetConcurrency: number;
  readonly concurrencyReason: string;
  readonly concurrencyMessage: string;
}

export class ApaPolicy implements Policy {
  readonly name: string;
  readonly wantsPods = true;
  readonly wantsGatewayTimings: boolean;
  readonly initialTargetConcurrency: number;
  nextRunAtMs = 1000;
  readonly decisions: ApaTraceEntry[] = [];
  /** The shared driver (history retention, memory threading, decisionNeeded gating), as the controller uses it. */
  readonly driver: EngineDriver;

  readonly #signals: SignalSpec;
  readonly #podMetrics: PodMetricsPeriod;

  /** @param trace called on every driver tick with the engine's input sample, state and decision (debug traces) */
  constructor(sc: Scenario, config: EngineConfig = engineConfigOf(sc), name = "apa", trace?: (t: DriverTick) => void) {
    this.name = name;
    const spec = endpointSpecOf(sc);
    this.driver = new EngineDriver({ spec, config, ...(trace !== undefined ? { onTick: trace } : {}) });
    this.#signals = sc.signals;
    this.#podMetrics = new PodMetricsPeriod(sc.signals.podMetricsIntervalS, sc.signals.podSignals);
    this.wantsGatewayTimings = sc.signals.mode === "gateway";
    // the engine's own starting point for the target, asked with an empty history
    const first = decide({
      spec,
      state: { desiredReplicas: 1, readyReplicas: 1, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 0 },
      history: [],
      memory: undefined,
      nowMs: 0,
    }, config);
    this.initialTargetConcurrency = first.targetConcurrency;
  }

  observe(obs: SecondObservation): void {
    const pods = obs.pods !== undefined ? this.#podMetrics.add(obs.sample.atMs, obs.pods) : undefined;
    this.driver.observe(engineSample(obs.sample, this.#signals, pods, this.wantsGatewayTimings ? obs.gatewayFields ?? {} : undefined));
  }

  decide(view: ClusterView): PolicyAction {
    const d = this.driver.tick(view.nowMs, view.state);
    // ticks every sample, like the controller; a skipped tick changes nothing
    this.nextRunAtMs = view.nowMs + this.driver.config.sampleIntervalMs;
    if (d === undefined) return { desiredReplicas: view.state.desiredReplicas, targetConcurrency: view.state.targetConcurrency };
    if (d.desiredReplicas !== view.state.desiredReplicas || d.targetConcurrency !== view.state.targetConcurrency) {
      this.decisions.push({
        atMs: view.nowMs,
        desiredReplicas: d.desiredReplicas,
        replicasReason: d.replicasReason,
        replicasMessage: d.replicasMessage,
        targetConcurrency: d.targetConcurrency,
        concurrencyReason: d.concurrencyReason,
        concurrencyMessage: d.concurrencyMessage,
      });
    }
    return { desiredReplicas: d.desiredReplicas, targetConcurrency: d.targetConcurrency };
  }
}
