/**
 * Model profiles as seen by the simulator: how fast a pod makes progress with n requests in flight
 * (a generalised processor-sharing law), each request's work, and the pod's resource signals.
 *
 * Every kind is a processor-sharing pod with a virtual clock that advances at `rate(n)` per ms:
 * - cpu: rate = min(1, parallelism / n)  → latency = serviceMs·max(1, n/parallelism)
 * - batching: rate = L(1)/L(n), L(n) = baseMs + perRequestMs·n → latency = L(n) at steady n
 * - io: rate = min(1, maxInFlight / n)   → constant latencyMs up to maxInFlight
 * - llm: rate = L(1)/L(n), L(n) = √(baseMs² + (perRequestMs·n)²) → a smooth roofline: flat while memory-bound,
 *   linear once compute-bound (the engine's linear fit does not describe it); past the KV-cache capacity K the
 *   engine runs K at a time and preempts the rest (vLLM's recompute preemption), so throughput saturates at K and
 *   then falls: rate = L(1)/L(K) · (K/n) / (1 + preemptionOverhead · (n − K)/K) (`llmRate`)
 * A request's work is the latency it would have alone, times its cost and a jitter factor.
 */
import type { PodSample } from "../engine/types.ts";
import type { ModelSpec } from "./scenario-types.ts";

const CPU = 0;
const BATCHING = 1;
const IO = 2;
const LLM = 3;

export class PodModel {
  readonly kindCode: number;
  /** Work of a cost-1 request, virtual ms. */
  readonly baseWorkMs: number;
  /** New requests fail once a pod already has this many in flight (batching memory cap). */
  readonly failAt: number;
  readonly jitter: number;
  /** Cores of true parallelism (cpu) or 1. */
  readonly par: number;
  private readonly spec: ModelSpec;
  private readonly a: number;
  private readonly b: number;
  /** llm: KV-cache capacity in requests, and the preemption overhead past it. */
  private readonly kv: number;
  private readonly preempt: number;

  constructor(spec: ModelSpec) {
    this.spec = spec;
    this.jitter = spec.jitter;
    if (spec.kind === "cpu") {
      this.kv = Infinity;
      this.preempt = 0;
      this.kindCode = CPU;
      this.baseWorkMs = spec.serviceMs;
      this.failAt = Infinity;
      this.par = spec.parallelism;
      this.a = spec.parallelism;
      this.b = 0;
    } else if (spec.kind === "batching") {
      this.kv = Infinity;
      this.preempt = 0;
      this.kindCode = BATCHING;
      this.baseWorkMs = spec.baseMs + spec.perRequestMs;
      this.failAt = spec.maxInFlight;
      this.par = 1;
      this.a = spec.baseMs;
      this.b = spec.perRequestMs;
    } else if (spec.kind === "llm") {
      this.kv = spec.kvCapacity;
      this.preempt = spec.preemptionOverhead;
      this.kindCode = LLM;
      this.baseWorkMs = Math.hypot(spec.baseMs, spec.perRequestMs);
      this.failAt = spec.maxInFlight;
      this.par = 1;
      this.a = spec.baseMs;
      this.b = spec.perRequestMs;
    } else {
      this.kv = Infinity;
      this.preempt = 0;
      this.kindCode = IO;
      this.baseWorkMs = spec.latencyMs;
      this.failAt = Infinity;
      this.par = 1;
      this.a = spec.maxInFlight;
      this.b = 0;
    }
  }

  /** Virtual-time progress per real ms with n requests in flight (n ≥ 1). */
  rate(n: number): number {
    switch (this.kindCode) {
      case CPU:
      case IO:
        return n <= this.a ? 1 : this.a / n;
      case LLM:
        return llmRate(n, this.baseWorkMs, this.a, this.b, this.kv, this.preempt);
      default:
        return this.baseWorkMs / (this.a + this.b * n);
    }
  }

  /** Steady-state latency of a cost-1 request with n in flight, ms (no jitter). */
  latencyAt(n: number): number {
    return this.baseWorkMs / this.rate(Math.max(1, n));
  }

  /**
   * Resource signals of one pod from its time averages over an interval: mean in-flight `avgN`,
   * fraction of time busy (n > 0) `busyFrac`, mean min(n, parallelism) `avgCores`. The formulas are
   * documented in docs/simulator.md ("Pod signals").
   */
  podSignals(ready: boolean, avgN: number, busyFrac: number, avgCores: number): PodSample {
    const s = this.spec;
    // Flat memory unless the scenario opts in to memory that grows with in-flight (a real model server's memory
    // is mostly its weights and runtime; no production reader here has shown it rising with requests).
    const memory = (base: number): number => clamp01(base + (s.memoryPerInFlight ?? 0) * avgN);
    if (s.kind === "cpu") {
      return { ready, cpuUtil: clamp01(avgCores / s.cpuRequestCores), memoryUtil: memory(0.3) };
    }
    if (s.kind === "batching" || s.kind === "llm") {
      const kvCapacity = s.kind === "llm" ? s.kvCapacity : s.maxInFlight;
      return {
        ready,
        cpuUtil: clamp01((0.2 + 0.8 * busyFrac) / s.cpuRequestCores),
        memoryUtil: memory(0.5),
        gpuUtil: clamp01(busyFrac),
        gpuMemoryUtil: 0.9,
        kvCacheUtil: clamp01(avgN / kvCapacity),
        // the requests past the KV-cache capacity wait in the engine's own queue (preempted or not yet admitted)
        runtimeQueueLength: s.kind === "llm" ? Math.max(0, avgN - kvCapacity) : 0,
      };
    }
    return {
      ready,
      cpuUtil: clamp01((0.05 + s.cpuPerRequestCores * avgN) / s.cpuRequestCores),
      memoryUtil: memory(0.2),
    };
  }

  /** CPU cores one pod uses (HPA's numerator) given the same averages. */
  cpuCores(avgN: number, busyFrac: number, avgCores: number): number {
    const s = this.spec;
    if (s.kind === "cpu") return avgCores;
    if (s.kind === "batching" || s.kind === "llm") return 0.2 + 0.8 * busyFrac;
    return 0.05 + s.cpuPerRequestCores * avgN;
  }
}

/**
 * Progress per ms of each of n requests in an LLM engine (a decode step of the batch takes
 * L(m) = √(a² + (b·m)²) ms for m running; a lone request's work is L(1)): below the KV-cache capacity K every
 * request runs in the batch, rate L(1)/L(n). Past it the engine runs K at a time (the batch's KV-cache is full)
 * and preempts the rest by recompute: each request runs K/n of the time, and the recomputation of preempted work
 * costs `preemptionOverhead` of the batch's throughput per K of excess demand.
 * Worked example: a = 2000, b = 50, K = 32, overhead 0.5: at n = 32 a request's step takes L(32) = 2561 ms;
 * at n = 64 it takes 2561 · 2 · (1 + 0.5 · 32/32) = 7683 ms, and the pod's throughput (n / latency) falls from
 * 32 / 2561 to 64 / 7683 per ms: two thirds of the saturated rate.
 */
export function llmRate(n: number, loneStepMs: number, baseMs: number, perRequestMs: number, kvCapacity: number, preemptionOverhead: number): number {
  if (n <= kvCapacity) return loneStepMs / Math.hypot(baseMs, perRequestMs * n);
  return (loneStepMs / Math.hypot(baseMs, perRequestMs * kvCapacity)) * (kvCapacity / n) / (1 + (preemptionOverhead * (n - kvCapacity)) / kvCapacity);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
