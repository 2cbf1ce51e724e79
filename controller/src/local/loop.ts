/**
 * The local control loop: every tick (one per sample interval), take one per-endpoint sample (gateway metrics),
 * feed it to the shared engine driver (`engine/driver.ts`: history retention, memory threading, decisionNeeded
 * gating — the same driver the Kubernetes controller and the simulator use) and apply what it decides: replicas
 * through the local scaler, target concurrency through the desired-state source (the agent sets maxconn live).
 *
 * Clock and timers are injected; the engine runs through the driver (a test double of `decide` may be injected).
 */
import type { EngineConfig } from "../engine/config.ts";
import { EngineDriver, type DriverTick } from "../engine/driver.ts";
import type { Decision, DecisionInput, EndpointSample, EndpointSpec, ReplicaState } from "../engine/types.ts";

export interface LoopScaler {
  state(targetConcurrency: number): ReplicaState;
  scaleTo(replicas: number): void;
}

export interface LoopOptions {
  readonly endpoint: string;
  readonly spec: EndpointSpec;
  readonly config?: EngineConfig;
  /** A test double of the engine's `decide`. @default the real engine */
  readonly decide?: (input: DecisionInput, config: EngineConfig) => Decision;
  /** One sample of the interval ending now. */
  readonly sample: (nowMs: number) => Promise<EndpointSample>;
  readonly scaler: LoopScaler;
  /** Applies a new per-pod target concurrency at the gateway. */
  readonly setTargetConcurrency: (target: number) => void;
  readonly now: () => number;
  /** History kept beyond what the engine reads, ms. @default what the engine reads */
  readonly historyMs?: number;
  /** Called when a decision changes replicas or target concurrency, with the engine's reason and message. */
  readonly onChange?: (message: string) => void;
  /** Called after each tick with the latest sample and decision. */
  readonly onTick?: (s: LoopStatus) => void;
  /** Called on every driver tick with the engine's input sample, state and decision (debug traces). */
  readonly trace?: (t: DriverTick) => void;
}

/** What the loop saw and did on its last tick. */
export interface LoopStatus {
  readonly sample: EndpointSample;
  readonly state: ReplicaState;
  /** The decision of this tick, or the last one when the driver skipped the call. */
  readonly decision: Decision | undefined;
  readonly targetConcurrency: number;
}

export class LocalLoop {
  private readonly o: LoopOptions;
  readonly driver: EngineDriver;
  private target: number;

  constructor(o: LoopOptions, initialTargetConcurrency: number) {
    this.o = o;
    this.target = initialTargetConcurrency;
    this.driver = new EngineDriver({
      spec: o.spec,
      ...(o.config !== undefined ? { config: o.config } : {}),
      ...(o.historyMs !== undefined ? { historyMs: o.historyMs } : {}),
      ...(o.decide !== undefined ? { decide: o.decide } : {}),
      ...(o.trace !== undefined ? { onTick: o.trace } : {}),
    });
  }

  get targetConcurrency(): number {
    return this.target;
  }

  /** Samples, then ticks the driver (which decides when a decision can change anything) and applies. */
  async tick(): Promise<LoopStatus> {
    const nowMs = this.o.now();
    const sample = await this.o.sample(nowMs);
    this.driver.observe(sample);
    const state = this.o.scaler.state(this.target);
    const decision = this.driver.tick(nowMs, state);
    if (decision !== undefined) {
      if (decision.targetConcurrency !== this.target && decision.targetConcurrency >= 1) {
        this.o.onChange?.(`target concurrency ${this.target} → ${decision.targetConcurrency}: ${decision.concurrencyReason}: ${decision.concurrencyMessage}`);
        this.target = decision.targetConcurrency;
        this.o.setTargetConcurrency(this.target);
      }
      if (decision.desiredReplicas !== state.desiredReplicas) {
        this.o.onChange?.(`replicas ${state.desiredReplicas} → ${decision.desiredReplicas}: ${decision.replicasReason}: ${decision.replicasMessage}`);
        this.o.scaler.scaleTo(decision.desiredReplicas);
      }
    }
    const status: LoopStatus = { sample, state: this.o.scaler.state(this.target), decision: decision ?? this.driver.lastDecision, targetConcurrency: this.target };
    this.o.onTick?.(status);
    return status;
  }
}
