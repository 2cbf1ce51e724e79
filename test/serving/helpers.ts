/** Helpers of the serving tests: a real gateway with real model processes per endpoint, and curl. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { GatewayEndpoint, RuntimeKind } from "../../controller/src/gateway/types.ts";
import { startLocalGateway, type LocalGateway } from "../../controller/src/local/local-gateway.ts";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { ProcessPool } from "../../controller/src/local/process-pool.ts";
import type { ReplicaLauncher } from "../../controller/src/local/replica-launchers.ts";
import { until } from "../gateway/harness.ts";

export const KEY = "serving-test-key";
export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const IRIS_SKLEARN = `${REPO}examples/models/iris-sklearn`;
export const IRIS_ONNX = `${REPO}examples/models/iris-onnx`;

/** The held-out rows and labels examples/models/make_iris.py wrote. */
export const EXPECTED = JSON.parse(readFileSync(`${REPO}examples/models/expected.json`, "utf8")) as {
  columns: string[]; rows: number[][]; labels: number[]; probabilities: number[][];
};

export interface ServedEndpoint {
  readonly name: string;
  readonly runtime: RuntimeKind;
  readonly launcher: ReplicaLauncher;
}

export interface ServingGateway {
  readonly gateway: LocalGateway;
  readonly port: number;
  readonly pools: ReadonlyMap<string, ProcessPool>;
  url(endpoint: string, route?: string): string;
  stop(): Promise<void>;
}

/** Real HAProxy + agent, one ready replica per endpoint, API key KEY for all. */
export async function startServingGateway(endpoints: readonly ServedEndpoint[], log: (m: string) => void = () => undefined): Promise<ServingGateway> {
  const gwEndpoints: GatewayEndpoint[] = endpoints.map((e) => ({
    name: e.name, runtime: e.runtime, auth: { apiKeys: true, jwt: false }, targetConcurrency: 4, slots: 3,
    queueTimeoutMs: 5000, maxQueue: 100, maxBodyBytes: 16 * 1024 * 1024, modelTimeoutMs: 60_000,
  }));
  const gateway = await startLocalGateway({
    endpoints: gwEndpoints,
    apiKeys: [{ id: "test", sha256: hashApiKey(KEY), endpoints: endpoints.map((e) => e.name) }],
    log,
  });
  const pools = new Map(endpoints.map((e) => [e.name, new ProcessPool({
    endpoint: e.name, source: gateway.source, launcher: e.launcher, drained: (id) => gateway.agent.podDrained(e.name, id), log,
  })]));
  for (const p of pools.values()) p.scaleTo(1);
  const timeoutMs = Math.max(...endpoints.map((e) => e.launcher.startTimeoutMs));
  const ready = await until(() => [...pools.values()].every((p) => p.state(1).readyReplicas === 1), timeoutMs, 100);
  if (!ready) {
    await Promise.all([...pools.values()].map((p) => p.close()));
    await gateway.stop();
    throw new Error(`replicas not ready within ${timeoutMs} ms`);
  }
  await gateway.agent.cycle();
  const port = gateway.settings.publicPort;
  return {
    gateway, port, pools,
    url: (endpoint, route = "invocations") => `http://127.0.0.1:${port}/serving-endpoints/${endpoint}/${route}`,
    async stop() {
      await Promise.all([...pools.values()].map((p) => p.close()));
      await gateway.stop();
    },
  };
}

export interface CurlReply {
  readonly status: number;
  readonly body: string;
  /** The body as JSON (undefined when it is not JSON). */
  readonly json: any;
}

/** `curl -s` POST (or GET without data) with the API key; status and body. */
export function curl(url: string, o: { data?: string; key?: string; contentType?: string; method?: string } = {}): Promise<CurlReply> {
  const args = ["-s", "-S", "--max-time", "60", "-w", "\n%{http_code}", "-H", `Authorization: Bearer ${o.key ?? KEY}`];
  // The body goes through stdin: a command line cannot hold a large one.
  if (o.data !== undefined) args.push("-H", `Content-Type: ${o.contentType ?? "application/json"}`, "--data-binary", "@-");
  if (o.method !== undefined) args.push("-X", o.method);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = execFile("curl", args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const cut = stdout.lastIndexOf("\n");
      const body = stdout.slice(0, cut);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch { /* not JSON */ }
      resolve({ status: Number(stdout.slice(cut + 1)), body, json });
    });
    child.stdin?.end(o.data ?? "");
  });
}

/** The MLflow bodies of the held-out rows, in every format the protocol has. */
export function irisBodies(rows = EXPECTED.rows): Record<string, string> {
  const cols = EXPECTED.columns;
  const records = rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
  return {
    dataframe_split: JSON.stringify({ dataframe_split: { columns: cols, data: rows } }),
    dataframe_records: JSON.stringify({ dataframe_records: records }),
    instances: JSON.stringify({ instances: records }),
    inputs: JSON.stringify({ inputs: Object.fromEntries(cols.map((c, i) => [c, rows.map((r) => r[i])])) }),
    "dataframe_split with params": JSON.stringify({ dataframe_split: { columns: cols, data: rows }, params: { unused: 1 } }),
  };
}
