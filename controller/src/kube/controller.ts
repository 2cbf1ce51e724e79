/**
 * The APA controller loop (the thin shell around the pure engine). Every `sampleIntervalMs`:
 * scrape the gateway replicas → one summed sample per endpoint (+ the latest pod metrics) → history; then, on
 * the leader only and when the engine is due, `decide()` → `guardScale()` → scale-subresource patches, an Event
 * per applied change, and a status write (target concurrency, counts, conditions) when worth it.
 * A non-leader keeps its caches and sample history warm but never calls the engine and never writes.
 */
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import type { ServingEndpoint, ServingEndpointStatus } from "../contract/crd/types.ts";
import { defaultEngineConfig, type EngineConfig } from "../engine/index.ts";
import type { PodSample } from "../engine/types.ts";
import type { Clock } from "./clock.ts";
import { indexByEndpoint, keyOfObject } from "./cluster-state.ts";
import { historySample, newEndpointState, restoreSeasonality, type EndpointState } from "./endpoint-state.ts";
import { queueStatusWrite, sendEventWrite, type WriteDeps } from "./scale-writes.ts";
import { reconcileEndpoint, type ReconcileContext } from "./reconcile-endpoint.ts";
import { EventRecorder } from "./event-recorder.ts";
import { WriteQueue } from "./write-queue.ts";
import type { ControllerConfig } from "./config.ts";
import type { GatewayScraper } from "./gateway-scraper.ts";
import type { KubeApi } from "./kube-api.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";
import type { Reflector } from "./reflector.ts";
import { gatewayNameOwners } from "./name-owners.ts";
import { podSelectorOf } from "./endpoint-status.ts";
import { makeCaches } from "./caches.ts";
import { CONDITION_READY, setCondition, statusNeedsWrite } from "./status.ts";
import type { WarmPoolConfig } from "./warm-pool.ts";
import { WarmPoolRunner } from "./warm-pool-runner.ts";

/**
 * Once a load-only status write is allowed but not needed, look again after this long (not every cycle): each
 * look composes the status (10,000 endpoints: every 15 s is ~670 a second). Load-only changes are written at
 * most every `--status-min-interval-ms` anyway.
 */
const STATUS_RECHECK_MS = 15_000;

/** How long after a status write the watch cache may still show the old status, ms. */
const WATCH_LAG_MS = 5000;

/** Endpoint key → objects labelled for it, rebuilt only when the reflector's cache changes. */
interface IndexCache<T> {
  readonly changes: number;
  readonly byEndpoint: Map<string, T[]>;
}

/** One endpoint as a cycle walks it (controller.ts `#entriesAt`). */
interface EndpointEntry {
  readonly se: ServingEndpoint;
  readonly key: string;
  readonly st: EndpointState;
  /** The endpoint of the same name in another namespace that the gateway serves instead, if any. */
  readonly clash: ServingEndpoint | undefined;
  readonly deployments: readonly V1Deployment[];
  readonly slices: readonly V1EndpointSlice[];
}

const NONE: readonly never[] = Object.freeze([]);

export interface ControllerDeps {
  readonly api: KubeApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  readonly config: ControllerConfig;
  readonly scraper: GatewayScraper;
  readonly isLeader: () => boolean;
  /** Latest pod samples per endpoint key and when they were taken, if pod metrics are enabled. */
  readonly podSamples?: () => { readonly atMs: number; readonly byEndpoint: ReadonlyMap<string, readonly PodSample[]> } | undefined;
  readonly engineConfig?: EngineConfig;
  readonly warmPool: WarmPoolConfig;
  /** Run the engine for every endpoint every cycle instead of when it asks (`nextRunAtMs`); benchmark use. @default false */
  readonly decideEveryCycle?: boolean;
  /** Delay used by the reflectors' backoff. @default clock.sleep */
  readonly delayFn?: (ms: number) => Promise<void>;
}

export class ApaController {
  readonly endpoints: Reflector<ServingEndpoint>;
  readonly deployments: Reflector<V1Deployment>;
  readonly slices: Reflector<V1EndpointSlice>;
  readonly warmPools: Reflector<V1Deployment>;
  readonly #d: ControllerDeps;
  readonly #engine: EngineConfig;
  /** Samples kept per endpoint (the driver never keeps less than the engine reads). */
  readonly #keepMs: number;
  readonly #state = new Map<string, EndpointState>();
  #deploymentIndex: IndexCache<V1Deployment> | undefined;
  #sliceIndex: IndexCache<V1EndpointSlice> | undefined;
  #owners: { readonly changes: number; readonly owners: Map<string, ServingEndpoint> } | undefined;
  #entries: { readonly endpoints: number; readonly deployments: number; readonly slices: number; readonly list: readonly EndpointEntry[] } | undefined;
  /** Entry-list rebuilds so far (states not seen by the latest one belong to deleted endpoints). */
  #builds = 0;
  readonly #warm: WarmPoolRunner;
  /** Every status, scale and Event write: token bucket, per-key backoff, newest write per key. */
  readonly queue: WriteQueue;
  /** Aggregates similar Events (event-recorder.ts). */
  readonly events = new EventRecorder();
  readonly #writes: WriteDeps;
  readonly #context: ReconcileContext;
  #running = false;
  #stopped = true;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  /** Completed cycles (tests wait on it). */
  cycles = 0;
  /** Breakdown of the last cycle (wall ms, `performance.now()`): scrape+parse, engine calls and time inside `decide`. */
  lastCycle = { scrapeMs: 0, engineCalls: 0, engineMs: 0, totalMs: 0 };
  lastCycleAtMs: number | undefined;

  constructor(deps: ControllerDeps) {
    this.#d = deps;
    this.#engine = deps.engineConfig ?? defaultEngineConfig;
    this.#keepMs = deps.config.historyWindowMs;
    this.#warm = new WarmPoolRunner(deps.warmPool, deps.clock.nowMs());
    this.queue = new WriteQueue({ qps: deps.config.kubeApiQps, burst: deps.config.kubeApiBurst });
    this.#writes = { api: deps.api, metrics: deps.metrics, config: deps.config, isLeader: deps.isLeader, queue: this.queue, events: this.events };
    const self = this;
    this.#context = {
      deps,
      writes: this.#writes,
      get lastCycle() {
        return self.lastCycle;
      },
      writeStatus: (se, st, next, nowMs, log) => this.#writeStatus(se, st, next, nowMs, log),
    };
    const caches = makeCaches(deps, (type, d) =>
      this.#warm.onDeploymentChange(type, d, deps.clock.nowMs(), (ns, n) => this.endpoints.get(ns, n)),
    );
    this.endpoints = caches.endpoints;
    this.deployments = caches.deployments;
    this.slices = caches.slices;
    this.warmPools = caches.warmPools;
  }

  /** True once every cache has been listed. */
  get synced(): boolean {
    return this.endpoints.hasSynced && this.deployments.hasSynced && this.slices.hasSynced && this.warmPools.hasSynced;
  }

  /** Starts the loop (and the caches). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    this.startCaches();
    this.#loop = this.#run();
  }

  /** Starts only the list+watch caches (tests and the benchmark drive `runCycle` themselves). */
  startCaches(): void {
    for (const r of [this.endpoints, this.deployments, this.slices, this.warmPools]) r.start();
  }

  /** Stops the loop after the current cycle finishes, then the watches. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#loop;
    await Promise.all([this.endpoints, this.deployments, this.slices, this.warmPools].map((r) => r.stop()));
  }

  /** Forget engine memory and what this process wrote (on losing leadership): a new term starts from cluster state. */
  resetMemory(): void {
    this.queue.clear();
    this.#writes.events.clear();
    for (const [key, st] of this.#state) {
      // A standby publishes no per-endpoint figures: the new leader's are the ones to read.
      this.#forgetSeries(key);
      st.exported = undefined;
      st.driver.restart();
      st.lastStatus = undefined;
      st.lastStatusWriteMs = undefined;
      st.statusCheckAtMs = Number.NEGATIVE_INFINITY;
    }
  }

  async #run(): Promise<void> {
    const { clock, config, metrics } = this.#d;
    let next = clock.nowMs();
    while (!this.#stopped) {
      const now = clock.nowMs();
      if (this.#running) metrics.loopSkipped.inc();
      else await this.runCycle(now);
      next += config.sampleIntervalMs;
      if (next < clock.nowMs()) next = clock.nowMs() + config.sampleIntervalMs;
      await clock.sleep(next - clock.nowMs(), this.#abort.signal);
    }
  }

  /** One cycle at `nowMs`. Public for tests and the benchmark. */
  async runCycle(nowMs: number): Promise<void> {
    if (!this.synced) return;
    this.#running = true;
    const started = performance.now();
    this.lastCycle = { scrapeMs: 0, engineCalls: 0, engineMs: 0, totalMs: 0 };
    try {
      const scrape = await this.#d.scraper.scrape(nowMs);
      this.lastCycle.scrapeMs = performance.now() - started;
      const pods = this.#d.podSamples?.();
      const leader = this.#d.isLeader();
      this.#d.metrics.isLeader.set(leader ? 1 : 0);
      const writes: Promise<void>[] = [];
      const nowIso = new Date(nowMs).toISOString();
      const decisions = new Map<string, number>();
      const samples = scrape.samples;
      for (const e of this.#entriesAt(nowMs)) {
        const { se, st } = e;
        // The gateway serves one endpoint per name: another namespace's endpoint of that name gets no samples.
        const gs = e.clash === undefined ? samples.get(se.metadata.name) : undefined;
        if (gs !== undefined) {
          // Pod metrics refresh every ~15 s: attach them to the first sample after each refresh only, so the
          // engine does not re-read the same pod list 15 times (samples without pods mean "not measured now").
          const podList = pods !== undefined && pods.atMs > st.podsAtMs ? pods.byEndpoint.get(e.key) : undefined;
          if (podList !== undefined && pods !== undefined) st.podsAtMs = pods.atMs;
          st.driver.observe(historySample(gs.sample, podList));
        }
        const problem =
          scrape.degraded ??
          (gs === undefined
            ? "no gateway sample for this endpoint"
            : gs.reportingReplicas < gs.knownReplicas
              ? `only ${gs.reportingReplicas} of ${gs.knownReplicas} gateway replicas report this endpoint`
              : undefined);
        if (problem !== undefined) st.degradedUntilMs = nowMs + this.#d.config.failStaticRecoveryMs;
        if (!leader) continue;
        if (e.clash !== undefined) {
          writes.push(this.#refuseNameConflict(se, st, e.clash, nowMs));
          continue;
        }
        const w = reconcileEndpoint(this.#context, se, st, nowMs, nowIso, gs?.sample, problem, e.deployments, e.slices, decisions, e.key);
        if (w !== undefined) writes.push(w);
      }
      if (leader) {
        const placeholders = this.warmPools.list().filter((d) => (d.metadata?.namespace ?? "") === this.#d.config.warmPoolNamespace);
        writes.push(this.#warm.apply(nowMs, placeholders, this.#d.api, this.#d.log, this.#d.metrics, this.#d.isLeader));
      }
      await Promise.all(writes);
      if (leader) {
        for (const w of this.#writes.events.flush(nowMs)) sendEventWrite(this.#writes, w, nowMs, this.#d.log);
        await this.queue.drain(nowMs);
      }
      this.#d.metrics.pendingWrites.set(this.queue.size);
      for (const [k, n] of decisions) {
        const [reason = "", action = ""] = k.split("/");
        this.#d.metrics.decisions.inc({ reason, action }, n);
      }
    } finally {
      this.#running = false;
      this.cycles += 1;
      this.lastCycleAtMs = nowMs;
      this.lastCycle.totalMs = performance.now() - started;
      this.#d.metrics.loopSeconds.observe(this.lastCycle.totalMs / 1000);
    }
  }

  /**
   * Every endpoint with its key, state, gateway-name clash and objects, rebuilt only when one of the caches
   * changed (the cycle then walks a prepared list: no key strings built or hashed per endpoint per second). A
   * rebuild also drops the state of endpoints that are gone.
   */
  #entriesAt(nowMs: number): readonly EndpointEntry[] {
    const e = this.#entries;
    if (e !== undefined && e.endpoints === this.endpoints.changes && e.deployments === this.deployments.changes && e.slices === this.slices.changes) return e.list;
    const index = this.#indexes();
    const owners = this.#nameOwners();
    const list: EndpointEntry[] = [];
    const build = (this.#builds += 1);
    for (const se of this.endpoints.list()) {
      const key = keyOfObject(se);
      const st = this.#stateOf(key, nowMs);
      st.seenCycle = build;
      restoreSeasonality(st, se.status);
      const owner = owners.get(se.metadata.name);
      const clash = owner !== undefined && owner !== se ? owner : undefined;
      list.push({ se, key, st, clash, deployments: index.deployments.get(key) ?? NONE, slices: index.slices.get(key) ?? NONE });
    }
    for (const [key, st] of this.#state) {
      if (st.seenCycle === build) continue;
      this.#state.delete(key);
      this.queue.cancel("status", key);
      this.#forgetSeries(key);
    }
    this.#entries = { endpoints: this.endpoints.changes, deployments: this.deployments.changes, slices: this.slices.changes, list };
    return list;
  }

  #stateOf(key: string, nowMs: number): EndpointState {
    let st = this.#state.get(key);
    if (st === undefined) {
      st = newEndpointState(key, nowMs, this.#engine.horizontalIntervalMs, this.cycles, { config: this.#engine, historyMs: this.#keepMs });
      this.#state.set(key, st);
    }
    return st;
  }

  /** Drops an endpoint's per-endpoint metric series (deleted, or this replica stopped leading). */
  #forgetSeries(key: string): void {
    const m = this.#d.metrics;
    for (const g of [m.desiredReplicas, m.readyReplicas, m.targetConcurrency]) g.remove({ endpoint: key });
  }

  #nameOwners(): Map<string, ServingEndpoint> {
    if (this.#owners?.changes !== this.endpoints.changes) this.#owners = { changes: this.endpoints.changes, owners: gatewayNameOwners(this.endpoints.list()) };
    return this.#owners.owners;
  }

  /** `Ready=False`, reason `NameConflict`: the gateway serves the older endpoint of this name, so this one is not scaled. */
  #refuseNameConflict(se: ServingEndpoint, st: EndpointState, owner: ServingEndpoint, nowMs: number): Promise<void> {
    const message = `name ${se.metadata.name} is already served at the gateway by namespace ${owner.metadata.namespace ?? ""} (older); rename this endpoint: it is not served or scaled`;
    const iso = new Date(nowMs).toISOString();
    const conds = setCondition(st.lastStatus?.conditions ?? se.status?.conditions ?? [], { type: CONDITION_READY, status: "False", reason: "NameConflict", message }, iso, se.metadata.generation);
    return this.#writeStatus(se, st, { ...se.status, selector: podSelectorOf(se.metadata.name), conditions: conds }, nowMs, () => this.#d.log.child({ endpoint: keyOfObject(se) }));
  }

  /** Endpoint key → its Deployments, rebuilt only when the Deployment cache changes (the pod-metrics join reads it). */
  deploymentsByEndpoint(): ReadonlyMap<string, readonly V1Deployment[]> {
    return this.#indexes().deployments;
  }

  #indexes(): { deployments: Map<string, V1Deployment[]>; slices: Map<string, V1EndpointSlice[]> } {
    if (this.#deploymentIndex?.changes !== this.deployments.changes) {
      this.#deploymentIndex = { changes: this.deployments.changes, byEndpoint: indexByEndpoint(this.deployments.list()) };
    }
    if (this.#sliceIndex?.changes !== this.slices.changes) {
      this.#sliceIndex = { changes: this.slices.changes, byEndpoint: indexByEndpoint(this.slices.list()) };
    }
    return { deployments: this.#deploymentIndex.byEndpoint, slices: this.#sliceIndex.byEndpoint };
  }

  /**
   * Queues `next` when it differs from the status the API server has (the observed object). Right after a
   * write the watch may not have brought it back yet: for `WATCH_LAG_MS` the last write stands in for it.
   */
  async #writeStatus(se: ServingEndpoint, st: EndpointState, next: ServingEndpointStatus, nowMs: number, log: () => Logger): Promise<void> {
    st.statusSeenSe = se;
    const recent = st.lastStatus !== undefined && st.lastStatusWriteMs !== undefined && nowMs - st.lastStatusWriteMs < WATCH_LAG_MS;
    const observed = recent ? st.lastStatus : se.status;
    if (!statusNeedsWrite(observed, next, st.lastStatusWriteMs, nowMs, this.#d.config.statusMinIntervalMs)) {
      if (st.lastStatusWriteMs === undefined || nowMs - st.lastStatusWriteMs >= this.#d.config.statusMinIntervalMs) st.statusCheckAtMs = nowMs + STATUS_RECHECK_MS;
      this.queue.cancel("status", keyOfObject(se));
      return;
    }
    if (!this.#d.isLeader()) return;
    queueStatusWrite(this.#writes, se, next, nowMs, () => {
      const at = this.#d.clock.nowMs();
      st.lastStatus = next;
      st.lastStatusWriteMs = at;
      st.statusCheckAtMs = at + this.#d.config.statusMinIntervalMs;
    }, log);
  }
}
