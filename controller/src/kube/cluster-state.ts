/**
 * Pure views of cluster objects for one endpoint: which Deployments and EndpointSlices belong to it, its
 * `ReplicaState` for the engine, whether a rollout is in progress, and how a total replica count is split
 * across traffic-split versions. No I/O.
 */
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import { SERVING_GROUP, SERVING_KIND, type ServingEndpoint } from "../contract/crd/types.ts";
import type { ReplicaState } from "../engine/types.ts";
import { ENDPOINT_LABEL, VERSION_LABEL } from "../contract/labels.ts";

/** One scale target: a Deployment and the share of the endpoint's replicas it gets (percent). */
export interface ScaleTarget {
  readonly deployment: V1Deployment;
  readonly weight: number;
}

/** The Deployments that serve `se`, or a reason why they cannot be resolved. */
export type TargetResolution =
  | { readonly ok: true; readonly targets: readonly ScaleTarget[] }
  | { readonly ok: false; readonly reason: "DeploymentMissing" | "DeploymentAmbiguous" | "DeploymentNotOwned"; readonly message: string };

/**
 * Groups objects labelled `serving.autopilot.dev/endpoint` by `namespace/<endpoint>`; built once per cycle so
 * per-endpoint lookups are O(1) (10,000 endpoints would otherwise scan every Deployment for each endpoint).
 */
export function indexByEndpoint<T extends { metadata?: { namespace?: string; labels?: Record<string, string> } }>(objs: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const o of objs) {
    const ep = o.metadata?.labels?.[ENDPOINT_LABEL];
    if (ep === undefined) continue;
    const key = `${o.metadata?.namespace ?? ""}/${ep}`;
    const list = out.get(key);
    if (list === undefined) out.set(key, [o]);
    else list.push(o);
  }
  return out;
}

/** `namespace/name` key used everywhere (logs, maps, metrics labels). */
export const keyOfObject = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/**
 * Deployments labelled `serving.autopilot.dev/endpoint=<name>` in the endpoint's namespace. Without a traffic
 * split there must be exactly one; with one, one per version (label `serving.autopilot.dev/version`).
 */
export function resolveTargets(se: ServingEndpoint, deployments: readonly V1Deployment[]): TargetResolution {
  const ns = se.metadata.namespace ?? "";
  const mine = deployments.filter(
    (d) => (d.metadata?.namespace ?? "") === ns && d.metadata?.labels?.[ENDPOINT_LABEL] === se.metadata.name,
  );
  const split = se.spec.trafficSplit;
  if (split === undefined) {
    if (mine.length === 1 && mine[0] !== undefined) return ownedTargets(se, [{ deployment: mine[0], weight: 100 }]);
    return mine.length === 0
      ? { ok: false, reason: "DeploymentMissing", message: `no Deployment labelled ${ENDPOINT_LABEL}=${se.metadata.name} in namespace ${ns}` }
      : {
          ok: false,
          reason: "DeploymentAmbiguous",
          message: `${mine.length} Deployments labelled ${ENDPOINT_LABEL}=${se.metadata.name} and no spec.trafficSplit; expected 1`,
        };
  }
  const targets: ScaleTarget[] = [];
  for (const t of split) {
    const d = mine.filter((x) => x.metadata?.labels?.[VERSION_LABEL] === t.version);
    if (d.length !== 1 || d[0] === undefined) {
      return {
        ok: false,
        reason: d.length === 0 ? "DeploymentMissing" : "DeploymentAmbiguous",
        message: `expected 1 Deployment labelled ${VERSION_LABEL}=${t.version} for spec.trafficSplit version ${t.version}, found ${d.length}`,
      };
    }
    targets.push({ deployment: d[0], weight: t.weight });
  }
  return ownedTargets(se, targets);
}

/**
 * The targets, unless one is controlled by something else: a Deployment whose controller ownerReference names
 * another object (another ServingEndpoint, a rollout tool, an operator) is not this endpoint's to scale, whatever
 * its labels say. One without a controller reference, or controlled by this ServingEndpoint (same name, and the
 * same uid where both are known), is.
 */
function ownedTargets(se: ServingEndpoint, targets: readonly ScaleTarget[]): TargetResolution {
  for (const { deployment: d } of targets) {
    const c = d.metadata?.ownerReferences?.find((o) => o.controller === true);
    if (c === undefined) continue;
    const mine =
      c.kind === SERVING_KIND &&
      c.apiVersion.split("/")[0] === SERVING_GROUP &&
      c.name === se.metadata.name &&
      (se.metadata.uid === undefined || c.uid === se.metadata.uid);
    if (!mine) {
      return {
        ok: false,
        reason: "DeploymentNotOwned",
        message: `Deployment ${d.metadata?.name ?? ""} is controlled by ${c.kind} ${c.name}, not by this ServingEndpoint; it is not scaled`,
      };
    }
  }
  return { ok: true, targets };
}

/** True while a Deployment is rolling out (new template not fully rolled, or surge pods still present). */
export function isRollingOut(d: V1Deployment): boolean {
  const spec = d.spec?.replicas ?? 0;
  const st = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) return true;
  if ((st.updatedReplicas ?? 0) < spec) return true;
  return (st.replicas ?? 0) > spec;
}

/** Addresses (pods with an IP) in the EndpointSlices of an endpoint's Services. */
export function slicePodCount(se: ServingEndpoint, slices: readonly V1EndpointSlice[]): number {
  const ns = se.metadata.namespace ?? "";
  let n = 0;
  for (const s of slices) {
    if ((s.metadata?.namespace ?? "") !== ns || s.metadata?.labels?.[ENDPOINT_LABEL] !== se.metadata.name) continue;
    for (const ep of s.endpoints ?? []) if (ep.conditions?.terminating !== true) n += 1;
  }
  return n;
}

/**
 * The engine's `ReplicaState`. Pods asked for but without an address yet are "starting" until they have been
 * address-less for `unschedulableAfterMs` (tracked by the caller in `noAddressSinceMs`); after that they count
 * as unschedulable, so the engine does not keep treating them as supply.
 */
export function replicaStateOf(args: {
  readonly targets: readonly ScaleTarget[];
  readonly podsWithAddress: number;
  readonly targetConcurrency: number;
  readonly noAddressSinceMs: number | undefined;
  readonly nowMs: number;
  readonly unschedulableAfterMs: number;
}): ReplicaState {
  let desired = 0;
  let ready = 0;
  for (const { deployment: d } of args.targets) {
    desired += d.spec?.replicas ?? 0;
    ready += d.status?.readyReplicas ?? 0;
  }
  const notReady = Math.max(0, desired - ready);
  const withoutAddress = Math.max(0, Math.min(notReady, desired - args.podsWithAddress));
  const stuck =
    args.noAddressSinceMs !== undefined && args.nowMs - args.noAddressSinceMs >= args.unschedulableAfterMs ? withoutAddress : 0;
  return {
    desiredReplicas: desired,
    readyReplicas: ready,
    startingReplicas: notReady - stuck,
    unschedulableReplicas: stuck,
    targetConcurrency: args.targetConcurrency,
  };
}

/**
 * Splits `total` replicas across targets by weight (largest remainder). Every target with a positive weight
 * keeps at least one replica while `total` > 0, so a version never loses all pods while it gets traffic.
 */
export function splitReplicas(total: number, weights: readonly number[]): number[] {
  if (total <= 0) return weights.map(() => 0);
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    out[i] = (out[i] ?? 0) + 1;
    left -= 1;
  }
  return out.map((n, i) => ((weights[i] ?? 0) > 0 ? Math.max(1, n) : n));
}
