/**
 * A local gateway: real HAProxy (master-worker child process) plus the gateway agent, following a
 * `LocalDesiredStateSource`. Used by `npm run dev` and `npm run bench:gateway`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayAgent } from "../gateway/agent.ts";
import { HaproxyProcess } from "../gateway/haproxy-process.ts";
import { SocketRuntimeApi } from "../gateway/runtime-api.ts";
import type { RequestRecord } from "../gateway/request-log.ts";
import { startRequestPipeline, type RecordConsumer, type RequestPipeline } from "../gateway/request-pipeline.ts";
import type { ApiKeyEntry, GatewayEndpoint, GatewaySettings } from "../gateway/types.ts";
import { LocalDesiredStateSource } from "./local-source.ts";

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface LocalGatewayOptions {
  readonly endpoints: readonly GatewayEndpoint[];
  readonly apiKeys: readonly ApiKeyEntry[];
  /** 0 or absent = a free port. */
  readonly publicPort?: number;
  readonly metricsPort?: number;
  /** Receives each HAProxy output line (notices and alerts; requests come as records). */
  readonly onLine?: (line: string) => void;
  /** Receives each request record of the gateway's log stream. */
  readonly onRecord?: (record: RequestRecord) => void;
  /** Consumers of each record (payload logs, traces). */
  readonly consumers?: readonly RecordConsumer[];
  readonly log?: (m: string) => void;
  /** Agent cycle period. @default 500 */
  readonly agentIntervalMs?: number;
  readonly settings?: Partial<GatewaySettings>;
}

export interface LocalGateway {
  readonly dir: string;
  readonly settings: GatewaySettings;
  readonly source: LocalDesiredStateSource;
  readonly agent: GatewayAgent;
  readonly haproxy: HaproxyProcess;
  readonly api: SocketRuntimeApi;
  /** The per-request stream: reader, counters (`section()` for `/stats`). */
  readonly requests: RequestPipeline;
  stop(): Promise<void>;
}

export async function startLocalGateway(o: LocalGatewayOptions): Promise<LocalGateway> {
  const dir = await mkdtemp(join(tmpdir(), "autopilot-gw-"));
  const source = new LocalDesiredStateSource({ endpoints: o.endpoints, apiKeys: o.apiKeys });
  const requests = await startRequestPipeline({
    source,
    ...(o.onRecord !== undefined ? { onRecord: o.onRecord } : {}),
    ...(o.consumers !== undefined ? { consumers: o.consumers } : {}),
    ...(o.onLine !== undefined ? { onOtherLine: o.onLine } : {}),
  });
  const settings: GatewaySettings = {
    bindAddress: "127.0.0.1",
    publicPort: o.publicPort || (await freePort()),
    metricsPort: o.metricsPort || (await freePort()),
    statsSocketPath: join(dir, "admin.sock"),
    apiKeyMapPath: join(dir, "apikeys.map"),
    gatewayReplicas: 1,
    jwtIssuers: [],
    hardStopAfterMs: 30_000,
    // A laptop shares its cores with the model processes and the load: favour latency.
    lowLatency: true,
    logTarget: requests.logTarget,
    ...o.settings,
  };
  const api = new SocketRuntimeApi(settings.statsSocketPath);
  const log = o.log ?? (() => undefined);
  let stopping = false;
  // Like a container restart policy: a HAProxy that dies is started again from the config on disk (which carries
  // the last runtime values); the agent's next cycle re-applies whatever differs.
  const restart = async (attempt: number): Promise<void> => {
    if (stopping) return;
    try {
      await haproxy.start();
      log("haproxy restarted; the agent re-applies the desired state");
    } catch (e) {
      if (attempt >= 20) return log(`haproxy restart failed: ${(e as Error).message}`);
      setTimeout(() => void restart(attempt + 1), 250);
    }
  };
  const haproxy = new HaproxyProcess({
    configPath: join(dir, "haproxy.cfg"),
    apiKeyMapPath: settings.apiKeyMapPath,
    api,
    onLine: o.onLine,
    onExit: (code, signal) => {
      log(`haproxy master exited (${signal ?? code})`);
      if (!stopping) setTimeout(() => void restart(0), 250);
    },
  });
  const agent = new GatewayAgent({ settings, source, io: haproxy.agentIo(log), intervalMs: o.agentIntervalMs ?? 500 });
  requests.attach(agent);
  await agent.writeInitialConfig();
  try {
    await haproxy.start();
  } catch (e) {
    await requests.close();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  await agent.cycle();
  agent.start();
  return {
    dir,
    settings,
    source,
    agent,
    haproxy,
    api,
    requests,
    async stop() {
      stopping = true;
      await agent.stop();
      await haproxy.stop();
      await requests.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
