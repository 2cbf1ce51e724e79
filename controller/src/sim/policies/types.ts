/**
 * The contract between the simulator and an autoscaling policy (ours or a baseline). A policy sees
 * only what its real counterpart sees: each implementation documents which fields it reads.
 */
import type { EndpointSample, PodSample, ReplicaState } from "../../engine/types.ts";
import type { RequestSampleFields } from "../../gateway/request-stats.ts";

export type PodPhase = "unschedulable" | "starting" | "ready" | "draining";

/** One pod over the last second. */
export interface PodObservation {
  readonly id: number;
  readonly phase: PodPhase;
  readonly createdAtMs: number;
  /** When the pod became ready; NaN while not ready yet. */
  readonly readyAtMs: number;
  /** CPU cores used on average over the second (what cAdvisor/metrics-server would measure). */
  readonly cpuCores: number;
  /** Requested CPU cores (HPA's denominator). */
  readonly cpuRequestCores: number;
  readonly sample: PodSample;
}

/** What the simulator reports every simulated second. */
export interface SecondObservation {
  /** The gateway's per-endpoint sample (what the APA controller scrapes). */
  readonly sample: EndpointSample;
  /** Time-averaged in-flight + queued requests over the second (Knative queue-proxy + activator view). */
  readonly avgConcurrency: number;
  /** Per-pod observations; only filled for policies with `wantsPods`. */
  readonly pods: readonly PodObservation[] | undefined;
  /** The interval's time fields as the production reader computes them; only for policies with `wantsGatewayTimings`. */
  readonly gatewayFields?: RequestSampleFields;
}

/** The live state a policy may read when it decides. */
export interface ClusterView {
  readonly nowMs: number;
  readonly state: ReplicaState;
  /** Requests at pods right now. */
  readonly inFlight: number;
  /** Requests in the gateway queue right now. */
  readonly queued: number;
}

export interface PolicyAction {
  readonly desiredReplicas: number;
  /** Per-pod request limit to enforce at the gateway. */
  readonly targetConcurrency: number;
}

export interface Policy {
  readonly name: string;
  /** Ask the simulator to fill `SecondObservation.pods` (costs time at scale). */
  readonly wantsPods: boolean;
  /** Ask the simulator to fold each request's timers as the production gateway reader does (`signals: "gateway"`). */
  readonly wantsGatewayTimings?: boolean;
  /** Per-pod limit in force at t = 0. */
  readonly initialTargetConcurrency: number;
  /**
   * How requests reach pods. `least-connections` (the default): a gateway's central queue, each request to the
   * ready pod with the fewest in flight under the limit (HAProxy; Knative's activator; Ray's handle queue).
   * `random`: a plain Service (kube-proxy picks a ready pod at random per request) — no balancing on load.
   */
  readonly dispatch?: "least-connections" | "random";
  /** Called at the end of every simulated second. */
  observe(obs: SecondObservation): void;
  /** Simulated time (ms) of the next `decide` call; +Infinity for never. */
  nextRunAtMs: number;
  /** Decide; must also move `nextRunAtMs` forward. */
  decide(view: ClusterView): PolicyAction;
}

/** A per-pod limit that means "no limit" (Knative containerConcurrency 0). */
export const UNLIMITED = 1_000_000_000;
