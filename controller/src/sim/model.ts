/**
 * Model profiles as seen by the simulator: how fast a pod makes progress with n requests in flight
 * (a generalised processor-sharing law), each request's work, and the pod's resource signals.
 *
 * Every kind is a processor-sharing pod with a virtual clock that advances at `rate(n)` per ms:
 * - cpu: rate = min(1, parallelism / n)  → latency = serviceMs·max(1, n/parallelism)
 * - batching: rate = L(1)/L(n), L(n) = baseMs + perRequestMs·n → latency = L(n) at steady n
 * - io: rate = min(1, maxInFlight / n)   → constant latencyMs up to maxInFlight
 * - llm: rate = L(1)/L(n), L(n) = √(baseMs² + (perRequestMs·n)²) → a smooth roofline: flat while memory-bound,
 *   linear once compute-bound (the engine's linear fit does not describe it)
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

  constructor(spec: ModelSpec) {
    this.spec = spec;
    this.jitter = spec.jitter;
    if (spec.kind === "cpu") {
      this.kindCode = CPU;
      this.baseWorkMs = spec.serviceMs;
      this.failAt = Infinity;
      this.par = spec.parallelism;
      this.a = spec.parallelism;
      this.b = 0;
    } else if (spec.kind === "batching") {
      this.kindCode = BATCHING;
      this.baseWorkMs = spec.baseMs + spec.perRequestMs;
      this.failAt = spec.maxInFlight;
      this.par = 1;
      this.a = spec.baseMs;
      this.b = spec.perRequestMs;
    } else if (spec.kind === "llm") {
      this.kindCode = LLM;
      this.baseWorkMs = Math.hypot(spec.baseMs, spec.perRequestMs);
      this.failAt = spec.maxInFlight;
      this.par = 1;
      this.a = spec.baseMs;
      this.b = spec.perRequestMs;
    } else {
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
        return this.baseWorkMs / Math.hypot(this.a, this.b * n);
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
        runtimeQueueLength: 0,
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

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
