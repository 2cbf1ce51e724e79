/**
 * The agent's view of every request: folds each parsed log record (request-log.ts) into the endpoint's
 * cumulative counters (request-stats.ts, served to the controller in `/stats`) and into Prometheus metrics per
 * endpoint and model version (latency histogram, requests by status, over-objective count, 429s and 5xx by
 * reason), and hands the record on (payload logs, traces). No clock, no I/O: records in, state out.
 *
 * Only endpoints the gateway serves get their own label values; a request naming any other endpoint (a 404)
 * is counted under `endpoint="_unknown"`, so a caller cannot create metric series at will.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import { errorReason, timingOf, type RequestRecord } from "./request-log.ts";
import { emptyCounters, observeRequest, type RequestCounters } from "./request-stats.ts";
import type { EndpointRequestCounters } from "./request-stats-wire.ts";

/** Bucket bounds of the Prometheus latency histogram, seconds (dashboards' p50/p99 via histogram_quantile). */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
export const UNKNOWN_ENDPOINT = "_unknown";
/** Version label of pods whose version is not known (e.g. the local loop's processes). */
export const DEFAULT_VERSION = "default";
/** Version label of requests no pod was chosen for (429s from the queue, no-pod 503s, gateway answers). */
export const NO_POD_VERSION = "none";

export interface RequestObserverOptions {
  /** The endpoints served now, with their objectives (undefined: none). */
  readonly endpointObjective: (endpoint: string) => { known: boolean; objectiveMs: number | undefined };
  /** Model version served by a backend's slot; undefined when not known. */
  readonly versionOf: (backend: string, server: string) => string | undefined;
  /** Where the Prometheus metrics go; none when absent. */
  readonly registry?: Registry;
  /** Called with every record of a known endpoint, after it is counted. */
  readonly onRecord?: (record: RequestRecord, version: string) => void;
}

interface Children {
  duration: ReturnType<Histogram<string>["labels"]>;
  queue: ReturnType<Counter<string>["labels"]>;
  service: ReturnType<Counter<string>["labels"]>;
  over: ReturnType<Counter<string>["labels"]>;
}

export class RequestObserver {
  readonly #o: RequestObserverOptions;
  readonly #counters = new Map<string, EndpointRequestCounters & { counters: RequestCounters }>();
  readonly #children = new Map<string, Children>();
  readonly #duration?: Histogram<string>;
  readonly #queue?: Counter<string>;
  readonly #service?: Counter<string>;
  readonly #over?: Counter<string>;
  readonly #requests?: Counter<string>;
  readonly #errors?: Counter<string>;
  /** Records read, and lines that were not request records. */
  records = 0;

  constructor(o: RequestObserverOptions) {
    this.#o = o;
    const registers = o.registry !== undefined ? [o.registry] : [];
    if (o.registry !== undefined) {
      const labelNames = ["endpoint", "version"];
      this.#duration = new Histogram({
        name: "autopilot_gateway_request_duration_seconds",
        help: "Latency of requests a pod answered: gateway queue wait + pod time, per endpoint and model version",
        labelNames, buckets: LATENCY_BUCKETS_S, registers,
      });
      this.#queue = new Counter({ name: "autopilot_gateway_queue_seconds_total", help: "Time requests a pod answered waited in the endpoint queue", labelNames, registers });
      this.#service = new Counter({ name: "autopilot_gateway_service_seconds_total", help: "Time requests held a pod slot (connect + response + transfer)", labelNames, registers });
      this.#over = new Counter({ name: "autopilot_gateway_over_objective_total", help: "Requests a pod answered whose latency exceeded the endpoint's p99 objective", labelNames, registers });
      this.#requests = new Counter({ name: "autopilot_gateway_requests_total", help: "Requests by endpoint, model version and HTTP status", labelNames: ["endpoint", "version", "code"], registers });
      this.#errors = new Counter({
        name: "autopilot_gateway_request_errors_total",
        help: "429 and 5xx answers by reason (queue_full, queue_timeout, pod_unreachable, no_ready_pod, pod_timeout, pod_aborted, pod_status, gateway)",
        labelNames: ["endpoint", "version", "code", "reason"], registers,
      });
    }
  }

  /** Folds one record in. */
  ingest(r: RequestRecord): void {
    this.records += 1;
    const ep = r.endpoint;
    const { known, objectiveMs } = ep === undefined ? { known: false, objectiveMs: undefined } : this.#o.endpointObjective(ep);
    const endpoint = known && ep !== undefined ? ep : UNKNOWN_ENDPOINT;
    const version = r.server !== undefined ? this.#o.versionOf(r.backend, r.server) ?? DEFAULT_VERSION : NO_POD_VERSION;
    const timing = timingOf(r);
    if (known) {
      let entry = this.#counters.get(endpoint);
      if (entry === undefined || entry.objectiveMs !== objectiveMs) {
        entry = { objectiveMs, counters: entry?.counters ?? emptyCounters() };
        this.#counters.set(endpoint, entry);
      }
      observeRequest(entry.counters, timing, objectiveMs);
    }
    if (this.#requests !== undefined) {
      this.#requests.labels(endpoint, version, String(r.status)).inc();
      const reason = errorReason(r);
      if (reason !== undefined) this.#errors!.labels(endpoint, version, String(r.status), reason).inc();
      if (known && timing.serviceMs !== undefined) {
        const c = this.#child(endpoint, version);
        const latencyMs = timing.queueMs + timing.serviceMs;
        c.duration.observe(latencyMs / 1000);
        if (timing.queueMs > 0) c.queue.inc(timing.queueMs / 1000);
        c.service.inc(timing.serviceMs / 1000);
        if (objectiveMs !== undefined && latencyMs > objectiveMs) c.over.inc();
      }
    }
    if (known) this.#o.onRecord?.(r, version);
  }

  #child(endpoint: string, version: string): Children {
    const key = `${endpoint}\u0000${version}`;
    let c = this.#children.get(key);
    if (c === undefined) {
      c = {
        duration: this.#duration!.labels(endpoint, version),
        queue: this.#queue!.labels(endpoint, version),
        service: this.#service!.labels(endpoint, version),
        over: this.#over!.labels(endpoint, version),
      };
      // Present from the first answered request, at 0: a version with nothing over the objective shows 0, not no data.
      c.over.inc(0);
      c.queue.inc(0);
      this.#children.set(key, c);
    }
    return c;
  }

  /** Cumulative counters per endpoint (what `/stats` serves). */
  counters(): ReadonlyMap<string, EndpointRequestCounters> {
    return this.#counters;
  }

  /** Forgets an endpoint that is no longer served (its counters; Prometheus series stay until restart). */
  forget(endpoint: string): void {
    this.#counters.delete(endpoint);
  }
}
