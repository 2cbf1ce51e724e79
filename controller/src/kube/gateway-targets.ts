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
