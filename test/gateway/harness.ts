/**
 * Test harness: a real HAProxy (Debian's 2.6.12) on 127.0.0.1 with free ports and a temp dir, driven by the real
 * gateway agent, plus in-process example model servers. Everything started here is stopped by `stop()`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { request, Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayAgent, type EndpointReports } from "../../controller/src/gateway/agent.ts";
import { HaproxyProcess } from "../../controller/src/gateway/haproxy-process.ts";
import { SocketRuntimeApi } from "../../controller/src/gateway/runtime-api.ts";
import type { ApiKeyEntry, GatewayEndpoint, GatewaySettings, JwtIssuer } from "../../controller/src/gateway/types.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { hashApiKey, LocalDesiredStateSource } from "../../controller/src/local/local-source.ts";
import { startModelServer, type ModelServerOptions, type RunningModelServer } from "../../controller/src/model-server/server.ts";

export { freePort };

export const API_KEY = "test-key-iris";
export const OTHER_KEY = "test-key-other";

/** An endpoint with test-friendly defaults. */
export function endpoint(name: string, over: Partial<GatewayEndpoint> = {}): GatewayEndpoint {
  return {
    name,
    runtime: "mlflow",
    auth: { apiKeys: true, jwt: false },
    targetConcurrency: 2,
    slots: 4,
    queueTimeoutMs: 1000,
    maxQueue: 64,
    maxBodyBytes: 65536,
    modelTimeoutMs: 5000,
    ...over,
  };
}

export interface Gateway {
  readonly dir: string;
  readonly publicPort: number;
  readonly metricsPort: number;
  readonly source: LocalDesiredStateSource;
  readonly agent: GatewayAgent;
  readonly haproxy: HaproxyProcess;
  readonly api: SocketRuntimeApi;
  readonly settings: GatewaySettings;
  readonly lines: string[];
  readonly models: RunningModelServer[];
  /** Starts a model server and registers it as a ready pod of `ep`. */
  addPod(ep: string, opts?: ModelServerOptions): Promise<RunningModelServer>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  endpoints: GatewayEndpoint[];
  apiKeys?: ApiKeyEntry[];
  jwtIssuers?: JwtIssuer[];
  settings?: Partial<GatewaySettings>;
  /** Create the temp dir first (to place key files). */
  dir?: string;
  /** Where the agent reports endpoints it rejects. */
  reports?: EndpointReports;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), "apgw-")));
  const [publicPort, metricsPort] = [await freePort(), await freePort()];
  const settings: GatewaySettings = {
    bindAddress: "127.0.0.1",
    publicPort,
    metricsPort,
    statsSocketPath: join(dir, "admin.sock"),
    apiKeyMapPath: join(dir, "apikeys.map"),
    gatewayReplicas: 1,
    jwtIssuers: o.jwtIssuers ?? [],
    clientRequestTimeoutMs: 1000,
    hardStopAfterMs: 10_000,
    ...o.settings,
  };
  const apiKeys = o.apiKeys ?? [
    { id: "k-iris", sha256: hashApiKey(API_KEY), endpoints: o.endpoints.map((e) => e.name) },
    { id: "k-other", sha256: hashApiKey(OTHER_KEY), endpoints: ["other"] },
  ];
  const source = new LocalDesiredStateSource({ endpoints: o.endpoints, apiKeys });
  const api = new SocketRuntimeApi(settings.statsSocketPath);
  const lines: string[] = [];
  const haproxy = new HaproxyProcess({
    configPath: join(dir, "haproxy.cfg"),
    apiKeyMapPath: settings.apiKeyMapPath,
    api,
    onLine: (l) => lines.push(l),
  });
  const agent = new GatewayAgent({ settings, source, io: haproxy.agentIo((m) => lines.push(`[agent] ${m}`)), intervalMs: 200, ...(o.reports !== undefined ? { reports: o.reports } : {}) });
  await agent.writeInitialConfig();
  await haproxy.start();
  await agent.cycle();
  agent.start();
  const models: RunningModelServer[] = [];
  let n = 0;
  return {
    dir, publicPort, metricsPort, source, agent, haproxy, api, settings, lines, models,
    async addPod(ep, opts) {
      const m = await startModelServer({ cpuMs: 0, testHooks: true, ...opts });
      models.push(m);
      source.upsertPod(ep, { id: `${ep}-${++n}`, addr: "127.0.0.1", port: m.port, ready: true, terminating: false });
      return m;
    },
    async stop() {
      await agent.stop();
      await haproxy.stop();
      await Promise.all(models.map((m) => m.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request to 127.0.0.1:port; never rejects on HTTP status, rejects on socket errors. */
export function call(
  port: number,
  path: string,
  o: { method?: string; body?: string; headers?: Record<string, string>; key?: string | null; keepAlive?: boolean } = {},
): Promise<Reply> {
  const t0 = performance.now();
  const headers: Record<string, string> = { "content-type": "application/json", ...o.headers };
  const key = o.key === undefined ? API_KEY : o.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: o.method ?? "POST", headers, agent: o.keepAlive === false ? false : keepAlive },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(o.body ?? (o.method === "GET" ? undefined : JSON.stringify({ inputs: [[1, 2]] })));
  });
}

/** Body with test-hook params for the example model server. */
export function hookBody(params: Record<string, unknown>): string {
  return JSON.stringify({ inputs: [[1, 2]], params });
}

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

/**
 * Closed-loop load: `workers` loops each sending requests back to back until `stop()`.
 * Counts statuses and socket errors.
 */
export function load(port: number, path: string, workers: number, body: () => string) {
  const statuses = new Map<number, number>();
  const errors: string[] = [];
  /** First body seen per status, for failure messages. */
  const bodies = new Map<number, string>();
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const r = await call(port, path, { body: body() });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (!bodies.has(r.status)) bodies.set(r.status, r.body);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  });
  return {
    statuses,
    errors,
    bodies,
    total: () => [...statuses.values()].reduce((a, b) => a + b, 0) + errors.length,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
