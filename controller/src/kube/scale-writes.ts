/**
 * The controller's scale writes: replica counts through the Deployment scale subresource (split across
 * traffic-split versions) and one Event per applied change. Each write checks leadership first: it can be lost
 * while a cycle runs.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import { keyOfObject, splitReplicas } from "./cluster-state.ts";
import type { ControllerConfig } from "./config.ts";
import { scaleEvent } from "./events.ts";
import { httpStatusOf, type KubeApi } from "./kube-api.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";

export interface WriteDeps {
  readonly api: KubeApi;
  readonly metrics: ControllerMetrics;
  readonly config: ControllerConfig;
  readonly isLeader: () => boolean;
}

/** Sets `total` replicas split by `weights` over `deployments`; false when a write failed or leadership was lost. */
export async function applyScale(d: WriteDeps, deployments: readonly V1Deployment[], weights: readonly number[], total: number, log: Logger): Promise<boolean> {
  const parts = splitReplicas(total, weights);
  let ok = true;
  for (const [i, dep] of deployments.entries()) {
    const want = parts[i] ?? 0;
    if ((dep.spec?.replicas ?? 0) === want) continue;
    if (!d.isLeader()) return false;
    try {
      await d.api.patchDeploymentScale(dep.metadata?.namespace ?? "", dep.metadata?.name ?? "", want, dep.metadata?.resourceVersion);
    } catch (err) {
      ok = false;
      const status = httpStatusOf(err);
      d.metrics.kubeWriteErrors.inc({ op: "scale", status: String(status ?? "network") });
      log.warn(status === 409 ? "scale conflict: Deployment changed since read; retrying with fresh state" : "scale failed", {
        deployment: keyOfObject(dep),
        status,
        error: err,
      });
    }
  }
  return ok;
}

/** One Event for an applied replica change, with the engine's reason and message. */
export async function emitScaleEvent(
  d: WriteDeps,
  e: { readonly se: ServingEndpoint; readonly from: number; readonly to: number; readonly reason: string; readonly message: string; readonly nowMs: number },
  log: Logger,
): Promise<void> {
  if (!d.isLeader()) return;
  try {
    await d.api.createEvent(e.se.metadata.namespace ?? "", scaleEvent({ ...e, instance: d.config.identity ?? "apa" }));
  } catch (err) {
    d.metrics.kubeWriteErrors.inc({ op: "event", status: String(httpStatusOf(err) ?? "network") });
    log.warn("event write failed", { error: err });
  }
}
