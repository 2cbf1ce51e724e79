/**
 * The simulated cluster of one endpoint: the pod table (typed arrays indexed by pod slot id, shared
 * with the gateway's hot path) and the pod lifecycle on node slots. A new pod takes a free node slot
 * (warm pool or idle node) and is ready `podStartS` later; otherwise a node is added (`nodeStartS`,
 * then `imagePullS`); beyond `maxPods` it stays unschedulable. Deleted ready pods drain.
 */
import type { PodSample } from "../engine/types.ts";
import { TimerQueue, TripleHeap } from "./heaps.ts";
import type { Prng } from "./prng.ts";
import type { PodModel } from "./model.ts";
import type { PodObservation, PodPhase } from "./policies/types.ts";
import type { ClusterSpec } from "./scenario-types.ts";

export const FREE = 0;
export const UNSCHED = 1; // no capacity in the cluster
export const WAIT_NODE = 2; // a node is being added for it (counted as starting)
export const STARTING = 3;
export const READY = 4;
export const DRAINING = 5;

const PHASE_NAMES: Record<number, PodPhase> = {
  [UNSCHED]: "unschedulable",
  [WAIT_NODE]: "starting",
  [STARTING]: "starting",
  [READY]: "ready",
  [DRAINING]: "draining",
};

/** What the gateway must do when the cluster changes a pod. */
export interface ClusterHooks {
  /** The pod became ready and may take requests. */
  onReady(p: number): void;
  /** A deleted ready pod stops taking requests; it drains what it has. */
  onStopServing(p: number): void;
  /** The pod is gone: no requests, no completions. */
  onGone(p: number): void;
  /** The drain's grace period ended with requests still running: they fail. */
  onKill(p: number): void;
  /** The number of starting pods changed (node CPU contention slows the serving pods). */
  onStartingChanged?(starting: number): void;
}

export class Cluster {
  readonly phase: Uint8Array;
  readonly createdAt: Float64Array;
  readonly readyAt: Float64Array;
  /** Virtual clock of each pod's processor-sharing server. */
  readonly vclock: Float64Array;
  /** Time the pod's clock and integrals were last brought up to date. */
  readonly lastT: Float64Array;
  /** ∫ n dt, ∫ [n > 0] dt, ∫ min(n, parallelism) dt since the last observation. */
  readonly areaN: Float64Array;
  readonly areaBusy: Float64Array;
  readonly areaCores: Float64Array;
  /** Requests in flight per pod. */
  readonly n: Int32Array;
  /** In-flight requests per pod: (virtual finish, arrival time, dispatch time). */
  readonly reqs: TripleHeap[] = [];
  /** Pods per phase. */
  readonly cnt = [0, 0, 0, 0, 0, 0];
  /** Slots ever used (pods live in [0, highWater)). */
  highWater = 0;
  /** Most starting + ready pods at once. */
  peak = 0;

  private readonly spec: ClusterSpec;
  private readonly timers: TimerQueue;
  /** Draws of pod start times and failed starts (its own stream: request jitter is unchanged by it). */
  private readonly rng: Prng;
  /** Starts that failed (crashed before ready) and were retried. */
  failedStarts = 0;
  private readonly hooks: ClusterHooks;
  private readonly now: () => number;
  private readonly epoch: Int32Array;
  /** When each starting pod is due ready (a later start of the same moment pushes it back). */
  private readonly readyDueAt: Float64Array;
  /** The pods whose start began at `batchAtMs` (one scale-up's pods start together and slow each other alike). */
  private batch: number[] = [];
  private batchAtMs = NaN;
  private readonly freeSlots: number[] = [];
  /** Pods waiting for a node slot (UNSCHED or WAIT_NODE), oldest first. */
  private waiting: number[] = [];
  private nodeSlots: number;
  private usedSlots = 0;
  private provisioning = 0;
  /** One entry per idle node slot: since when it is idle (a stack: the oldest at the bottom). */
  private readonly idleSince: number[] = [];

  constructor(spec: ClusterSpec, capacity: number, initialReady: number, timers: TimerQueue, rng: Prng, hooks: ClusterHooks, now: () => number) {
    this.spec = spec;
    this.timers = timers;
    this.rng = rng;
    this.hooks = hooks;
    this.now = now;
    this.phase = new Uint8Array(capacity);
    this.createdAt = new Float64Array(capacity);
    this.readyAt = new Float64Array(capacity);
    this.vclock = new Float64Array(capacity);
    this.lastT = new Float64Array(capacity);
    this.areaN = new Float64Array(capacity);
    this.areaBusy = new Float64Array(capacity);
    this.areaCores = new Float64Array(capacity);
    this.n = new Int32Array(capacity);
    this.epoch = new Int32Array(capacity);
    this.readyDueAt = new Float64Array(capacity);
    const initial = Math.min(initialReady, spec.maxPods);
    this.nodeSlots = Math.max(spec.warmPoolPods, initial);
    for (let i = 0; i < this.nodeSlots; i++) this.idleSince.push(-Infinity);
    for (let i = 0; i < initial; i++) {
      const p = this.newPod(0);
      this.takeSlot();
      this.phase[p] = READY;
      this.readyAt[p] = 0;
      this.cnt[READY]!++;
    }
    this.peak = initial;
  }

  /** Pods that count against the desired replicas (everything but draining). */
  get current(): number {
    return this.cnt[UNSCHED]! + this.cnt[WAIT_NODE]! + this.cnt[STARTING]! + this.cnt[READY]!;
  }

  /** Node slots held (in use, idle, or being provisioned for waiting pods): what the nodes cost. */
  get nodeSlotsHeld(): number {
    return this.nodeSlots + this.provisioning;
  }

  /** Pods holding a node slot: what the endpoint pays for. */
  get scheduled(): number {
    return this.cnt[STARTING]! + this.cnt[READY]! + this.cnt[DRAINING]!;
  }

  private newPod(t: number): number {
    let p = this.freeSlots.pop();
    if (p === undefined) {
      p = this.highWater++;
      if (p >= this.phase.length) throw new Error(`simulator pod table full (${this.phase.length})`);
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
    const was = this.phase[p]!;
    this.cnt[was]!--;
    this.phase[p] = ph;
    this.cnt[ph]!++;
    if ((was === STARTING) !== (ph === STARTING)) this.hooks.onStartingChanged?.(this.cnt[STARTING]!);
    const live = this.cnt[STARTING]! + this.cnt[READY]!;
    if (live > this.peak) this.peak = live;
  }

  /** Create one pod: on a free slot, else on a new node, else unschedulable. */
  createPod(t: number): void {
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
    const others = this.cnt[STARTING]!;
    this.setPhase(p, STARTING);
    this.scheduleStart(p, t, extraS, others);
  }

  /**
   * The pod is ready after its start time: `podStartS` × a log-normal spread, plus `podStartPerConcurrentS` for
   * each other pod starting at that moment (pulls and model loads contend), plus `extraS` (an image pull on a
   * fresh node). Pods whose starts begin at the same moment (one scale-up) all count each other: six at once
   * each take `podStartS` + 5 × `podStartPerConcurrentS`, the first created as long as the last. A start fails
   * with `podStartFailureFraction`: the pod is restarted after `podStartRetryS`.
   */
  private scheduleStart(p: number, t: number, extraS: number, others: number): void {
    const c = this.spec;
    const spread = c.podStartSpread > 0 ? this.rng.jitterFactor(c.podStartSpread) : 1;
    const startS = extraS + c.podStartS * spread + c.podStartPerConcurrentS * others;
    const fails = c.podStartFailureFraction > 0 && this.rng.uniform() < c.podStartFailureFraction;
    const ep = this.epoch[p]!;
    if (t !== this.batchAtMs) {
      this.batch = [];
      this.batchAtMs = t;
    } else if (c.podStartPerConcurrentS > 0) {
      // this start contends with the ones that began at the same moment: each of them is slowed by it too
      for (const q of this.batch) if (this.phase[q] === STARTING) this.readyDueAt[q]! += c.podStartPerConcurrentS * 1000;
    }
    this.batch.push(p);
    this.readyDueAt[p] = t + startS * 1000;
    const due = (): void => {
      if (this.epoch[p] !== ep || this.phase[p] !== STARTING) return;
      const now = this.now();
      if (now < this.readyDueAt[p]!) {
        this.timers.add(this.readyDueAt[p]!, due);
        return;
      }
      if (fails) {
        this.failedStarts++;
        this.scheduleStart(p, now, c.podStartRetryS, this.cnt[STARTING]! - 1);
        return;
      }
      this.setPhase(p, READY);
      this.readyAt[p] = now;
      this.lastT[p] = now;
      this.hooks.onReady(p);
    };
    this.timers.add(t + startS * 1000, due);
  }

  /** Ask for node slots for waiting pods while the cluster may still grow (cluster-autoscaler scale-up). */
  private requestNodes(): void {
    while (this.provisioning < this.waiting.length && this.nodeSlots + this.provisioning < this.spec.maxPods) {
      this.provisioning++;
      this.timers.add(this.now() + this.spec.nodeStartS * 1000, () => {
        this.provisioning--;
        this.nodeSlots++;
        this.idleSince.push(this.now());
        this.placeWaiting(this.spec.imagePullS);
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
      this.startOnSlot(p, this.now(), extraS);
    }
    this.requestNodes();
  }

  /** The pod is gone: its slot (if any) goes to a waiting pod or becomes idle. */
  podGone(p: number): void {
    const ph = this.phase[p]!;
    this.hooks.onGone(p);
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
    this.idleSince.push(this.now());
    this.placeWaiting(0);
  }

  /** Delete one pod like a ReplicaSet: unschedulable first, then starting, then ready (newest first); ready pods drain. */
  deletePod(t: number): void {
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
    this.hooks.onStopServing(best);
    this.setPhase(best, DRAINING);
    if (this.n[best] === 0) {
      this.podGone(best);
      return;
    }
    const ep = this.epoch[best]!;
    this.timers.add(t + this.spec.terminationGraceS * 1000, () => {
      if (this.epoch[best] !== ep || this.phase[best] !== DRAINING) return;
      // grace period over: the kubelet kills the pod and its requests fail
      this.hooks.onKill(best);
      this.n[best] = 0;
      this.podGone(best);
    });
  }

  /** Remove node slots idle for longer than nodeIdleS, keeping the warm pool; reschedules itself every 10 s until `endMs`. */
  nodeReaper(endMs: number): void {
    const now = this.now();
    const cutoff = now - this.spec.nodeIdleS * 1000;
    while (this.nodeSlots > this.spec.warmPoolPods && this.idleSince.length > 0 && this.idleSince[0]! <= cutoff) {
      this.idleSince.shift();
      this.nodeSlots--;
    }
    if (now + 10_000 < endMs) this.timers.add(now + 10_000, () => this.nodeReaper(endMs));
  }

  /**
   * Per-pod observations over the second that ends at t; resets the integrals. `advance(p, t)` must
   * bring a pod's integrals up to t first (the gateway owns the progress law).
   */
  observe(t: number, model: PodModel, cpuRequestCores: number, advance: (p: number, t: number) => void): PodObservation[] {
    const out: PodObservation[] = [];
    for (let p = 0; p < this.highWater; p++) {
      const ph = this.phase[p]!;
      if (ph === FREE) continue;
      advance(p, t);
      const avgN = this.areaN[p]! / 1000;
      const busy = this.areaBusy[p]! / 1000;
      const cores = this.areaCores[p]! / 1000;
      this.areaN[p] = 0;
      this.areaBusy[p] = 0;
      this.areaCores[p] = 0;
      const running = ph === READY || ph === DRAINING;
      const sample: PodSample = running ? model.podSignals(ph === READY, avgN, busy, cores) : { ready: false };
      out.push({
        id: p,
        phase: PHASE_NAMES[ph]!,
        createdAtMs: this.createdAt[p]!,
        readyAtMs: this.readyAt[p]!,
        cpuCores: running ? model.cpuCores(avgN, busy, cores) : 0,
        cpuRequestCores,
        sample,
      });
    }
    return out;
  }
}
