/**
 * Applies the warm-pool sizer (`warm-pool.ts`): records replica additions from the Deployment watch (every
 * replica sees the same watch, so a standby has the same history as the leader) and, on the leader, scales each
 * pool's placeholder Deployment to the sizer's count.
 */
import type { V1Deployment } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import { keyOfObject } from "./cluster-state.ts";
import { httpStatusOf, type KubeApi } from "./kube-api.ts";
import { ENDPOINT_LABEL, WARM_POOL_LABEL } from "../contract/labels.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";
import { pruneAdditions, sizeWarmPools, type ReplicaAddition, type WarmPoolConfig } from "./warm-pool.ts";

export class WarmPoolRunner {
  readonly #cfg: WarmPoolConfig;
  readonly #observingSinceMs: number;
  readonly #lastReplicas = new Map<string, number>();
  #additions: ReplicaAddition[] = [];

  constructor(cfg: WarmPoolConfig, observingSinceMs: number) {
    this.#cfg = cfg;
    this.#observingSinceMs = observingSinceMs;
  }

  /** Additions recorded and not yet aged out (for tests and the status page). */
  get additions(): readonly ReplicaAddition[] {
    return this.#additions;
  }

  /** Feed every endpoint Deployment change; an increase of spec.replicas is an addition on the endpoint's pool. */
  onDeploymentChange(type: string, d: V1Deployment, nowMs: number, endpointOf: (ns: string, name: string) => ServingEndpoint | undefined): void {
    const key = keyOfObject(d);
    if (type === "delete") {
      this.#lastReplicas.delete(key);
      return;
    }
    const replicas = d.spec?.replicas ?? 0;
    const before = this.#lastReplicas.get(key);
    this.#lastReplicas.set(key, replicas);
    if (before === undefined || replicas <= before) return;
    const name = d.metadata?.labels?.[ENDPOINT_LABEL];
    const se = name === undefined ? undefined : endpointOf(d.metadata?.namespace ?? "", name);
    if (se !== undefined) this.#additions.push({ atMs: nowMs, pool: se.spec.computePool, added: replicas - before });
  }

  /**
   * Scales placeholder Deployments (label `serving.autopilot.dev/warm-pool=<pool>`) to the sizer's count.
   * Shrinking waits until this process has observed a full look-back: a restarted or new leader has no history
   * and must not drop capacity the previous one sized.
   */
  async apply(
    nowMs: number,
    placeholders: readonly V1Deployment[],
    api: KubeApi,
    log: Logger,
    metrics: ControllerMetrics,
    isLeader: () => boolean,
  ): Promise<void> {
    if (placeholders.length === 0) return;
    this.#additions = pruneAdditions(this.#additions, nowMs, this.#cfg);
    const pools = placeholders.map((d) => d.metadata?.labels?.[WARM_POOL_LABEL] ?? "");
    const sizes = sizeWarmPools(this.#additions, pools, nowMs, this.#cfg);
    const mayShrink = nowMs - this.#observingSinceMs >= this.#cfg.lookbackMs;
    for (const d of placeholders) {
      const pool = d.metadata?.labels?.[WARM_POOL_LABEL] ?? "";
      const want = sizes.get(pool) ?? 0;
      const have = d.spec?.replicas ?? 0;
      if (want === have || (want < have && !mayShrink)) continue;
      if (!isLeader()) return;
      try {
        await api.patchDeploymentScale(d.metadata?.namespace ?? "", d.metadata?.name ?? "", want, d.metadata?.resourceVersion);
        log.info("warm pool resized", { pool, from: have, to: want });
      } catch (err) {
        metrics.kubeWriteErrors.inc({ op: "warm-pool", status: String(httpStatusOf(err) ?? "network") });
        log.warn("warm pool resize failed", { pool, error: err });
      }
    }
  }
}
