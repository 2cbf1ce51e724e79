/**
 * The APA controller loop (the thin shell around the pure engine). Every `sampleIntervalMs`:
 * scrape the gateway replicas → one summed sample per endpoint (+ the latest pod metrics) → history; then, on
 * the leader only and when the engine is due, `decide()` → `guardScale()` → scale-subresource patches, an Event
 * per applied change, and a status write (target concurrency, counts, conditions) when worth it.
 * A non-leader keeps its caches and sample history warm but never calls the engine and never writes.
 */
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import { validateServingEndpoint } from "../contract/crd/validate.ts";
import { toEndpointSpec } from "../engine/from-crd.ts";
import type { ServingEndpoint, ServingEndpointStatus } from "../contract/crd/types.ts";
import { defaultEngineConfig, type EngineConfig } from "../engine/index.ts";
import type { EndpointSample, PodSample } from "../engine/types.ts";
import type { Clock } from "./clock.ts";
import { indexByEndpoint, isRollingOut, keyOfObject, replicaStateOf, resolveTargets, slicePodCount } from "./cluster-state.ts";
import { newEndpointState, type EndpointState } from "./endpoint-state.ts";
import { applyScale, emitScaleEvent } from "./scale-writes.ts";
import type { ControllerConfig } from "./config.ts";
import type { GatewayScraper } from "./gateway-scraper.ts";
import { httpStatusOf, type KubeApi } from "./kube-api.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";
import type { Reflector } from "./reflector.ts";
import { guardScale } from "./scale-guard.ts";
import { makeCaches } from "./caches.ts";
import { composeStatus } from "./endpoint-status.ts";
import { CONDITION_READY, CONDITION_SCALING, setCondition, statusNeedsWrite, type ConditionInput } from "./status.ts";
import type { WarmPoolConfig } from "./warm-pool.ts";
import { WarmPoolRunner } from "./warm-pool-runner.ts";

/** Once a load-only status write is allowed but not needed, look again after this long (not every cycle). */
const STATUS_RECHECK_MS = 5000;

/** Endpoint key → objects labelled for it, rebuilt only when the reflector's cache changes. */
interface IndexCache<T> {
  readonly changes: number;
  readonly byEndpoint: Map<string, T[]>;
}

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
  readonly #warm: WarmPoolRunner;
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
    for (const st of this.#state.values()) {
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
      const index = leader ? this.#indexes() : undefined;
      const nowIso = new Date(nowMs).toISOString();
      const decisions = new Map<string, number>();
      for (const se of this.endpoints.list()) {
        const key = keyOfObject(se);
        const st = this.#stateOf(key, nowMs);
        st.seenCycle = this.cycles;
        const gs = scrape.samples.get(se.metadata.name);
        if (gs !== undefined) {
          // Pod metrics refresh every ~15 s: attach them to the first sample after each refresh only, so the
          // engine does not re-read the same pod list 15 times (samples without pods mean "not measured now").
          const podList = pods !== undefined && pods.atMs > st.podsAtMs ? pods.byEndpoint.get(key) : undefined;
          if (podList !== undefined && pods !== undefined) st.podsAtMs = pods.atMs;
          st.driver.observe(podList !== undefined ? { ...gs.sample, pods: podList } : gs.sample);
        }
        const problem =
          scrape.degraded ??
          (gs === undefined
            ? "no gateway sample for this endpoint"
            : gs.reportingReplicas < gs.knownReplicas
              ? `only ${gs.reportingReplicas} of ${gs.knownReplicas} gateway replicas report this endpoint`
              : undefined);
        if (problem !== undefined) st.degradedUntilMs = nowMs + this.#d.config.failStaticRecoveryMs;
        if (index === undefined) continue;
        writes.push(this.#reconcile(se, st, nowMs, nowIso, gs?.sample, problem, index.deployments.get(key) ?? [], index.slices.get(key) ?? [], decisions));
      }
      for (const [key, st] of this.#state) if (st.seenCycle !== this.cycles) this.#state.delete(key);
      if (leader) {
        const placeholders = this.warmPools.list().filter((d) => (d.metadata?.namespace ?? "") === this.#d.config.warmPoolNamespace);
        writes.push(this.#warm.apply(nowMs, placeholders, this.#d.api, this.#d.log, this.#d.metrics, this.#d.isLeader));
      }
      await Promise.all(writes);
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

  #stateOf(key: string, nowMs: number): EndpointState {
    let st = this.#state.get(key);
    if (st === undefined) {
      st = newEndpointState(key, nowMs, this.#engine.horizontalIntervalMs, this.cycles, { config: this.#engine, historyMs: this.#keepMs });
      this.#state.set(key, st);
    }
    return st;
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

  async #reconcile(
    se: ServingEndpoint,
    st: EndpointState,
    nowMs: number,
    iso: string,
    sample: EndpointSample | undefined,
    problem: string | undefined,
    myDeployments: readonly V1Deployment[],
    mySlices: readonly V1EndpointSlice[],
    decisions: Map<string, number>,
  ): Promise<void> {
    const { config, metrics } = this.#d;
    const key = keyOfObject(se);
    let logger: Logger | undefined;
    // Built only when something is logged: most endpoints log nothing in most cycles.
    const elog = (): Logger => (logger ??= this.#d.log.child({ endpoint: key }));
    if (st.validated?.rv !== se.metadata.resourceVersion || st.validated === undefined) {
      const v = validateServingEndpoint(se);
      st.validated = { rv: se.metadata.resourceVersion, error: v.ok ? undefined : v.errors.map((e) => e.message).join("; ") };
    }
    const conds = st.lastStatus?.conditions ?? se.status?.conditions ?? [];
    const gen = se.metadata.generation;
    if (st.validated.error !== undefined) {
      const c = setCondition(conds, { type: CONDITION_READY, status: "False", reason: "InvalidSpec", message: st.validated.error }, iso, gen);
      return this.#writeStatus(se, st, { ...se.status, conditions: c }, nowMs, elog);
    }
    let dv = st.derived;
    if (dv === undefined || dv.se !== se || dv.deployments !== myDeployments || dv.slices !== mySlices) {
      dv = { se, deployments: myDeployments, slices: mySlices, targets: resolveTargets(se, myDeployments), spec: toEndpointSpec(se.spec), addressed: slicePodCount(se, mySlices) };
      st.derived = dv;
      st.driver.setSpec(dv.spec);
    }
    const targets = dv.targets;
    if (!targets.ok) {
      const c = setCondition(conds, { type: CONDITION_READY, status: "False", reason: targets.reason, message: targets.message }, iso, gen);
      return this.#writeStatus(se, st, { ...se.status, conditions: c }, nowMs, elog);
    }
    const addressed = dv.addressed;
    const current = targets.targets.reduce((n, t) => n + (t.deployment.spec?.replicas ?? 0), 0);
    if (addressed >= current) st.noAddressSinceMs = undefined;
    else st.noAddressSinceMs ??= nowMs;
    const state = replicaStateOf({
      targets: targets.targets,
      podsWithAddress: addressed,
      // What this leader last wrote is newer than the cache until the watch delivers it back.
      targetConcurrency: st.lastStatus?.targetConcurrency ?? se.status?.targetConcurrency ?? 0,
      noAddressSinceMs: st.noAddressSinceMs,
      nowMs,
      unschedulableAfterMs: config.unschedulableAfterMs,
    });
    const degraded = problem ?? (nowMs < st.degradedUntilMs ? `metrics recovered less than ${config.failStaticRecoveryMs} ms ago` : undefined);
    // The shared driver's gate (decisionNeeded, or every cycle for the benchmark): a skipped call changes nothing.
    const due = this.#d.decideEveryCycle === true || st.driver.due(nowMs, state);
    const last = st.lastStatus;
    const quiet = (d: number, t: number, scaledAt: string | undefined): boolean =>
      last !== undefined &&
      last.replicas === state.desiredReplicas &&
      last.readyReplicas === state.readyReplicas &&
      last.desiredReplicas === d &&
      (last.targetConcurrency ?? 0) === t &&
      last.lastScaleTime === scaledAt &&
      st.lastDegraded === (degraded !== undefined) &&
      nowMs < st.statusCheckAtMs;
    if (!due && quiet(last?.desiredReplicas ?? -1, last?.targetConcurrency ?? 0, last?.lastScaleTime)) {
      // Nothing the status shows at once can have changed; skip building it (10,000 endpoints, every second).
      return;
    }
    let desired = state.desiredReplicas;
    let scaling: ConditionInput = { type: CONDITION_SCALING, status: "True", reason: "Waiting", message: "engine not due yet" };
    let target = state.targetConcurrency;
    let observed = st.lastStatus?.observedConcurrency;
    let lastScaleTime = st.lastStatus?.lastScaleTime ?? se.status?.lastScaleTime;
    const previous = st.lastStatus ?? se.status;
    if (due) {
      const e0 = performance.now();
      const d = st.driver.decideNow(nowMs, state);
      this.lastCycle.engineMs += performance.now() - e0;
      this.lastCycle.engineCalls += 1;
      target = d.targetConcurrency;
      observed = d.observedConcurrency ?? observed;
      desired = d.desiredReplicas;
      const action = guardScale({
        currentReplicas: state.desiredReplicas,
        desiredReplicas: d.desiredReplicas,
        metricsDegraded: degraded,
        rollingOut: targets.targets.some((t) => isRollingOut(t.deployment)),
      });
      const dk = `${d.replicasReason}/${action.kind}`;
      decisions.set(dk, (decisions.get(dk) ?? 0) + 1);
      const prevScaling = previous?.conditions?.find((x) => x.type === CONDITION_SCALING);
      scaling =
        d.replicasReason === "NotDue" && prevScaling !== undefined
          ? { type: CONDITION_SCALING, status: prevScaling.status, reason: prevScaling.reason, message: prevScaling.message }
          : { type: CONDITION_SCALING, status: "True", reason: d.replicasReason, message: d.replicasMessage };
      if (action.kind === "hold") {
        scaling = { type: CONDITION_SCALING, status: "True", reason: action.reason, message: action.message };
        desired = state.desiredReplicas;
        elog().info("scale held", { reason: action.reason, message: action.message });
      } else if (action.kind === "scale") {
        const applied = await applyScale(this.#d, targets.targets.map((t) => t.deployment), targets.targets.map((t) => t.weight), action.to, elog());
        if (applied) {
          lastScaleTime = new Date(nowMs).toISOString();
          await emitScaleEvent(this.#d, { se, from: action.from, to: action.to, reason: d.replicasReason, message: d.replicasMessage, nowMs }, elog());
          elog().info("scaled", { from: action.from, to: action.to, reason: d.replicasReason, message: d.replicasMessage });
        } else {
          desired = state.desiredReplicas;
          scaling = { type: CONDITION_SCALING, status: "False", reason: "ScaleFailed", message: `could not set replicas to ${action.to}; retrying next decision` };
        }
      }
    } else if (previous?.conditions !== undefined) {
      const prevScaling = previous.conditions.find((c) => c.type === CONDITION_SCALING);
      if (prevScaling !== undefined) scaling = { type: prevScaling.type, status: prevScaling.status, reason: prevScaling.reason, message: prevScaling.message };
    }
    if (quiet(desired, target, lastScaleTime)) {
      // The engine ran but nothing the status shows at once changed (the common case every second).
      return;
    }
    metrics.desiredReplicas.set({ endpoint: key }, desired);
    metrics.readyReplicas.set({ endpoint: key }, state.readyReplicas);
    metrics.targetConcurrency.set({ endpoint: key }, target);
    st.lastDegraded = degraded !== undefined;
    const next = composeStatus({
      previous,
      conditions: conds,
      scaling,
      degraded,
      recovering: problem === undefined,
      state,
      desired,
      target,
      observed,
      sample,
      lastScaleTime,
      generation: gen,
      nowIso: iso,
      name: se.metadata.name,
      scaleToZero: se.spec.scaleToZero === true,
    });
    return this.#writeStatus(se, st, next, nowMs, elog);
  }

  async #writeStatus(se: ServingEndpoint, st: EndpointState, next: ServingEndpointStatus, nowMs: number, log: () => Logger): Promise<void> {
    if (!statusNeedsWrite(st.lastStatus ?? se.status, next, st.lastStatusWriteMs, nowMs, this.#d.config.statusMinIntervalMs)) {
      if (st.lastStatusWriteMs === undefined || nowMs - st.lastStatusWriteMs >= this.#d.config.statusMinIntervalMs) st.statusCheckAtMs = nowMs + STATUS_RECHECK_MS;
      return;
    }
    if (!this.#d.isLeader()) return;
    try {
      await this.#d.api.patchServingEndpointStatus(se.metadata.namespace ?? "", se.metadata.name, next);
      st.lastStatus = next;
      st.lastStatusWriteMs = nowMs;
      st.statusCheckAtMs = nowMs + this.#d.config.statusMinIntervalMs;
    } catch (err) {
      this.#d.metrics.kubeWriteErrors.inc({ op: "status", status: String(httpStatusOf(err) ?? "network") });
      log().warn("status write failed", { error: err, status: httpStatusOf(err) });
    }
  }
}
