/**
 * Per-second records of one simulation run: the time series behind every reported figure and chart.
 */
import { BUCKETS } from "./histogram.ts";

export class Series {
  /** Seconds recorded (scenario duration plus the drain tail). */
  readonly length: number;
  readonly arrivals: Float64Array;
  readonly served: Float64Array;
  /** 429s: queue full or queue wait over the timeout. */
  readonly rejected: Float64Array;
  /** 5xx: memory cap exceeded or killed at the end of a drain. */
  readonly failed: Float64Array;
  /** Served within the SLO latency. */
  readonly good: Float64Array;
  /** Latency histogram per second (by completion time), `BUCKETS` counts per second. */
  readonly hist: Uint32Array;
  readonly ready: Float64Array;
  readonly starting: Float64Array;
  readonly unschedulable: Float64Array;
  readonly draining: Float64Array;
  readonly desired: Float64Array;
  readonly targetConcurrency: Float64Array;
  readonly inFlight: Float64Array;
  readonly queued: Float64Array;
  /** Pod-seconds of scheduled pods (starting, ready, draining) within the second. */
  readonly podSeconds: Float64Array;
  /** Node slots held at the end of each second (idle ones included, and those being provisioned). */
  readonly nodes: Float64Array;

  constructor(length: number) {
    this.length = length;
    const f = (): Float64Array => new Float64Array(length);
    this.arrivals = f();
    this.served = f();
    this.rejected = f();
    this.failed = f();
    this.good = f();
    this.hist = new Uint32Array(length * BUCKETS);
    this.ready = f();
    this.starting = f();
    this.unschedulable = f();
    this.draining = f();
    this.desired = f();
    this.targetConcurrency = f();
    this.inFlight = f();
    this.queued = f();
    this.podSeconds = f();
    this.nodes = f();
  }
}

/** A replica-count change made by a policy. */
export interface ScaleEvent {
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
}
