/**
 * The discrete-event simulation of one endpoint:
 * arrivals → gateway (central FIFO queue, per-pod limit = target concurrency, queue timeout and queue
 * bound → 429, least-connections dispatch) → pods running a model profile → completion.
 * Pods are created on a free node slot (warm pool or an idle node) or on a new node (`nodeStartS`),
 * become ready after `podStartS`, and drain their in-flight requests when deleted. Beyond `maxPods`
 * they stay unschedulable. The hot path works on typed arrays and allocates nothing per request.
 */
import type { ReplicaState } from "../engine/types.ts";
import { Cluster, DRAINING, READY, STARTING, UNSCHED, WAIT_NODE } from "./cluster.ts";
import { GatewayQueue } from "./gateway-queue.ts";
import { IndexedMinHeap, TimerQueue, type TripleHeap } from "./heaps.ts";
import { BUCKETS, bucketOf } from "./histogram.ts";
import { PodModel } from "./model.ts";
import type { Policy } from "./policies/types.ts";
import { Prng } from "./prng.ts";
import type { Scenario } from "./scenario-types.ts";
import { DRAIN_TAIL_S, secondSample, Series, type ScaleEvent, type SimOptions, type SimOutput } from "./series.ts";
import { GatewayTimings } from "./signals.ts";
import { ArrivalStream } from "./traffic.ts";

export { DRAIN_TAIL_S, type SimOptions, type SimOutput } from "./series.ts";

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

  // the pod table, shared with the cluster (aliases of its typed arrays for the hot path)
  private readonly cl: Cluster;
  private readonly phase: Uint8Array;
  private readonly vclock: Float64Array;
  private readonly lastT: Float64Array;
  private readonly areaN: Float64Array;
  private readonly areaBusy: Float64Array;
  private readonly areaCores: Float64Array;
  private readonly n: Int32Array;
  private readonly reqs: TripleHeap[];
  private readonly cnt: number[];

  // gateway
  private limit: number;
  private readonly avail: IndexedMinHeap; // ready pods with n < limit, keyed by n (least connections)
  private readonly completions: IndexedMinHeap; // pod id → next completion time
  private readonly queue: GatewayQueue;
  private inFlight = 0;

  private desired: number;
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
  /** The production reader's per-request view, for a policy that wants it (`signals: "gateway"`). */
  private readonly gateway: GatewayTimings | undefined;
  /** Progress factor of serving pods while others start (node CPU contention); 1 when none start. */
  private speed = 1;
  /** A plain Service's balancing (`Policy.dispatch` random): a uniform pick among the pods under the limit. */
  private readonly randomDispatch: boolean;

  constructor(sc: Scenario, policy: Policy, opts: SimOptions) {
    this.sc = sc;
    this.policy = policy;
    this.model = new PodModel(sc.model);
    this.rng = new Prng(sc.seed * 104729 + 3);
    this.arrivals = new ArrivalStream(sc);
    this.durationMs = sc.durationS * 1000;
    this.endMs = this.durationMs + DRAIN_TAIL_S * 1000;
    this.series = new Series(Math.ceil(sc.durationS) + DRAIN_TAIL_S);
    const cap = sc.cluster.maxPods + sc.endpoint.replicas.max + opts.initialReplicas + 8;
    this.avail = new IndexedMinHeap(cap);
    this.completions = new IndexedMinHeap(cap);
    this.queue = new GatewayQueue(sc.gateway.maxQueue, sc.slo.queueTimeoutMs);
    this.limit = Math.max(1, policy.initialTargetConcurrency);
    this.gateway = policy.wantsGatewayTimings === true ? new GatewayTimings(sc.slo.p99Ms) : undefined;
    this.randomDispatch = policy.dispatch === "random";
    const cl = new Cluster(
      sc.cluster,
      cap,
      opts.initialReplicas,
      this.timers,
      new Prng(sc.seed * 7919 + 11),
      {
        onReady: (p) => {
          this.avail.set(p, 0);
          this.drainQueue(this.nowMs);
        },
        onStopServing: (p) => this.avail.remove(p),
        onGone: (p) => {
          this.avail.remove(p);
          this.completions.remove(p);
        },
        onKill: (p) => {
          this.series.failed[this.sec]! += this.n[p]!;
          this.inFlight -= this.n[p]!;
        },
        onStartingChanged: (starting) => this.setSpeed(1 / (1 + sc.cluster.startSlowdownPerPod * starting)),
      },
      () => this.nowMs,
    );
    this.cl = cl;
    this.phase = cl.phase;
    this.vclock = cl.vclock;
    this.lastT = cl.lastT;
    this.areaN = cl.areaN;
    this.areaBusy = cl.areaBusy;
    this.areaCores = cl.areaCores;
    this.n = cl.n;
    this.reqs = cl.reqs;
    this.cnt = cl.cnt;
    this.desired = cl.current;
    for (let p = 0; p < cl.highWater; p++) this.avail.set(p, 0);
  }

  run(): SimOutput {
    for (let s = 1; s <= this.series.length; s++) this.timers.add(s * 1000, () => this.endSecond());
    this.timers.add(10_000, () => this.cl.nodeReaper(this.endMs));
    this.schedulePolicy();
    let nextArrival = this.arrivals.next();
    if (nextArrival >= this.durationMs) nextArrival = Infinity;
    for (;;) {
      const tTimer = this.timers.nextAtMs;
      const tComp = this.completions.peekKey();
      const tQ = this.queue.timeoutAtMs;
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
        this.timeoutHead();
      } else {
        this.arrive(t, this.arrivals.cost);
        nextArrival = this.arrivals.next();
        if (nextArrival >= this.durationMs) nextArrival = Infinity;
      }
    }
    return {
      series: this.series,
      scaleEvents: this.scaleEvents,
      unfinished: this.inFlight + this.queue.length,
      peakReplicas: this.cl.peak,
      finalTargetConcurrency: this.limit,
      events: this.events,
    };
  }

  /** Advance the time-weighted accumulators to t. */
  private touch(t: number): void {
    const dt = t - this.lastAreaT;
    if (dt > 0) {
      this.areaConc += (this.inFlight + this.queue.length) * dt;
      this.areaPods += this.cl.scheduled * dt;
      this.lastAreaT = t;
    }
    this.nowMs = t;
  }

  // ---- requests -------------------------------------------------------------------------------

  private arrive(t: number, cost: number): void {
    this.events++;
    this.series.arrivals[this.sec]!++;
    if (this.queue.length === 0 && this.avail.size > 0) {
      this.dispatch(this.pick(), t, t, cost);
      return;
    }
    if (!this.queue.push(t, cost)) {
      this.series.rejected[this.sec]!++;
      this.series.rejectedByArrival[this.sec]!++;
    }
  }

  private timeoutHead(): void {
    const arrivedS = Math.min(this.series.length - 1, Math.floor(this.queue.headArrivedAtMs / 1000));
    this.queue.shift();
    this.series.rejected[this.sec]!++;
    this.series.rejectedByArrival[arrivedS]!++;
  }

  /** Move queued requests to pods while both exist. */
  private drainQueue(t: number): void {
    while (this.queue.length > 0 && this.avail.size > 0) {
      const arrivedAt = this.queue.headArrivedAtMs;
      const cost = this.queue.headCost;
      this.queue.shift();
      this.dispatch(this.pick(), t, arrivedAt, cost);
    }
  }

  /** The pod for the next request: the least loaded under the limit, or (random dispatch) any of them. */
  private pick(): number {
    return this.randomDispatch ? this.avail.idAt(Math.floor(this.rng.uniform() * this.avail.size)) : this.avail.peekId();
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
    const work = this.model.baseWorkMs * cost * (this.model.jitter > 0 ? this.rng.jitterFactor(this.model.jitter) : 1);
    this.reqs[p]!.push(this.vclock[p]! + work, arrivedAt, t);
    this.n[p] = n + 1;
    this.inFlight++;
    if (n + 1 >= this.limit) this.avail.remove(p);
    else this.avail.set(p, n + 1);
    this.reschedule(p, t);
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
    if (this.gateway !== undefined) this.gateway.served(startedAt - arrivedAt, t - startedAt);
    if (this.phase[p] === DRAINING) {
      if (n === 0) this.cl.podGone(p);
      else this.reschedule(p, t);
      return;
    }
    if (n < this.limit) this.avail.set(p, n);
    this.reschedule(p, t);
    if (this.queue.length > 0) this.drainQueue(t);
  }

  /** Bring pod p's virtual clock and utilisation integrals up to t. */
  private advance(p: number, t: number): void {
    const dt = t - this.lastT[p]!;
    if (dt <= 0) return;
    const n = this.n[p]!;
    if (n > 0) {
      this.vclock[p]! += dt * this.model.rate(n) * this.speed;
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
    this.completions.set(p, t + (left > 0 ? left / (this.model.rate(n) * this.speed) : 0));
  }

  /** A new progress factor for every serving pod: bring each up to now at the old one, then reschedule. */
  private setSpeed(speed: number): void {
    if (speed === this.speed) return;
    const t = this.nowMs;
    for (let p = 0; p < this.cl.highWater; p++) {
      const ph = this.phase[p];
      if ((ph === READY || ph === DRAINING) && this.n[p]! > 0) this.advance(p, t);
    }
    this.speed = speed;
    for (let p = 0; p < this.cl.highWater; p++) {
      const ph = this.phase[p];
      if ((ph === READY || ph === DRAINING) && this.n[p]! > 0) this.reschedule(p, t);
    }
  }

  private scaleTo(desired: number, t: number): void {
    const r = this.sc.endpoint.replicas;
    const d = Math.max(r.min, Math.min(r.max, Math.round(desired)));
    if (d !== this.desired) this.scaleEvents.push({ atMs: t, from: this.desired, to: d });
    this.desired = d;
    let current = this.cl.current;
    while (current < d) {
      this.cl.createPod(t);
      current++;
    }
    while (current > d) {
      this.cl.deletePod(t);
      current--;
    }
  }

  private setLimit(limit: number, t: number): void {
    const l = Math.max(1, Math.round(limit));
    if (l === this.limit) return;
    this.limit = l;
    for (let p = 0; p < this.cl.highWater; p++) {
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
      const action = this.policy.decide({ nowMs: t, state: this.replicaState(), inFlight: this.inFlight, queued: this.queue.length });
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
    const pods = this.policy.wantsPods ? this.cl.observe(t, this.model, this.sc.model.cpuRequestCores, (p, at) => this.advance(p, at)) : undefined;
    const sample = secondSample(sr, s, t, {
      inFlight: this.inFlight, queued: this.queue.length, queueWaitSumMs: this.waitSum, dispatched: this.dispatched, serviceSumMs: this.serviceSum,
    }, pods?.map((o) => o.sample));
    sr.ready[s] = this.cnt[READY]!;
    sr.starting[s] = this.cnt[STARTING]! + this.cnt[WAIT_NODE]!;
    sr.unschedulable[s] = this.cnt[UNSCHED]!;
    sr.draining[s] = this.cnt[DRAINING]!;
    sr.desired[s] = this.desired;
    sr.targetConcurrency[s] = this.limit;
    sr.inFlight[s] = this.inFlight;
    sr.queued[s] = this.queue.length;
    sr.podSeconds[s] = this.areaPods / 1000;
    sr.nodes[s] = this.cl.nodeSlotsHeld;
    const avgConcurrency = this.areaConc / 1000;
    this.areaConc = 0;
    this.areaPods = 0;
    this.waitSum = 0;
    this.dispatched = 0;
    this.serviceSum = 0;
    this.sec = Math.min(s + 1, sr.length - 1);
    this.policy.observe({ sample, avgConcurrency, pods, ...(this.gateway !== undefined ? { gatewayFields: this.gateway.take() } : {}) });
  }
}
