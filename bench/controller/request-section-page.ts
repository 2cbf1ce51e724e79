/**
 * The agent's `/stats` request section (request-stats-wire.ts) for the benchmark: cumulative per-endpoint
 * request counters advanced each second by the benchmark's load, with a latency spread like a real model's
 * (a body around the mean service time and a tail), written by the agent's own `formatRequestSection`.
 * Every endpoint serves requests every second (the worst case for the reader: no endpoint is idle).
 */
import { emptyCounters, latencyBucket, type RequestCounters } from "../../controller/src/gateway/request-stats.ts";
import { formatRequestSection, type EndpointRequestCounters } from "../../controller/src/gateway/request-stats-wire.ts";
import { prng } from "./bench-fixtures.ts";

/** Latency offsets from the mean (fraction of it) and their shares: a body of ±30% and a tail to 3×. */
const SHAPE: readonly (readonly [number, number])[] = [
  [-0.3, 0.05], [-0.2, 0.1], [-0.1, 0.2], [0, 0.25], [0.1, 0.18], [0.2, 0.1], [0.4, 0.06], [0.7, 0.03], [1.2, 0.02], [2, 0.01],
];

export class RequestSectionLoad {
  readonly #counters = new Map<string, EndpointRequestCounters>();
  readonly #rand: () => number;

  /** @param objectiveMs each endpoint's p99 objective (the benchmark gives every endpoint one). */
  constructor(endpoints: readonly string[], objectiveMs: number, seed = 11) {
    this.#rand = prng(seed);
    for (const e of endpoints) this.#counters.set(e, { objectiveMs, counters: emptyCounters() });
  }

  /** Adds one second of traffic: `served` requests of mean service time `serviceMs` for `endpoint`. */
  advance(endpoint: string, served: number, serviceMs: number, queueMs: number): void {
    const entry = this.#counters.get(endpoint);
    if (entry === undefined || served <= 0) return;
    const c: RequestCounters = entry.counters;
    let left = served;
    for (const [offset, share] of SHAPE) {
      const n = Math.min(left, Math.round(served * share * (0.9 + 0.2 * this.#rand())));
      if (n <= 0) continue;
      const latencyMs = serviceMs * (1 + offset) + queueMs;
      c.histogram[latencyBucket(latencyMs)]! += n;
      if (entry.objectiveMs !== undefined && latencyMs > entry.objectiveMs) c.overObjective += n;
      left -= n;
    }
    const counted = served - left;
    c.served += counted;
    c.serviceMsSum += Math.round(counted * serviceMs);
    c.queueMsSum += Math.round(counted * queueMs);
  }

  /** The section as the agent appends it to `/stats`. */
  section(): string {
    return formatRequestSection(this.#counters);
  }
}
