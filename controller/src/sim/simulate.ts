/**
 * The discrete-event simulation of one endpoint:
 * arrivals → gateway (central FIFO queue, per-pod limit = target concurrency, queue timeout and queue
 * bound → 429, least-connections dispatch) → pods running a model profile → completion.
 * Pods are created on a free node slot (warm pool or an idle node) or on a new node (`nodeStartS`),
 * become ready after `podStartS`, and drain their in-flight requests when deleted. Beyond `maxPods`
 * they stay unschedulable. The hot path works on typed arrays and allocates nothing per request.
 */
import type { EndpointSample, PodSample, ReplicaState } from "../engine/types.ts";
import { IndexedMinHeap, TimerQueue, TripleHeap } from "./heaps.ts";
import { BUCKETS, bucketOf, quantile } from "./histogram.ts";
import { PodModel } from "./model.ts";
import type { Policy, PodObservation, PodPhase } from "./policies/types.ts";
import { Prng } from "./prng.ts";
import type { Scenario } from "./scenario-types.ts";
import { Series, type ScaleEvent } from "./series.ts";
import { ArrivalStream } from "./traffic.ts";

const FREE = 0;
const UNSCHED = 1; // no capacity in the cluster
const WAIT_NODE = 2; // a node is being added for it (counted as starting)
const STARTING = 3;
const READY = 4;
const DRAINING = 5;

/** Seconds simulated after the last arrival so queued and in-flight requests finish. */
export const DRAIN_TAIL_S = 120;

export interface SimOutput {
  readonly series: Series;
  readonly scaleEvents: readonly ScaleEvent[];
  /** Requests still queued or in flight when the drain tail ended. */
  readonly unfinished: number;
  readonly peakReplicas: number;
  /** The per-pod limit when the scenario ended. */
  readonly finalTargetConcurrency: number;
  /** Events processed (arrivals + completions), for speed reports. */
  readonly events: number;
}

export interface SimOptions {
  readonly initialReplicas: number;
}

/** Run one policy on one scenario. Deterministic for the scenario's seed. */
export function simulate(scenario: Scenario, policy: Policy, opts: SimOptions): SimOutput {
  return new Simulation(scenario, policy, opts).run();
}

class Simulation {
  private readonly sc: Scenario;
  private readonly policy: Policy;
  private readonly model: PodModel;
  private readonly rng: Prng;
  private readonly arrivals: ArrivalStream;
  private readonly series: Series;
  private readonly timers = new TimerQueue();
  private readonly endMs: number;
  private readonly durationMs: number;

  // pods, by slot id
  private readonly cap: number;
  private readonly phase: Uint8Array;
  private readonly createdAt: Float64Array;
  private readonly readyAt: Float64Array;
  private readonly vclock: Float64Array;
  private readonly lastT: Float64Array;
  private readonly areaN: Float64Array;
  private readonly areaBusy: Float64Array;
  private readonly areaCores: Float64Array;
  private readonly n: Int32Array;
  private readonly epoch: Int32Array;
  private readonly reqs: TripleHeap[];
  private readonly freeSlots: number[] = [];
  private highWater = 0;
  /** Pods waiting for a node slot (UNSCHED or WAIT_NODE), oldest first. */
  private waiting: number[] = [];

  // cluster capacity, in pod slots
  private nodeSlots: number;
  private usedSlots = 0;
  private provisioning = 0;
  private idleSince: number[] = [];

  // gateway
  private limit: number;
  private readonly avail: IndexedMinHeap; // ready pods with n < limit, keyed by n (least connections)
  private readonly completions: IndexedMinHeap; // pod id → next completion time
  private readonly qTimes: Float64Array;
  private readonly qCosts: Float64Array;
  private qHead = 0;
  private qLen = 0;
  private readonly qCap: number;
  private qTimeoutAt = Infinity;
  private inFlight = 0;

  // counts
  private cnt = [0, 0, 0, 0, 0, 0]; // pods per phase
  private desired: number;
  private peak = 0;
  private events = 0;
  private readonly scaleEvents: ScaleEvent[] = [];

  // current second accumulators
  private sec = 0;
  private nowMs = 0;
  private areaConc = 0;
  private areaPods = 0;
  private lastAreaT = 0;
  private waitSum = 0;
  private dispatched = 0;
  private serviceSum = 0;

  constructor(sc: Scenario, policy: Policy, opts: SimOptions) {
    this.sc = sc;
    this.policy = policy;
    this.model = new PodModel(sc.model);
    this.rng = new Prng(sc.seed * 104729 + 3);
    this.arrivals = new ArrivalStream(sc);
    this.durationMs = sc.durationS * 1000;
    this.endMs = this.durationMs + DRAIN_TAIL_S * 1000;
    this.series = new Series(Math.ceil(sc.durationS) + DRAIN_TAIL_S);
    this.cap = sc.cluster.maxPods + sc.endpoint.replicas.max + opts.initialReplicas + 8;
    const c = this.cap;
    this.phase = new Uint8Array(c);
    this.createdAt = new Float64Array(c);
    this.readyAt = new Float64Array(c);
    this.vclock = new Float64Array(c);
    this.lastT = new Float64Array(c);
    this.areaN = new Float64Array(c);
    this.areaBusy = new Float64Array(c);
    this.areaCores = new Float64Array(c);
    this.n = new Int32Array(c);
    this.epoch = new Int32Array(c);
    this.reqs = [];
    this.avail = new IndexedMinHeap(c);
    this.completions = new IndexedMinHeap(c);
    this.qCap = sc.gateway.maxQueue;
    this.qTimes = new Float64Array(Math.max(1, this.qCap));
    this.qCosts = new Float64Array(Math.max(1, this.qCap));
    this.limit = Math.max(1, policy.initialTargetConcurrency);
    const initial = Math.min(opts.initialReplicas, sc.cluster.maxPods);
    this.nodeSlots = Math.max(sc.cluster.warmPoolPods, initial);
    for (let i = 0; i < this.nodeSlots; i++) this.idleSince.push(-Infinity);
    this.desired = initial;
    for (let i = 0; i < initial; i++) {
      const p = this.newPod(0);
      this.takeSlot();
      this.phase[p] = READY;
      this.readyAt[p] = 0;
      this.cnt[READY]!++;
      this.avail.set(p, 0);
    }
    this.peak = initial;
  }

  run(): SimOutput {
    for (let s = 1; s <= this.series.length; s++) this.timers.add(s * 1000, () => this.endSecond());
    this.timers.add(10_000, () => this.nodeReaper());
    this.schedulePolicy();
    let nextArrival = this.arrivals.next();
    if (nextArrival >= this.durationMs) nextArrival = Infinity;
    for (;;) {
      const tTimer = this.timers.nextAtMs;
      const tComp = this.completions.peekKey();
      const tQ = this.qTimeoutAt;
      let t = tTimer;
      if (tComp < t) t = tComp;
      if (tQ < t) t = tQ;
      if (nextArrival < t) t = nextArrival;
      if (t >= this.endMs) break;
      this.touch(t);
      if (t === tTimer) {
        this.timers.pop()!();
      } else if (t === tComp) {
        this.complete(this.completions.peekId(), t);
      } else if (t === tQ) {
        this.timeoutHead(t);
      } else {
        this.arrive(t, this.arrivals.cost);
        nextArrival = this.arrivals.next();
        if (nextArrival >= this.durationMs) nextArrival = Infinity;
      }
    }
    return {
      series: this.series,
      scaleEvents: this.scaleEvents,
      unfinished: this.inFlight + this.qLen,
      peakReplicas: this.peak,
      finalTargetConcurrency: this.limit,
      events: this.events,
    };
  }

  /** Advance the time-weighted accumulators to t. */
  private touch(t: number): void {
    const dt = t - this.lastAreaT;
    if (dt > 0) {
      this.areaConc += (this.inFlight + this.qLen) * dt;
      this.areaPods += (this.cnt[STARTING]! + this.cnt[READY]! + this.cnt[DRAINING]!) * dt;
      this.lastAreaT = t;
    }
    this.nowMs = t;
  }

  // ---- requests -------------------------------------------------------------------------------

  private arrive(t: number, cost: number): void {
    this.events++;
    this.series.arrivals[this.sec]!++;
    if (this.qLen === 0 && this.avail.size > 0) {
      this.dispatch(this.avail.peekId(), t, t, cost);
      return;
    }
    if (this.qLen >= this.qCap) {
      this.series.rejected[this.sec]!++;
      return;
    }
    const i = (this.qHead + this.qLen) % this.qCap;
    this.qTimes[i] = t;
    this.qCosts[i] = cost;
    this.qLen++;
    if (this.qLen === 1) this.qTimeoutAt = t + this.sc.slo.queueTimeoutMs;
  }

  private timeoutHead(t: number): void {
    this.popQueue();
    this.series.rejected[this.sec]!++;
    void t;
  }

  private popQueue(): void {
    this.qHead = (this.qHead + 1) % this.qCap;
    this.qLen--;
    this.qTimeoutAt = this.qLen > 0 ? this.qTimes[this.qHead]! + this.sc.slo.queueTimeoutMs : Infinity;
  }

  /** Move queued requests to pods while both exist. */
  private drainQueue(t: number): void {
    while (this.qLen > 0 && this.avail.size > 0) {
      const arrivedAt = this.qTimes[this.qHead]!;
      const cost = this.qCosts[this.qHead]!;
      this.popQueue();
      this.dispatch(this.avail.peekId(), t, arrivedAt, cost);
    }
  }

  private dispatch(p: number, t: number, arrivedAt: number, cost: number): void {
    this.waitSum += t - arrivedAt;
    this.dispatched++;
    const n = this.n[p]!;
    if (n >= this.model.failAt) {
      // over the memory cap: the model server fails the request at once
      this.series.failed[this.sec]!++;
      return;
    }
    this.advance(p, t);
    const work = this.model.baseWorkMs * cost * this.model_jitter();
    this.reqs[p]!.push(this.vclock[p]! + work, arrivedAt, t);
    this.n[p] = n + 1;
    this.inFlight++;
    if (n + 1 >= this.limit) this.avail.remove(p);
    else this.avail.set(p, n + 1);
    this.reschedule(p, t);
  }

  private model_jitter(): number {
    return this.model.jitter > 0 ? this.rng.jitterFactor(this.model.jitter) : 1;
  }

  private complete(p: number, t: number): void {
    this.events++;
    this.advance(p, t);
    const h = this.reqs[p]!;
    const arrivedAt = h.topA();
    const startedAt = h.topB();
    h.pop();
    const n = --this.n[p]!;
    this.inFlight--;
    const latency = t - arrivedAt;
    const s = this.sec;
    this.series.served[s]!++;
    if (latency <= this.sc.slo.p99Ms) this.series.good[s]!++;
    this.series.hist[s * BUCKETS + bucketOf(latency)]!++;
    this.serviceSum += t - startedAt;
    if (this.phase[p] === DRAINING) {
      if (n === 0) this.podGone(p);
      else this.reschedule(p, t);
      return;
    }
    if (n < this.limit) this.avail.set(p, n);
    this.reschedule(p, t);
    if (this.qLen > 0) this.drainQueue(t);
  }

  /** Bring pod p's virtual clock and utilisation integrals up to t. */
  private advance(p: number, t: number): void {
    const dt = t - this.lastT[p]!;
    if (dt <= 0) return;
    const n = this.n[p]!;
    if (n > 0) {
      this.vclock[p]! += dt * this.model.rate(n);
      this.areaN[p]! += n * dt;
      this.areaBusy[p]! += dt;
      this.areaCores[p]! += (n < this.model.par ? n : this.model.par) * dt;
    }
    this.lastT[p] = t;
  }

  private reschedule(p: number, t: number): void {
    const n = this.n[p]!;
    if (n === 0) {
      this.completions.remove(p);
      return;
    }
    const left = this.reqs[p]!.topKey() - this.vclock[p]!;
    this.completions.set(p, t + (left > 0 ? left / this.model.rate(n) : 0));
  }

  // ---- pods and nodes -------------------------------------------------------------------------

  private newPod(t: number): number {
    let p = this.freeSlots.pop();
    if (p === undefined) {
      p = this.highWater++;
      if (p >= this.cap) throw new Error(`simulator pod table full (${this.cap})`);
      this.reqs[p] = new TripleHeap();
    }
    this.createdAt[p] = t;
    this.readyAt[p] = NaN;
    this.vclock[p] = 0;
    this.lastT[p] = t;
    this.areaN[p] = 0;
    this.areaBusy[p] = 0;
    this.areaCores[p] = 0;
    this.n[p] = 0;
    this.reqs[p]!.clear();
    return p;
  }

  private takeSlot(): void {
    this.usedSlots++;
    this.idleSince.pop();
  }

  private setPhase(p: number, ph: number): void {
    this.cnt[this.phase[p]!]!--;
    this.phase[p] = ph;
    this.cnt[ph]!++;
    const live = this.cnt[STARTING]! + this.cnt[READY]!;
    if (live > this.peak) this.peak = live;
  }

  /** Create one pod: on a free slot, else on a new node, else unschedulable. */
  private createPod(t: number): void {
    const p = this.newPod(t);
    this.phase[p] = FREE;
    this.cnt[FREE]!++;
    if (this.usedSlots < this.nodeSlots) this.startOnSlot(p, t, 0);
    else {
      this.setPhase(p, UNSCHED);
      this.waiting.push(p);
      this.requestNodes();
    }
  }

  private startOnSlot(p: number, t: number, extraS: number): void {
    this.takeSlot();
    this.setPhase(p, STARTING);
    const ep = this.epoch[p]!;
    const at = t + (extraS + this.sc.cluster.podStartS) * 1000;
    this.timers.add(at, () => {
      if (this.epoch[p] !== ep || this.phase[p] !== STARTING) return;
      this.setPhase(p, READY);
      this.readyAt[p] = this.nowMs;
      this.lastT[p] = this.nowMs;
      if (this.limit > 0) this.avail.set(p, 0);
      this.drainQueue(this.nowMs);
    });
  }

  /** Ask for node slots for waiting pods while the cluster may still grow (cluster-autoscaler scale-up). */
  private requestNodes(): void {
    while (this.provisioning < this.waiting.length && this.nodeSlots + this.provisioning < this.sc.cluster.maxPods) {
      this.provisioning++;
      this.timers.add(this.nowMs + this.sc.cluster.nodeStartS * 1000, () => {
        this.provisioning--;
        this.nodeSlots++;
        this.idleSince.push(this.nowMs);
        this.placeWaiting(this.sc.cluster.imagePullS);
      });
    }
    // the oldest waiting pods get the nodes on their way; the rest cannot be scheduled
    this.waiting.forEach((p, i) => {
      const ph = i < this.provisioning ? WAIT_NODE : UNSCHED;
      if (this.phase[p] !== ph) this.setPhase(p, ph);
    });
  }

  /** Give free slots to waiting pods, oldest first. */
  private placeWaiting(extraS: number): void {
    while (this.waiting.length > 0 && this.usedSlots < this.nodeSlots) {
      const p = this.waiting.shift()!;
      this.startOnSlot(p, this.nowMs, extraS);
    }
    this.requestNodes();
  }

  private podGone(p: number): void {
    const ph = this.phase[p]!;
    this.avail.remove(p);
    this.completions.remove(p);
    this.setPhase(p, FREE);
    this.cnt[FREE]!--;
    this.epoch[p]!++;
    this.freeSlots.push(p);
    if (ph === UNSCHED || ph === WAIT_NODE) {
      this.waiting = this.waiting.filter((x) => x !== p);
      this.requestNodes();
      return;
    }
    this.usedSlots--;
    this.idleSince.push(this.nowMs);
    this.placeWaiting(0);
  }

  /** Delete one pod: unschedulable first, then starting, then ready (newest first); ready pods drain. */
  private deletePod(t: number): void {
    let best = -1;
    let bestRank = -1;
    let bestCreated = -Infinity;
    for (let p = 0; p < this.highWater; p++) {
      const ph = this.phase[p]!;
      const rank = ph === UNSCHED ? 4 : ph === WAIT_NODE ? 3 : ph === STARTING ? 2 : ph === READY ? 1 : -1;
      if (rank < 0) continue;
      if (rank > bestRank || (rank === bestRank && this.createdAt[p]! >= bestCreated)) {
        best = p;
        bestRank = rank;
        bestCreated = this.createdAt[p]!;
      }
    }
    if (best < 0) return;
    if (this.phase[best] !== READY) {
      this.podGone(best);
      return;
    }
    this.avail.remove(best);
    this.setPhase(best, DRAINING);
    if (this.n[best] === 0) {
      this.podGone(best);
      return;
    }
    const ep = this.epoch[best]!;
    this.timers.add(t + this.sc.cluster.terminationGraceS * 1000, () => {
      if (this.epoch[best] !== ep || this.phase[best] !== DRAINING) return;
      // grace period over: the kubelet kills the pod and its requests fail
      this.series.failed[this.sec]! += this.n[best]!;
      this.inFlight -= this.n[best]!;
      this.n[best] = 0;
      this.podGone(best);
    });
  }

  /** Remove node slots idle for longer than nodeIdleS, keeping the warm pool. */
  private nodeReaper(): void {
    const cutoff = this.nowMs - this.sc.cluster.nodeIdleS * 1000;
    // idleSince is a stack: the oldest idle slots sit at the bottom
    while (this.nodeSlots > this.sc.cluster.warmPoolPods && this.idleSince.length > 0 && this.idleSince[0]! <= cutoff) {
      this.idleSince.shift();
      this.nodeSlots--;
    }
    if (this.nowMs + 10_000 < this.endMs) this.timers.add(this.nowMs + 10_000, () => this.nodeReaper());
  }

  private scaleTo(desired: number, t: number): void {
    const r = this.sc.endpoint.replicas;
    const d = Math.max(r.min, Math.min(r.max, Math.round(desired)));
    if (d !== this.desired) this.scaleEvents.push({ atMs: t, from: this.desired, to: d });
    this.desired = d;
    let current = this.cnt[UNSCHED]! + this.cnt[WAIT_NODE]! + this.cnt[STARTING]! + this.cnt[READY]!;
    while (current < d) {
      this.createPod(t);
      current++;
    }
    while (current > d) {
      this.deletePod(t);
      current--;
    }
  }

  private setLimit(limit: number, t: number): void {
    const l = Math.max(1, Math.round(limit));
    if (l === this.limit) return;
    this.limit = l;
    for (let p = 0; p < this.highWater; p++) {
      if (this.phase[p] !== READY) continue;
      if (this.n[p]! < l) this.avail.set(p, this.n[p]!);
      else this.avail.remove(p);
    }
    this.drainQueue(t);
  }

  // ---- policy and sampling --------------------------------------------------------------------

  private replicaState(): ReplicaState {
    return {
      desiredReplicas: this.desired,
      readyReplicas: this.cnt[READY]!,
      startingReplicas: this.cnt[STARTING]! + this.cnt[WAIT_NODE]!,
      unschedulableReplicas: this.cnt[UNSCHED]!,
      targetConcurrency: this.limit,
    };
  }

  private schedulePolicy(): void {
    const at = this.policy.nextRunAtMs;
    // the drain tail only lets requests finish: the policy is frozen after the scenario
    if (!Number.isFinite(at) || at >= this.durationMs) return;
    this.timers.add(Math.max(at, this.nowMs), () => {
      const t = this.nowMs;
      const action = this.policy.decide({ nowMs: t, state: this.replicaState(), inFlight: this.inFlight, queued: this.qLen });
      this.setLimit(action.targetConcurrency, t);
      this.scaleTo(action.desiredReplicas, t);
      if (this.policy.nextRunAtMs <= t) throw new Error(`policy ${this.policy.name} did not move nextRunAtMs past ${t}`);
      this.schedulePolicy();
    });
  }

  private endSecond(): void {
    const t = this.nowMs;
    const s = this.sec;
    const sr = this.series;
    const pods = this.policy.wantsPods ? this.podObservations(t) : undefined;
    const served = sr.served[s]!;
    const p50 = served > 0 ? quantile(sr.hist, 0.5, s * BUCKETS, served) : NaN;
    const p99 = served > 0 ? quantile(sr.hist, 0.99, s * BUCKETS, served) : NaN;
    const sample: EndpointSample = {
      atMs: t,
      intervalMs: 1000,
      inFlight: this.inFlight,
      queued: this.qLen,
      arrivals: sr.arrivals[s]!,
      completions: served,
      rejections: sr.rejected[s]!,
      errors: sr.failed[s]!,
      ...(this.dispatched > 0 ? { queueTimeMs: this.waitSum / this.dispatched } : {}),
      ...(served > 0 ? { serviceTimeMs: this.serviceSum / served, latencyP50Ms: p50, latencyP99Ms: p99 } : {}),
      ...(pods ? { pods: pods.map((o) => o.sample) } : {}),
    };
    sr.ready[s] = this.cnt[READY]!;
    sr.starting[s] = this.cnt[STARTING]! + this.cnt[WAIT_NODE]!;
    sr.unschedulable[s] = this.cnt[UNSCHED]!;
    sr.draining[s] = this.cnt[DRAINING]!;
    sr.desired[s] = this.desired;
    sr.targetConcurrency[s] = this.limit;
    sr.inFlight[s] = this.inFlight;
    sr.queued[s] = this.qLen;
    sr.podSeconds[s] = this.areaPods / 1000;
    const avgConcurrency = this.areaConc / 1000;
    this.areaConc = 0;
    this.areaPods = 0;
    this.waitSum = 0;
    this.dispatched = 0;
    this.serviceSum = 0;
    this.sec = Math.min(s + 1, sr.length - 1);
    this.policy.observe({ sample, avgConcurrency, pods });
  }

  private podObservations(t: number): PodObservation[] {
    const out: PodObservation[] = [];
    const names: Record<number, PodPhase> = { [UNSCHED]: "unschedulable", [WAIT_NODE]: "starting", [STARTING]: "starting", [READY]: "ready", [DRAINING]: "draining" };
    for (let p = 0; p < this.highWater; p++) {
      const ph = this.phase[p]!;
      if (ph === FREE) continue;
      this.advance(p, t);
      const span = Math.min(1000, t - this.createdAt[p]!);
      const avgN = span > 0 ? this.areaN[p]! / 1000 : 0;
      const busy = span > 0 ? this.areaBusy[p]! / 1000 : 0;
      const cores = span > 0 ? this.areaCores[p]! / 1000 : 0;
      this.areaN[p] = 0;
      this.areaBusy[p] = 0;
      this.areaCores[p] = 0;
      const ready = ph === READY;
      const running = ph === READY || ph === DRAINING;
      const sample: PodSample = running ? this.model.podSignals(ready, avgN, busy, cores) : { ready: false };
      out.push({
        id: p,
        phase: names[ph]!,
        createdAtMs: this.createdAt[p]!,
        readyAtMs: this.readyAt[p]!,
        cpuCores: running ? this.model.cpuCores(avgN, busy, cores) : 0,
        cpuRequestCores: this.sc.model.cpuRequestCores,
        sample,
      });
    }
    return out;
  }
}
