/**
 * `autopilot endpoints`: ServingEndpoint objects → one row each. Pure.
 */
import type { ServingEndpoint } from "../contract/crd/types.ts";

export interface EndpointRow {
  readonly namespace: string;
  readonly name: string;
  readonly runtime: string;
  readonly ready: string;
  readonly desired: string;
  readonly targetConcurrency: string;
  readonly qps: string;
  readonly traffic: string;
}

const dash = (v: number | undefined, digits = 0): string => (v === undefined ? "-" : v.toFixed(digits));

export function endpointRows(items: readonly ServingEndpoint[]): EndpointRow[] {
  return [...items]
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((e) => ({
      namespace: e.metadata.namespace ?? "",
      name: e.metadata.name,
      runtime: e.spec.runtime?.kind ?? "auto",
      ready: dash(e.status?.readyReplicas ?? (e.status !== undefined ? 0 : undefined)),
      desired: dash(e.status?.desiredReplicas),
      targetConcurrency: dash(e.status?.targetConcurrency),
      qps: dash(e.status?.observedQps, 1),
      traffic: (e.spec.trafficSplit ?? []).map((t) => `${t.version}:${t.weight}%`).join(",") || "-",
    }));
}

const HEAD: Record<keyof EndpointRow, string> = {
  namespace: "NAMESPACE", name: "NAME", runtime: "RUNTIME", ready: "READY", desired: "DESIRED", targetConcurrency: "TARGET-CONCURRENCY", qps: "QPS", traffic: "TRAFFIC",
};

/** Left-aligned columns, two spaces apart. */
export function formatTable(rows: readonly EndpointRow[]): string {
  const keys = Object.keys(HEAD) as (keyof EndpointRow)[];
  const width = (k: keyof EndpointRow) => Math.max(HEAD[k].length, ...rows.map((r) => r[k].length));
  const line = (cells: Record<keyof EndpointRow, string>) => keys.map((k) => cells[k].padEnd(width(k))).join("  ").trimEnd();
  return [line(HEAD), ...rows.map(line)].join("\n") + "\n";
}
