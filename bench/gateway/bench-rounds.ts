/**
 * Pure bookkeeping of `bench:gateway`'s interleaved rounds: which arm runs when, and how per-round figures
 * become the reported medians and spreads.
 */
import { median } from "./load-stats.ts";

/** One measured run of one arm. Latencies in ms. */
export interface ArmResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests without a response (socket errors, timeouts). */
  readonly errors: number;
  readonly non2xx: number;
  /** Open-loop runs only: the generator's own p99 send lag (actual − scheduled send time). */
  readonly sendLagP99Ms?: number;
  /** autocannon runs only: share of responses that arrived in the first half of each second. */
  readonly firstHalfShare?: number;
  /** Proxy arms of fixed-rate runs: the proxy process's CPU time per answered request, µs (bench-cpu.ts). */
  readonly cpuUsPerRequest?: number;
  /** The gateway arm of fixed-rate runs: the agent's CPU time per answered request (its request-log reader), µs. */
  readonly agentCpuUsPerRequest?: number;
}

/**
 * The order of the arms in round `round` (0-based): the list rotated by `round`, so over `arms.length` rounds
 * every arm runs once in every position (a burst of outside load or a warm-up effect does not always hit the
 * same arm).
 */
export function armOrder<T>(arms: readonly T[], round: number): T[] {
  if (arms.length === 0) return [];
  const k = ((round % arms.length) + arms.length) % arms.length;
  return [...arms.slice(k), ...arms.slice(0, k)];
}

/** An arm compared with the baseline arm of the same rounds. */
export interface Comparison {
  /** Per-round `arm − baseline`, in round order, ms. */
  readonly added50Ms: number[];
  readonly added99Ms: number[];
  /** Medians of the per-round differences, ms. */
  readonly medianAdded50Ms: number;
  readonly medianAdded99Ms: number;
  /** Smallest and largest per-round added p99, ms. */
  readonly minAdded99Ms: number;
  readonly maxAdded99Ms: number;
  /** Median of the per-round `arm rps / baseline rps`. */
  readonly medianRpsRatio: number;
}

/** Pairs `arm[i]` with `baseline[i]` (the same round) and reduces the differences to medians. */
export function compareRounds(baseline: readonly ArmResult[], arm: readonly ArmResult[]): Comparison {
  if (baseline.length !== arm.length || baseline.length === 0) {
    throw new Error(`compareRounds: ${baseline.length} baseline rounds vs ${arm.length} arm rounds; need the same number, ≥ 1`);
  }
  const added50Ms = arm.map((x, i) => x.p50Ms - (baseline[i] as ArmResult).p50Ms);
  const added99Ms = arm.map((x, i) => x.p99Ms - (baseline[i] as ArmResult).p99Ms);
  return {
    added50Ms,
    added99Ms,
    medianAdded50Ms: median(added50Ms),
    medianAdded99Ms: median(added99Ms),
    minAdded99Ms: Math.min(...added99Ms),
    maxAdded99Ms: Math.max(...added99Ms),
    medianRpsRatio: median(arm.map((x, i) => x.rps / (baseline[i] as ArmResult).rps)),
  };
}

/** Per-cell medians over the rounds of one arm; errors and non-2xx are summed. */
export function medianResult(xs: readonly ArmResult[]): ArmResult {
  return {
    rps: median(xs.map((x) => x.rps)),
    p50Ms: median(xs.map((x) => x.p50Ms)),
    p99Ms: median(xs.map((x) => x.p99Ms)),
    errors: xs.reduce((n, x) => n + x.errors, 0),
    non2xx: xs.reduce((n, x) => n + x.non2xx, 0),
    ...(xs.every((x) => x.sendLagP99Ms !== undefined) ? { sendLagP99Ms: median(xs.map((x) => x.sendLagP99Ms as number)) } : {}),
    ...(xs.every((x) => x.firstHalfShare !== undefined) ? { firstHalfShare: median(xs.map((x) => x.firstHalfShare as number)) } : {}),
    ...(xs.length > 0 && xs.every((x) => x.cpuUsPerRequest !== undefined) ? { cpuUsPerRequest: median(xs.map((x) => x.cpuUsPerRequest as number)) } : {}),
    ...(xs.length > 0 && xs.every((x) => x.agentCpuUsPerRequest !== undefined) ? { agentCpuUsPerRequest: median(xs.map((x) => x.agentCpuUsPerRequest as number)) } : {}),
  };
}
