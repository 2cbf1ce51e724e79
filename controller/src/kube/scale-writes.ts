/**
 * The controller's writes: replica counts through the Deployment scale subresource (split across
 * traffic-split versions), the endpoint's controller ownerReference on its Deployments, one aggregated Event per
 * kind of change (event-recorder.ts), and status patches.
 * Every write goes through the `WriteQueue`'s token bucket and per-key backoff; each checks leadership first
 * (it can be lost while a cycle runs or a write waits).
 */
import type { V1Deployment, V1OwnerReference } from "@kubernetes/client-node";
import { SERVING_API_VERSION, SERVING_KIND, type ServingEndpoint, type ServingEndpointStatus } from "../contract/crd/types.ts";
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

/** The controller ownerReference naming `se` (its uid known), as set on the endpoint's Deployments. */
export function endpointOwnerReference(se: ServingEndpoint & { metadata: { uid: string } }): V1OwnerReference {
  return { apiVersion: SERVING_API_VERSION, kind: SERVING_KIND, name: se.metadata.name, uid: se.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * Queues, for each of `deployments` without a controller ownerReference, a server-side apply of `se`'s (once per
 * Deployment resourceVersion: the watch brings the referenced Deployment back). `applied` records the
 * resourceVersion each write was made against. Deployments controlled by another object never reach here
 * (`resolveTargets` refuses them); an endpoint without a uid (not yet stored) is skipped.
 */
export function adoptDeployments(
  d: WriteDeps,
  se: ServingEndpoint,
  deployments: readonly V1Deployment[],
  applied: Map<string, string>,
  nowMs: number,
  log: () => Logger,
): void {
  const uid = se.metadata.uid;
  if (uid === undefined || !d.isLeader()) return;
  const owner = endpointOwnerReference({ ...se, metadata: { ...se.metadata, uid } });
  for (const dep of deployments) {
    if (dep.metadata?.ownerReferences?.some((o) => o.controller === true) === true) continue;
    const key = keyOfObject(dep);
    const rv = dep.metadata?.resourceVersion ?? "";
    if (applied.get(key) === rv || d.queue.has("owner", key)) continue;
    d.queue.enqueue(
      "owner",
      key,
      async () => {
        if (!d.isLeader()) return;
        await d.api.applyDeploymentOwner(dep.metadata?.namespace ?? "", dep.metadata?.name ?? "", owner);
        applied.set(key, rv);
      },
      {
        nowMs,
        onError: (err) => {
          d.metrics.kubeWriteErrors.inc({ op: "owner", status: String(httpStatusOf(err) ?? "network") });
          log().warn("ownerReference write failed; retrying after backoff", { deployment: key, status: httpStatusOf(err), error: err });
        },
      },
    );
  }
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
