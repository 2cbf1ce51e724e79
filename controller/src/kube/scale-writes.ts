/**
 * The controller's writes: replica counts through the Deployment scale subresource (split across
 * traffic-split versions), one aggregated Event per kind of change (event-recorder.ts), and status patches.
 * Every write goes through the `WriteQueue`'s token bucket and per-key backoff; each checks leadership first
 * (it can be lost while a cycle runs or a write waits).
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type { ServingEndpoint, ServingEndpointStatus } from "../contract/crd/types.ts";
import { keyOfObject, splitReplicas } from "./cluster-state.ts";
import type { ControllerConfig } from "./config.ts";
import type { EventRecorder, EventWrite } from "./event-recorder.ts";
import { scaleEvent } from "./events.ts";
import { httpStatusOf, type KubeApi } from "./kube-api.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";
import type { WriteQueue } from "./write-queue.ts";

export interface WriteDeps {
  readonly api: KubeApi;
  readonly metrics: ControllerMetrics;
  readonly config: ControllerConfig;
  readonly isLeader: () => boolean;
  readonly queue: WriteQueue;
  readonly events: EventRecorder;
}

/** How long an Event write may wait for a token before it is dropped (Events are best effort), ms. */
export const EVENT_TTL_MS = 300_000;

/**
 * Sets `total` replicas split by `weights` over `deployments`: "applied", "failed" (a write failed or
 * leadership was lost) or "deferred" (no write token, or the Deployment's backoff after a failure).
 */
export async function applyScale(
  d: WriteDeps,
  deployments: readonly V1Deployment[],
  weights: readonly number[],
  total: number,
  nowMs: number,
  log: Logger,
): Promise<"applied" | "failed" | "deferred"> {
  const parts = splitReplicas(total, weights);
  let outcome: "applied" | "failed" | "deferred" = "applied";
  for (const [i, dep] of deployments.entries()) {
    const want = parts[i] ?? 0;
    if ((dep.spec?.replicas ?? 0) === want) continue;
    if (!d.isLeader()) return "failed";
    const key = keyOfObject(dep);
    if (!d.queue.admit("scale", key, nowMs)) {
      outcome = outcome === "failed" ? outcome : "deferred";
      continue;
    }
    try {
      await d.api.patchDeploymentScale(dep.metadata?.namespace ?? "", dep.metadata?.name ?? "", want, dep.metadata?.resourceVersion);
      d.queue.settle("scale", key, nowMs);
    } catch (err) {
      outcome = "failed";
      d.queue.settle("scale", key, nowMs, err);
      const status = httpStatusOf(err);
      d.metrics.kubeWriteErrors.inc({ op: "scale", status: String(status ?? "network") });
      log.warn(status === 409 ? "scale conflict: Deployment changed since read; retrying with fresh state" : "scale failed", { deployment: key, status, error: err });
    }
  }
  return outcome;
}

/** Queues an Event's write, or a series patch of a similar one already written. */
export function sendEventWrite(d: WriteDeps, w: EventWrite, nowMs: number, log: Logger): void {
  const onError = (err: unknown): void => {
    d.metrics.kubeWriteErrors.inc({ op: "event", status: String(httpStatusOf(err) ?? "network") });
    log.warn("event write failed", { error: err, status: httpStatusOf(err) });
    if (w.kind === "create") d.events.createFailed(w.key);
  };
  d.queue.enqueue(
    "event",
    `${w.kind} ${w.key}`,
    async () => {
      if (!d.isLeader()) return;
      if (w.kind === "create") d.events.created(w.key, (await d.api.createEvent(w.namespace, w.event)).metadata?.name);
      else await d.api.patchEvent(w.namespace, w.name, w.patch);
    },
    { onError, ttlMs: EVENT_TTL_MS, nowMs },
  );
}

/** Records the Event of an applied replica change, with the engine's reason and message. */
export function emitScaleEvent(
  d: WriteDeps,
  e: { readonly se: ServingEndpoint; readonly from: number; readonly to: number; readonly reason: string; readonly message: string; readonly nowMs: number },
  log: Logger,
): void {
  if (!d.isLeader()) return;
  const w = d.events.record(scaleEvent({ ...e, instance: d.config.identity ?? "apa" }), e.nowMs);
  if (w !== undefined) sendEventWrite(d, w, e.nowMs, log);
}

/**
 * Queues `next` as `se`'s status patch (replacing a pending one). `onWritten` runs once the API server took
 * it; a failure is retried after the key's backoff unless a newer status replaces it.
 */
export function queueStatusWrite(
  d: WriteDeps,
  se: ServingEndpoint,
  next: ServingEndpointStatus,
  nowMs: number,
  onWritten: () => void,
  log: () => Logger,
): void {
  d.queue.enqueue(
    "status",
    keyOfObject(se),
    async () => {
      if (!d.isLeader()) return;
      await d.api.patchServingEndpointStatus(se.metadata.namespace ?? "", se.metadata.name, next);
      onWritten();
    },
    {
      nowMs,
      onError: (err) => {
        d.metrics.kubeWriteErrors.inc({ op: "status", status: String(httpStatusOf(err) ?? "network") });
        log().warn("status write failed; retrying after backoff", { error: err, status: httpStatusOf(err) });
      },
    },
  );
}
