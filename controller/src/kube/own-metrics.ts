/** The controller's own Prometheus metrics (prom-client), on a private registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface ControllerMetrics {
  readonly registry: Registry;
  /** Engine decisions by horizontal reason and the action taken (scale, hold, none). */
  readonly decisions: Counter<"reason" | "action">;
  readonly desiredReplicas: Gauge<"endpoint">;
  readonly readyReplicas: Gauge<"endpoint">;
  readonly targetConcurrency: Gauge<"endpoint">;
  /** Gateway scrape latency per gateway replica, seconds. */
  readonly scrapeSeconds: Histogram;
  readonly scrapeErrors: Counter<"target">;
  /** Decision loop duration, seconds. */
  readonly loopSeconds: Histogram;
  readonly loopSkipped: Counter;
  readonly kubeWriteErrors: Counter<"op" | "status">;
  readonly watchErrors: Counter<"resource">;
  readonly isLeader: Gauge;
  /** 1 while metrics.k8s.io answers the pod-metrics poll, 0 while it fails (polls back off). */
  readonly podMetricsAvailable: Gauge;
  /** API writes waiting for the write limit or a retry backoff. */
  readonly pendingWrites: Gauge;
}

export function makeControllerMetrics(opts: { readonly defaultMetrics: boolean }): ControllerMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "apa_" });
  const r = [registry];
  return {
    registry,
    decisions: new Counter({ name: "apa_decisions_total", help: "Engine decisions by reason and action taken", labelNames: ["reason", "action"], registers: r }),
    desiredReplicas: new Gauge({ name: "apa_desired_replicas", help: "Desired replicas per endpoint", labelNames: ["endpoint"], registers: r }),
    readyReplicas: new Gauge({ name: "apa_ready_replicas", help: "Ready replicas per endpoint", labelNames: ["endpoint"], registers: r }),
    targetConcurrency: new Gauge({ name: "apa_target_concurrency", help: "Per-pod target concurrency per endpoint", labelNames: ["endpoint"], registers: r }),
    scrapeSeconds: new Histogram({
      name: "apa_gateway_scrape_seconds",
      help: "Gateway metrics scrape latency",
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    }),
    scrapeErrors: new Counter({ name: "apa_gateway_scrape_errors_total", help: "Failed gateway scrapes", labelNames: ["target"], registers: r }),
    loopSeconds: new Histogram({
      name: "apa_loop_duration_seconds",
      help: "Duration of one sample+decide+apply cycle",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: r,
    }),
    loopSkipped: new Counter({ name: "apa_loop_skipped_total", help: "Ticks skipped because the previous cycle was still running", registers: r }),
    kubeWriteErrors: new Counter({ name: "apa_kube_write_errors_total", help: "Failed Kubernetes writes", labelNames: ["op", "status"], registers: r }),
    watchErrors: new Counter({ name: "apa_watch_errors_total", help: "List/watch failures (retried with backoff)", labelNames: ["resource"], registers: r }),
    isLeader: new Gauge({ name: "apa_is_leader", help: "1 while this replica holds the Lease", registers: r }),
    pendingWrites: new Gauge({ name: "apa_kube_pending_writes", help: "API writes waiting for the write limit (token bucket) or a retry backoff", registers: r }),
    podMetricsAvailable: new Gauge({ name: "apa_pod_metrics_available", help: "1 while metrics.k8s.io answers the pod-metrics poll, 0 while it fails", registers: r }),
  };
}
