/**
 * Builders for engine tests and a tiny fluid "plant" (a TEST DOUBLE of an endpoint, not the simulator):
 * per second, N ready pods at per-pod limit c serve arrivals with a service-time law S(x); the excess
 * queues and overflows as rejections. Good enough to close the loop around `decide` in unit tests.
 */
import { decide, decisionNeeded, type EngineConfig } from "../../controller/src/engine/index.ts";
import type {
  Decision,
  EndpointSample,
  EndpointSpec,
  EngineMemory,
  PodSample,
  ProfilePoint,
  ReplicaState,
  ResourceKey,
  VerticalMemory,
} from "../../controller/src/engine/types.ts";
import { binOf } from "../../controller/src/engine/profile.ts";
import { emptyVerticalMemory } from "../../controller/src/engine/vertical.ts";

export function spec(over: Partial<EndpointSpec> = {}): EndpointSpec {
  return {
    concurrency: { min: 1, max: 64 },
    replicas: { min: 1, max: 1000 },
    provisionedConcurrency: 0,
    scaleToZero: false,
    runtime: "mlflow",
    sloP99Ms: 100,
    ...over,
  };
}

export function state(over: Partial<ReplicaState> = {}): ReplicaState {
  return {
    desiredReplicas: 4,
    readyReplicas: 4,
    startingReplicas: 0,
    unschedulableReplicas: 0,
    targetConcurrency: 8,
    ...over,
  };
}

export interface Load {
  /** Offered requests/s. */
  readonly qps: number;
  /** Pod service time, ms. */
  readonly serviceMs: number;
  readonly readyPods: number;
  readonly queued?: number;
  readonly rejections?: number;
  readonly errors?: number;
  readonly p99Ms?: number;
  /** @default serviceMs */
  readonly p50Ms?: number;
  readonly queueMs?: number;
  readonly pod?: Omit<PodSample, "ready">;
  /** In-flight override (default: Little's law, capped by nothing). */
  readonly inFlight?: number;
  /** Completions over the latency objective (`EndpointSample.overObjective`); absent by default. */
  readonly overObjective?: number;
}

/** One 1 s sample ending at `atMs`. */
export function sample(atMs: number, l: Load): EndpointSample {
  const served = l.qps - (l.rejections ?? 0);
  const pods: PodSample[] = [];
  for (let i = 0; i < l.readyPods; i++) pods.push({ ready: true, ...(l.pod ?? {}) });
  return {
    atMs,
    intervalMs: 1000,
    inFlight: l.inFlight ?? (served * l.serviceMs) / 1000,
    queued: l.queued ?? 0,
    arrivals: l.qps,
    completions: Math.max(0, served),
    rejections: l.rejections ?? 0,
    errors: l.errors ?? 0,
    queueTimeMs: l.queueMs ?? 0,
    serviceTimeMs: l.serviceMs,
    latencyP50Ms: l.p50Ms ?? l.serviceMs,
    latencyP99Ms: l.p99Ms ?? l.serviceMs * 1.5,
    ...(l.overObjective !== undefined ? { overObjective: l.overObjective } : {}),
    pods,
  };
}

/** Samples every second in (fromMs, toMs], load chosen per second. */
export function samples(fromMs: number, toMs: number, load: (atMs: number) => Load): EndpointSample[] {
  const out: EndpointSample[] = [];
  for (let t = fromMs + 1000; t <= toMs; t += 1000) out.push(sample(t, load(t)));
  return out;
}

/** Overrides for `memory`: the top-level fields and the vertical axis's, side by side. */
export type MemoryOverrides = Partial<Omit<EngineMemory, "vertical">> & Partial<VerticalMemory>;

const TOP_LEVEL = new Set(["lastHorizontalAtMs", "lastVerticalAtMs", "sinceMs", "recommendations", "coverage"]);

/** Memory as if the engine had been running since `sinceMs` with nothing remembered yet. */
export function memory(sinceMs: number, over: MemoryOverrides = {}): EngineMemory {
  const top: Record<string, unknown> = {};
  const vertical: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(over)) (TOP_LEVEL.has(k) ? top : vertical)[k] = v;
  return {
    lastHorizontalAtMs: -Infinity,
    lastVerticalAtMs: -Infinity,
    sinceMs,
    recommendations: [],
    ...top,
    vertical: { ...emptyVerticalMemory, ...vertical },
  };
}

/** Profile points from [per-pod in-flight, service ms, resources?] triples (half-octave bins). */
export function points(...ps: readonly (readonly [number, number, Partial<Record<ResourceKey, number>>?])[]): ProfilePoint[] {
  return ps.map(([inFlight, serviceMs, resources]) => ({ bin: binOf(inFlight, 2), inFlight, serviceMs, resources: resources ?? {} })).sort((a, b) => a.bin - b.bin);
}

/** Service-time laws of the three model kinds the simulator has (ms at per-pod in-flight x). */
export const laws = {
  cpu: (serviceMs: number, parallelism: number) => (x: number) => serviceMs * Math.max(1, x / parallelism),
  batching: (baseMs: number, perRequestMs: number) => (x: number) => baseMs + perRequestMs * Math.max(1, x),
  io: (latencyMs: number, maxInFlight: number) => (x: number) => latencyMs * Math.max(1, x / maxInFlight),
};

export interface PlantOptions {
  readonly spec: EndpointSpec;
  readonly qps: (tS: number) => number;
  readonly law: (x: number) => number;
  readonly podStartS: number;
  readonly initialReplicas: number;
  readonly initialTarget: number;
  /** Pods beyond this many (ready + starting) are unschedulable. @default Infinity */
  readonly maxPods?: number;
  readonly queueTimeoutS?: number;
  readonly durationS: number;
  readonly config?: EngineConfig;
  /** Extra pod signals from per-pod in-flight x. */
  readonly podSignals?: (x: number) => Omit<PodSample, "ready">;
  /** Drop the engine's memory at this second (a controller restart). */
  readonly restartAtS?: number;
  /** Fraction of completions over the latency objective at per-pod in-flight x; reported as `overObjective` when given. */
  readonly lateFraction?: (x: number) => number;
  /** Engine memory to start from (e.g. a learned profile); default none (a fresh start). */
  readonly initialMemory?: EngineMemory;
  /** Between regular runs, call `decide` only when `decisionNeeded` says so (what the controller does). @default false */
  readonly gate?: boolean;
}

export interface Tick {
  readonly tS: number;
  readonly ready: number;
  readonly desired: number;
  readonly target: number;
  readonly rejected: number;
  readonly arrivals: number;
  readonly decision: Decision | undefined;
  readonly unschedulable: number;
  /** Completions over the objective this second (0 without `lateFraction`). */
  readonly late: number;
  readonly served: number;
}

/**
 * Run the fluid test double for `durationS` seconds, calling `decide` whenever it asks to run.
 * Returns one tick per second.
 */
export function runPlant(o: PlantOptions): Tick[] {
  let desired = o.initialReplicas;
  let target = o.initialTarget;
  let ready = o.initialReplicas;
  const starts: number[] = []; // ready-at times (s) of starting pods
  let backlog = 0;
  let mem: EngineMemory | undefined = o.initialMemory;
  let nextRunMs = 0;
  let regularRunMs = 0;
  const history: EndpointSample[] = [];
  const ticks: Tick[] = [];
  const maxPods = o.maxPods ?? Infinity;
  for (let tS = 1; tS <= o.durationS; tS++) {
    // pods becoming ready
    for (let i = starts.length - 1; i >= 0; i--) {
      if ((starts[i] ?? Infinity) <= tS) {
        starts.splice(i, 1);
        ready++;
      }
    }
    const lambda = o.qps(tS);
    const demand = lambda + backlog;
    // per-pod in-flight x such that throughput N x / S(x) meets demand, capped at target
    const cap = ready > 0 ? (ready * target) / (o.law(target) / 1000) : 0;
    let served: number;
    let x: number;
    if (demand <= cap) {
      served = demand;
      // solve N x / S(x) = served by bisection on x in [0, target]
      let lo = 0;
      let hi = target;
      for (let k = 0; k < 40; k++) {
        const mid = (lo + hi) / 2;
        if ((ready * mid) / (o.law(mid) / 1000) < served) lo = mid;
        else hi = mid;
      }
      x = hi;
    } else {
      served = cap;
      x = target;
    }
    const left = demand - served;
    const maxBacklog = lambda * (o.queueTimeoutS ?? 1);
    backlog = Math.min(left, maxBacklog);
    const rejected = left - backlog;
    const s = o.law(Math.max(x, 1e-9));
    const sm: EndpointSample = {
      atMs: tS * 1000,
      intervalMs: 1000,
      inFlight: x * ready,
      queued: backlog,
      arrivals: lambda,
      completions: served,
      rejections: rejected,
      errors: 0,
      queueTimeMs: served > 0 ? (backlog / Math.max(served, 1e-9)) * 1000 : 0,
      serviceTimeMs: s,
      latencyP50Ms: s,
      latencyP99Ms: s * 1.3 + (served > 0 ? (backlog / Math.max(served, 1e-9)) * 1000 : 0),
      pods: Array.from({ length: ready }, () => ({ ready: true, ...(o.podSignals?.(x) ?? {}) })),
      ...(o.lateFraction !== undefined ? { overObjective: served * o.lateFraction(x) } : {}),
    };
    history.push(sm);
    if (history.length > 400) history.shift();
    let d: Decision | undefined;
    if (o.restartAtS === tS) {
      mem = undefined;
      nextRunMs = 0;
    }
    const unsched = Math.max(0, desired - Math.min(desired, maxPods));
    const input = {
      spec: o.spec,
      state: { desiredReplicas: desired, readyReplicas: ready, startingReplicas: starts.length, unschedulableReplicas: unsched, targetConcurrency: target },
      history,
      memory: mem,
      nowMs: tS * 1000,
    };
    if (tS * 1000 >= nextRunMs && (o.gate !== true || decisionNeeded(input, regularRunMs, o.config))) {
      d = decide(input, o.config);
      mem = d.memory;
      nextRunMs = d.nextRunAtMs;
      regularRunMs = d.regularRunAtMs;
      target = d.targetConcurrency;
      const schedulable = Math.min(d.desiredReplicas, maxPods);
      while (ready + starts.length < schedulable) starts.push(tS + o.podStartS);
      while (ready + starts.length > schedulable) {
        if (starts.length > 0) starts.pop();
        else ready--;
      }
      desired = d.desiredReplicas;
    }
    ticks.push({ tS, ready, desired, target, rejected, arrivals: lambda, decision: d, unschedulable: Math.max(0, desired - maxPods), late: served * (o.lateFraction?.(x) ?? 0), served });
  }
  return ticks;
}
