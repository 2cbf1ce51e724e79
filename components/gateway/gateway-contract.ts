/**
 * WIRING to the gateway package (controller/src/gateway): renders `haproxy.cfg` for the declared endpoints with
 * its `renderConfig()`, builds the API-key map with its `apiKeyMapEntries()`, and adds TLS to the public bind
 * line (the renderer binds plain HTTP; in the cluster HAProxy terminates TLS with the certificate Secret).
 *
 * Not wired yet: the agent's in-cluster command line — main has the agent library (agent.ts) but no
 * Kubernetes entry point and no controller/Dockerfile, so `agentArgs` is undefined and reported as a gap.
 */
import { renderConfig } from "../../controller/src/gateway/render-config.ts";
import { apiKeyMapEntries } from "../../controller/src/gateway/reconcile.ts";
import type { GatewayEndpoint, GatewaySettings } from "../../controller/src/gateway/types.ts";
import type { PlannedEndpoint } from "../validate-endpoints.ts";

/** Where the gateway pod keeps its files and listens. */
export interface GatewayLayout {
  readonly publicPort: number;
  readonly metricsPort: number;
  readonly runDir: string;
  readonly authDir: string;
  readonly tlsCertPath: string;
  readonly gatewayReplicas: number;
}

/** The gateway's view of one planned endpoint. Initial target = the concurrency range's midpoint. */
export function gatewayEndpoint(e: PlannedEndpoint): GatewayEndpoint {
  const { decl, plan } = e;
  return {
    name: decl.name,
    runtime: plan.kind,
    auth: { apiKeys: true, jwt: false },
    targetConcurrency: Math.max(1, Math.floor((decl.concurrency.min + decl.concurrency.max) / 2)),
    slots: decl.replicas.max,
    // Queue bound: a 429 rather than an unbounded wait; LLM requests are long, so they may wait longer.
    queueTimeoutMs: plan.kind === "vllm" ? 60_000 : decl.sloP99Ms !== undefined ? Math.max(1_000, 10 * decl.sloP99Ms) : 30_000,
    maxQueue: decl.concurrency.max * decl.replicas.max,
    maxBodyBytes: 10 * 2 ** 20,
    modelTimeoutMs: plan.kind === "vllm" ? 600_000 : 60_000,
  };
}

/** Gateway-wide settings for the pod layout. */
export function gatewaySettings(l: GatewayLayout): GatewaySettings {
  return {
    bindAddress: "0.0.0.0", publicPort: l.publicPort, metricsPort: l.metricsPort,
    statsSocketPath: `${l.runDir}/admin.sock`, apiKeyMapPath: `${l.authDir}/api-keys.map`,
    gatewayReplicas: l.gatewayReplicas, jwtIssuers: [],
  };
}

/** Adds `ssl crt` to the public bind line; throws unless exactly one such line exists. */
export function withTls(cfg: string, l: GatewayLayout): string {
  const line = `    bind 0.0.0.0:${l.publicPort}`;
  const lines = cfg.split("\n");
  const hits = lines.filter((x) => x === line).length;
  if (hits !== 1) throw new Error(`gateway config: expected one "${line.trim()}" line to add TLS to, found ${hits}`);
  return lines.map((x) => (x === line ? `${line} ssl crt ${l.tlsCertPath} alpn h2,http/1.1` : x)).join("\n");
}

/** The rendered haproxy.cfg (TLS on the public frontend). */
export function renderGatewayConfig(endpoints: readonly PlannedEndpoint[], l: GatewayLayout): string {
  return withTls(renderConfig({ settings: gatewaySettings(l), endpoints: endpoints.map(gatewayEndpoint) }), l);
}

/** API-key map file (`<key> <value>` lines) granting each key every endpoint. */
export function apiKeyMapFile(hashes: readonly string[], endpoints: readonly string[]): string {
  const entries = apiKeyMapEntries(hashes.map((sha256, i) => ({ id: `key-${i + 1}`, sha256, endpoints })));
  return [...entries].map(([k, v]) => `${k} ${v}`).join("\n") + (entries.size > 0 ? "\n" : "");
}

/** The agent's container args in the cluster; undefined until the gateway package ships an in-cluster entry point. */
export const AGENT_ARGS: readonly string[] | undefined = undefined;
