/**
 * Per-second records of one simulation run: the time series behind every reported figure and chart.
 */
import type { EndpointSample, PodSample } from "../engine/types.ts";
import { BUCKETS, quantile } from "./histogram.ts";

export class Series {
  /** Seconds recorded (scenario duration plus the drain tail). */
  readonly length: number;
  readonly arrivals: Float64Array;
  readonly served: Float64Array;
  /** 429s: queue full or queue wait over the timeout, in the second they were answered (what the gateway counts). */
  readonly rejected: Float64Array;
  /** The same 429s in the second their request arrived (what a client booking answers by send time counts). */
  readonly rejectedByArrival: Float64Array;
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
    this.rejectedByArrival = f();
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

/** A replica-count change made by a policy. */
export interface ScaleEvent {
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
}

/** What the simulated gateway knows at the end of a second besides the series' counts, for the engine's sample. */
export interface SecondGauges {
  /** Requests at pods now. */
  readonly inFlight: number;
  /** Requests in the gateway queue now. */
  readonly queued: number;
  /** Sum of the queue waits of the requests dispatched within the second, ms. */
  readonly queueWaitSumMs: number;
  /** Requests dispatched to a pod within the second. */
  readonly dispatched: number;
  /** Sum of the service times of the requests completed within the second, ms. */
  readonly serviceSumMs: number;
}

/** The engine's 1 s sample of second `s` (ending at `atMs`): the second's counts and latency quantiles from `sr`. */
export function secondSample(sr: Series, s: number, atMs: number, g: SecondGauges, pods: readonly PodSample[] | undefined): EndpointSample {
  const served = sr.served[s]!;
  const p50 = served > 0 ? quantile(sr.hist, 0.5, s * BUCKETS, served) : NaN;
  const p99 = served > 0 ? quantile(sr.hist, 0.99, s * BUCKETS, served) : NaN;
  return {
    atMs,
    intervalMs: 1000,
    inFlight: g.inFlight,
    queued: g.queued,
    arrivals: sr.arrivals[s]!,
    completions: served,
    rejections: sr.rejected[s]!,
    errors: sr.failed[s]!,
    ...(g.dispatched > 0 ? { queueTimeMs: g.queueWaitSumMs / g.dispatched } : {}),
    ...(served > 0 ? { serviceTimeMs: g.serviceSumMs / served, latencyP50Ms: p50, latencyP99Ms: p99, overObjective: served - sr.good[s]! } : {}),
    ...(pods ? { pods } : {}),
  };
}
