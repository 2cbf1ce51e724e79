/** Pure: the gateway replicas to scrape, from the gateway Service's EndpointSlices. */
import type { V1EndpointSlice } from "@kubernetes/client-node";
import type { GatewayTarget } from "./gateway-scraper.ts";

/** Ready, non-terminating addresses of `namespace`'s slices → `http://<ip>:<port><path>`, id = pod name (or IP). */
export function gatewayTargetsFromSlices(slices: readonly V1EndpointSlice[], namespace: string, port: number, path: string): GatewayTarget[] {
  const out: GatewayTarget[] = [];
  const seen = new Set<string>();
  for (const s of slices) {
    if ((s.metadata?.namespace ?? "") !== namespace) continue;
    for (const ep of s.endpoints ?? []) {
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue;
      const ip = ep.addresses[0];
      if (ip === undefined) continue;
      const id = ep.targetRef?.name ?? ip;
      if (seen.has(id)) continue;
      seen.add(id);
      const host = ip.includes(":") ? `[${ip}]` : ip;
      out.push({ id, url: `http://${host}:${port}${path}` });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Gateway replicas that share the model pods, from the gateway Service's EndpointSlices in `namespace`: every
 * address, ready or not, terminating or not — a starting replica is counted before it takes traffic (the others
 * lower their per-pod limits first) and a terminating one until it is gone (its requests still run). `self` (this
 * replica's pod name) is counted even before its own slice entry appears. At least 1.
 */
export function gatewayReplicaCount(slices: readonly V1EndpointSlice[], namespace: string, self: string | undefined): number {
  const seen = new Set<string>();
  for (const s of slices) {
    if ((s.metadata?.namespace ?? "") !== namespace) continue;
    for (const ep of s.endpoints ?? []) {
      const id = ep.targetRef?.name ?? ep.addresses[0];
      if (id !== undefined) seen.add(id);
    }
  }
  if (self !== undefined) seen.add(self);
  return Math.max(1, seen.size);
}
