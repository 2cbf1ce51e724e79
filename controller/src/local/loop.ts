/**
 * The local control loop: every sample interval, take one per-endpoint sample (gateway metrics), keep the
 * history, and whenever the engine is due call `decide` and apply its decision — replicas through the local
 * scaler, target concurrency through the desired-state source (the agent sets maxconn live).
 *
 * The engine is injected (`decide`): the real APA engine in `npm run dev`. Clock and timers are injected.
 */
import type { Decision, DecisionInput, EndpointSample, EndpointSpec, EngineMemory, ReplicaState } from "../engine/types.ts";

export interface LoopScaler {
  state(targetConcurrency: number): ReplicaState;
  scaleTo(replicas: number): void;
}

export interface LoopOptions {
  readonly endpoint: string;
  readonly spec: EndpointSpec;
  readonly decide: (input: DecisionInput) => Decision;
  /** One sample of the interval ending now. */
  readonly sample: (nowMs: number) => Promise<EndpointSample>;
  readonly scaler: LoopScaler;
  /** Applies a new per-pod target concurrency at the gateway. */
  readonly setTargetConcurrency: (target: number) => void;
  readonly now: () => number;
  /** How much history to keep. @default 330000 */
  readonly historyMs?: number;
  /** Called when a decision changes replicas or target concurrency, with the engine's reason and message. */
  readonly onChange?: (message: string) => void;
  /** Called after each tick with the latest sample and decision. */
  readonly onTick?: (s: LoopStatus) => void;
}

/** What the loop saw and did on its last tick. */
export interface LoopStatus {
  readonly sample: EndpointSample;
  readonly state: ReplicaState;
  readonly decision: Decision | undefined;
  readonly targetConcurrency: number;
}

export class LocalLoop {
  private readonly o: LoopOptions;
  private readonly history: EndpointSample[] = [];
  private memory: EngineMemory | undefined;
  private nextRunAtMs = 0;
  private target: number;
  private lastDecision: Decision | undefined;

  constructor(o: LoopOptions, initialTargetConcurrency: number) {
    this.o = o;
    this.target = initialTargetConcurrency;
  }

  get targetConcurrency(): number {
    return this.target;
  }

  /** Samples and, when due, decides and applies. */
  async tick(): Promise<LoopStatus> {
    const nowMs = this.o.now();
    const sample = await this.o.sample(nowMs);
    this.history.push(sample);
    const keepFrom = nowMs - (this.o.historyMs ?? 330_000);
    while ((this.history[0]?.atMs ?? nowMs) < keepFrom) this.history.shift();

    let decision: Decision | undefined;
    if (nowMs >= this.nextRunAtMs) {
      const state = this.o.scaler.state(this.target);
      decision = this.o.decide({ spec: this.o.spec, state, history: this.history, memory: this.memory, nowMs });
      this.memory = decision.memory;
      this.nextRunAtMs = decision.nextRunAtMs;
      this.lastDecision = decision;
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
    const status: LoopStatus = { sample, state: this.o.scaler.state(this.target), decision: decision ?? this.lastDecision, targetConcurrency: this.target };
    this.o.onTick?.(status);
    return status;
  }
}
