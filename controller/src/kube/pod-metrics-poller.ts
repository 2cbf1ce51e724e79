/**
 * The pod-metrics poll (thin shell around the pure join in pod-metrics.ts): every `intervalMs`, list the
 * PodMetrics of endpoint pods only (label selector `serving.autopilot.dev/endpoint`), join them with the
 * controller's Deployment index (one map lookup per pod, capacity computed once per Deployment object) and
 * the Prometheus runtime signals, and keep the latest result for the decision loop.
 *
 * When metrics.k8s.io is absent (404/503: no metrics-server, or its APIService not available) or failing,
 * the poll backs off exponentially (interval, 2×, 4× … capped at `maxBackoffMs`), logs once per change of
 * state instead of every poll, and reports the state in `available` (and the `apa_pod_metrics_available`
 * gauge when metrics are given).
 */
import type { PodMetric, V1Deployment } from "@kubernetes/client-node";
import { ENDPOINT_LABEL, VERSION_LABEL } from "../contract/labels.ts";
import type { PodSample } from "../engine/types.ts";
import type { Clock } from "./clock.ts";
import { httpStatusOf } from "./kube-api.ts";
import type { Logger } from "./logger.ts";
import { podCapacity, podSamplesByEndpoint, type RuntimeSignals } from "./pod-metrics.ts";

/** The latest pod samples per endpoint key (`namespace/name`) and when they were taken. */
export interface PodSamplesSnapshot {
  readonly atMs: number;
  readonly byEndpoint: ReadonlyMap<string, readonly PodSample[]>;
}

/** Whether the last polls worked: `reason` says why not (for logs, metrics and tests). */
export interface PodMetricsAvailability {
  readonly available: boolean;
  readonly reason: string;
  /** Consecutive failed polls. */
  readonly failures: number;
}

export interface PodMetricsPollerOptions {
  readonly listPodMetrics: (labelSelector: string) => Promise<readonly PodMetric[]>;
  /** The controller's Deployment index: endpoint key → its Deployments (rebuilt only when the cache changes). */
  readonly deploymentsByEndpoint: () => ReadonlyMap<string, readonly V1Deployment[]>;
  /** Prometheus runtime signals, refreshed by the caller's own period; none when unset. */
  readonly runtimeSignals?: () => Promise<RuntimeSignals>;
  readonly clock: Clock;
  readonly log: Logger;
  /** Poll period, ms. */
  readonly intervalMs: number;
  /** Longest wait between polls while metrics.k8s.io fails, ms. @default 300000 */
  readonly maxBackoffMs?: number;
  /** 1 while polls work, 0 while they fail. */
  readonly availableGauge?: { set(value: number): void };
}

const capacityCache = new WeakMap<V1Deployment, { cpu?: number; memory?: number }>();

/** `podCapacity` of a Deployment object, computed once per object (watch events replace objects). */
export function cachedCapacity(d: V1Deployment): { cpu?: number; memory?: number } {
  let c = capacityCache.get(d);
  if (c === undefined) {
    c = podCapacity(d);
    capacityCache.set(d, c);
  }
  return c;
}

/**
 * Pure join of one poll: PodMetrics + the Deployment index + runtime signals → PodSamples per endpoint key.
 * With a traffic split the pod's version label picks its Deployment's capacity. O(pods).
 */
export function joinPodMetrics(
  podMetrics: readonly PodMetric[],
  deploymentsByEndpoint: ReadonlyMap<string, readonly V1Deployment[]>,
  runtime: RuntimeSignals,
): Map<string, PodSample[]> {
  return podSamplesByEndpoint(
    podMetrics,
    (ns, endpoint, version) => {
      const mine = deploymentsByEndpoint.get(`${ns}/${endpoint}`);
      if (mine === undefined || mine.length === 0) return undefined;
      const d = mine.length === 1 || version === undefined ? mine[0] : (mine.find((x) => x.metadata?.labels?.[VERSION_LABEL] === version) ?? mine[0]);
      return d === undefined ? undefined : cachedCapacity(d);
    },
    runtime,
  );
}

export class PodMetricsPoller {
  readonly #o: PodMetricsPollerOptions;
  #latest: PodSamplesSnapshot | undefined;
  #availability: PodMetricsAvailability = { available: true, reason: "not polled yet", failures: 0 };
  #stop = new AbortController();
  #loop: Promise<void> | undefined;
  /** Polls made (tests). */
  polls = 0;

  constructor(o: PodMetricsPollerOptions) {
    this.#o = o;
  }

  /** The latest successful poll's samples. */
  latest(): PodSamplesSnapshot | undefined {
    return this.#latest;
  }

  get availability(): PodMetricsAvailability {
    return this.#availability;
  }

  /** Delay before the next poll: the interval while polls work; doubling per failure up to the cap. */
  nextDelayMs(): number {
    const f = this.#availability.failures;
    if (f === 0) return this.#o.intervalMs;
    return Math.min(this.#o.maxBackoffMs ?? 300_000, this.#o.intervalMs * 2 ** Math.min(f, 20));
  }

  /** One poll; never throws. */
  async pollOnce(): Promise<void> {
    this.polls += 1;
    const atMs = this.#o.clock.nowMs();
    try {
      const runtime = this.#o.runtimeSignals === undefined ? new Map() : await this.#o.runtimeSignals();
      const list = await this.#o.listPodMetrics(ENDPOINT_LABEL);
      this.#latest = { atMs, byEndpoint: joinPodMetrics(list, this.#o.deploymentsByEndpoint(), runtime) };
      if (!this.#availability.available) this.#o.log.info("pod metrics available again", { afterFailures: this.#availability.failures });
      this.#availability = { available: true, reason: "PodMetricsListed", failures: 0 };
      this.#o.availableGauge?.set(1);
    } catch (err) {
      const status = httpStatusOf(err);
      const reason =
        status === 404 || status === 503
          ? `metrics.k8s.io not served (HTTP ${status}): is metrics-server installed and its APIService available?`
          : `listing PodMetrics failed (${status !== undefined ? `HTTP ${status}` : err instanceof Error ? err.message : String(err)})`;
      const failures = this.#availability.failures + 1;
      if (this.#availability.available || this.#availability.reason !== reason) {
        this.#o.log.warn("pod metrics unavailable; backing off", { reason, status });
      }
      this.#availability = { available: false, reason, failures };
      this.#o.availableGauge?.set(0);
    }
  }

  start(): void {
    if (this.#loop !== undefined) return;
    this.#stop = new AbortController();
    this.#loop = (async () => {
      while (!this.#stop.signal.aborted) {
        await this.pollOnce();
        await this.#o.clock.sleep(this.nextDelayMs(), this.#stop.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#loop = undefined;
  }
}
