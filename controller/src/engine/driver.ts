/**
 * The one way to drive the engine over time, shared by the Kubernetes controller, the local loop and the
 * simulator: it keeps the sample history the engine reads (and no more), threads the engine's memory from
 * one decision to the next, and calls `decide` only when `decisionNeeded` says a call can change anything.
 * No clock, timers or I/O: the caller feeds samples (`observe`) and ticks (`tick`) with its own time.
 *
 *   const driver = new EngineDriver({ spec, config });
 *   every sample interval:  driver.observe(sample); const d = driver.tick(nowMs, replicaState);
 *                           if (d) apply d.desiredReplicas and d.targetConcurrency
 *
 * A tick that lands a little early or late (timer jitter) is still a tick: the engine counts a call half a
 * sample before its cadence as on time, and the driver never skips a tick because the previous decision asked
 * for `nextRunAtMs` a millisecond later.
 */
import { defaultEngineConfig, type EngineConfig } from "./config.ts";
import { historyWindowMsFor } from "./coverage.ts";
import { decide, decisionNeeded } from "./index.ts";
import type { Seasonality } from "./seasonality.ts";
import type { Decision, DecisionInput, EndpointSample, EndpointSpec, EngineMemory, ReplicaState } from "./types.ts";

export interface DriverOptions {
  /** The endpoint's spec; a caller that learns it later (the controller) sets it with `setSpec` before the first tick. */
  readonly spec?: EndpointSpec;
  readonly config?: EngineConfig;
  /** Keep at least this much history, ms (a caller may read more than the engine does). @default what the engine reads */
  readonly historyMs?: number;
  /** No decision before this time (a controller spreads its endpoints' first decisions over a cycle). @default none */
  readonly firstRunAtMs?: number;
  /** Call `decide` on every tick instead of when `decisionNeeded` says so (benchmarks). @default false */
  readonly decideEveryTick?: boolean;
  /** The learned seasonality persisted from an earlier run (a restarted controller keeps its forecast). */
  readonly seasonality?: Seasonality;
  /** The decision function: the real engine's `decide`, or a test double of it in unit tests. @default decide */
  readonly decide?: (input: DecisionInput, config: EngineConfig) => Decision;
  /** Called after every tick with what the engine was given and what it did (debug traces). @default none */
  readonly onTick?: (t: DriverTick) => void;
}

/** One tick as the driver saw it: the newest sample, the replica state, and the decision (undefined: the call was skipped). */
export interface DriverTick {
  readonly nowMs: number;
  readonly sample: EndpointSample | undefined;
  readonly state: ReplicaState;
  readonly decision: Decision | undefined;
}

const NO_REPLICAS: ReplicaState = Object.freeze({ desiredReplicas: 0, readyReplicas: 0, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 0 });

/** Samples are dropped in batches: one splice per this many samples, not a shift() per sample. */
const TRIM_BATCH = 8;

export class EngineDriver {
  #spec: EndpointSpec | undefined;
  readonly #config: EngineConfig;
  readonly #keepMs: number;
  readonly #firstRunAtMs: number;
  readonly #everyTick: boolean;
  readonly #decide: (input: DecisionInput, config: EngineConfig) => Decision;
  readonly #onTick: ((t: DriverTick) => void) | undefined;
  readonly #history: EndpointSample[] = [];
  /** The history's `atMs` and `arrivals`, index for index (the every-sample gate reads these, not the samples). */
  readonly #columns: { readonly atMs: number[]; readonly arrivals: number[] } = { atMs: [], arrivals: [] };
  #memory: EngineMemory | undefined;
  #seasonality: Seasonality | undefined;
  #regularRunAtMs = Number.NEGATIVE_INFINITY;
  #last: Decision | undefined;
  readonly #gateInput: { spec: EndpointSpec; state: ReplicaState; history: readonly EndpointSample[]; memory: EngineMemory | undefined; nowMs: number; seasonality: Seasonality | undefined };
  /** Calls of `decide` so far (for cost accounting). */
  decisions = 0;

  constructor(o: DriverOptions) {
    this.#spec = o.spec;
    this.#config = o.config ?? defaultEngineConfig;
    this.#keepMs = Math.max(o.historyMs ?? 0, historyWindowMsFor(this.#config));
    this.#firstRunAtMs = o.firstRunAtMs ?? Number.NEGATIVE_INFINITY;
    this.#everyTick = o.decideEveryTick === true;
    this.#decide = o.decide ?? decide;
    this.#onTick = o.onTick;
    this.#seasonality = o.seasonality;
    this.#gateInput = { spec: o.spec as EndpointSpec, state: NO_REPLICAS, history: this.#history, memory: undefined, nowMs: 0, seasonality: undefined };
  }

  /** The learned seasonality: what a caller persists so that a restart keeps the forecast (`encodeSeasonality`). */
  get seasonality(): Seasonality | undefined {
    return this.#seasonality;
  }

  /** Restore a persisted seasonality (e.g. read back from the endpoint's status after a restart). */
  restoreSeasonality(s: Seasonality | undefined): void {
    this.#seasonality = s;
  }

  get config(): EngineConfig {
    return this.#config;
  }

  get spec(): EndpointSpec | undefined {
    return this.#spec;
  }

  /** The samples kept (ascending), at most the retention window plus one trim batch. */
  get history(): readonly EndpointSample[] {
    return this.#history;
  }

  get memory(): EngineMemory | undefined {
    return this.#memory;
  }

  /** The last decision `decide` made (a gated tick keeps it). */
  get lastDecision(): Decision | undefined {
    return this.#last;
  }

  /** How much history is kept, ms. */
  get historyMs(): number {
    return this.#keepMs;
  }

  /** A changed spec (the user edited the endpoint) applies from the next tick; the engine enforces new bounds at once. */
  setSpec(spec: EndpointSpec): void {
    this.#spec = spec;
  }

  /** Append the sample of the interval that ended at `sample.atMs`, and drop what the engine no longer reads. */
  observe(sample: EndpointSample): void {
    const h = this.#history;
    const at = this.#columns.atMs;
    const n = at.length;
    if (n > 0 && sample.atMs <= at[n - 1]!) return; // a duplicate or out-of-order scrape
    h.push(sample);
    at.push(sample.atMs);
    this.#columns.arrivals.push(sample.arrivals);
    const cutoff = sample.atMs - this.#keepMs;
    if (at[0]! < cutoff && h.length % TRIM_BATCH === 0) {
      const drop = at.findIndex((t) => t >= cutoff);
      const count = drop < 0 ? h.length : drop;
      h.splice(0, count);
      at.splice(0, count);
      this.#columns.arrivals.splice(0, count);
    }
  }

  /** The engine input a tick at `nowMs` would use. */
  input(nowMs: number, state: ReplicaState): DecisionInput {
    if (this.#spec === undefined) throw new Error("engine driver: no endpoint spec set; call setSpec before the first tick");
    return { spec: this.#spec, state, history: this.#history, memory: this.#memory, nowMs, ...(this.#seasonality !== undefined ? { seasonality: this.#seasonality } : {}) };
  }

  /** Whether a tick at `nowMs` would call `decide` (the gate alone, nothing changes). */
  due(nowMs: number, state: ReplicaState): boolean {
    if (nowMs < this.#firstRunAtMs) return false;
    if (this.#everyTick) return true;
    if (this.#spec === undefined) throw new Error("engine driver: no endpoint spec set; call setSpec before the first tick");
    // The gate runs every sample for every endpoint: one reused input object (decisionNeeded keeps nothing of it).
    const g = this.#gateInput;
    g.spec = this.#spec;
    g.state = state;
    g.memory = this.#memory;
    g.nowMs = nowMs;
    g.seasonality = this.#seasonality;
    return decisionNeeded(g, this.#regularRunAtMs, this.#config, this.#columns);
  }

  /**
   * One tick: decide when a decision can change anything, and remember its memory. Returns the decision, or
   * undefined when the call was skipped (then nothing would have changed: replicas and target stay as they are).
   */
  tick(nowMs: number, state: ReplicaState): Decision | undefined {
    const d = this.due(nowMs, state) ? this.decideNow(nowMs, state) : undefined;
    this.#onTick?.({ nowMs, sample: this.#history[this.#history.length - 1], state, decision: d });
    return d;
  }

  /** Decide now, without the gate (for a caller that asked `due` itself), and remember the memory. */
  decideNow(nowMs: number, state: ReplicaState): Decision {
    const d = this.#decide(this.input(nowMs, state), this.#config);
    this.decisions += 1;
    this.#memory = d.memory;
    this.#seasonality = d.seasonality;
    this.#regularRunAtMs = d.regularRunAtMs;
    this.#last = d;
    return d;
  }

  /**
   * Forget the engine's memory, as a process restart or a change of leader does: the next decision changes
   * nothing and the engine rebuilds its windows before it scales down. The sample history and the learned
   * seasonality (persisted by the caller) are kept.
   */
  restart(): void {
    this.#memory = undefined;
    this.#regularRunAtMs = Number.NEGATIVE_INFINITY;
  }
}
