/**
 * Entry point of the gateway agent in Kubernetes: `node controller/src/gateway/agent-main.ts [flags]` (or
 * `dist/controller/src/gateway/agent-main.js` in the image). It runs HAProxy as its child process (the
 * image carries Debian's HAProxy) and keeps it in line with the cluster: ServingEndpoints + status target
 * concurrency + EndpointSlices (`KubeDesiredStateSource`). Exit codes: 0 after SIGTERM/SIGINT or `--help`, 2 on
 * a config error, 1 on a failure. Its HTTP server (`--health-port`) serves `/healthz`, `/readyz`, its own
 * `/metrics`, and `/stats` (HAProxy's `show stat -1 2 -1` CSV, scraped by the controller every second).
 */
import { join } from "node:path";
import { GatewayAgent } from "./agent.ts";
import { HaproxyProcess } from "./haproxy-process.ts";
import { hostname } from "node:os";
import { PayloadLogger } from "./payload-logger.ts";
import { payloadSinkOf } from "./payload-sinks.ts";
import { startRequestPipeline, type RecordConsumer } from "./request-pipeline.ts";
import { GatewaySpanExporter } from "./span-exporter.ts";
import { SocketRuntimeApi } from "./runtime-api.ts";
import { backendStatsAnswer, STATS_PATH } from "./stats-route.ts";
import type { ApiKeyEntry, GatewaySettings } from "./types.ts";
import { loadAgentConfig, payloadLoggingOn, readApiKeys, watchApiKeys, type AgentConfig } from "./agent-config.ts";
import { systemClock } from "../kube/clock.ts";
import { CommanderError, ConfigError } from "../kube/config.ts";
import { KubeDesiredStateSource } from "../kube/gateway-source.ts";
import { kubeEndpointReports } from "../kube/gateway-reports.ts";
import { GATEWAY_METRICS_SERVICE, GATEWAY_NAMESPACE } from "../contract/names.ts";
import { Gauge } from "prom-client";
import { startHealthServer } from "../kube/health-server.ts";
import { loadKubeConfig, makeKubeApi } from "../kube/kube-api.ts";
import { jsonLogger } from "../kube/logger.ts";
import { makeControllerMetrics } from "../kube/own-metrics.ts";

async function main(): Promise<void> {
  let cfg: AgentConfig;
  let apiKeys: ApiKeyEntry[] = [];
  try {
    cfg = loadAgentConfig(process.argv.slice(2), process.env);
    if (cfg.apiKeysFile !== undefined) apiKeys = readApiKeys(cfg.apiKeysFile);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    if (err instanceof ConfigError || err instanceof SyntaxError) {
      process.stderr.write(`${JSON.stringify({ level: "error", msg: "invalid configuration", error: err.message })}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = jsonLogger({ level: cfg.logLevel, clock: systemClock, fields: { component: "gateway-agent" } });
  const api = makeKubeApi(loadKubeConfig());
  const source = new KubeDesiredStateSource({
    api,
    defaults: {
      auth: { apiKeys: true, jwt: false },
      minSlots: cfg.minSlots,
      queueTimeoutMs: cfg.queueTimeoutMs,
      maxQueue: cfg.maxQueue,
      maxBodyBytes: cfg.maxBodyBytes,
      modelTimeoutMs: cfg.modelTimeoutMs,
      portName: cfg.portName,
      payloadLogging: payloadLoggingOn(cfg),
    },
    apiKeys,
    log,
    delayFn: (ms) => systemClock.sleep(ms),
    // The per-pod maxconn divides each target by the gateway replicas alive now (starting and terminating too).
    ...(cfg.gatewayReplicasFrom === "live" ? { gatewayPods: { namespace: GATEWAY_NAMESPACE, service: GATEWAY_METRICS_SERVICE, self: process.env["POD_NAME"] } } : {}),
  });
  const metrics = makeControllerMetrics({ defaultMetrics: true });
  const writer = process.env["POD_NAME"] ?? hostname();
  const sink = payloadSinkOf(cfg);
  const payloads = sink === undefined ? undefined : new PayloadLogger({
    sink,
    prefix: cfg.payloadLogPrefix,
    writer,
    flushIntervalMs: cfg.payloadLogFlushMs,
    registry: metrics.registry,
    log: (m) => log.warn(m),
  });
  const spans = cfg.otlpEndpoint === undefined ? undefined : new GatewaySpanExporter({ url: cfg.otlpEndpoint, serviceInstance: writer });
  const consumers: RecordConsumer[] = [...(payloads !== undefined ? [payloads] : []), ...(spans !== undefined ? [spans] : [])];
  // HAProxy's per-request log comes to this process over UDP on loopback (request-log-reader.ts).
  const requests = await startRequestPipeline({
    source,
    port: cfg.requestLogPort,
    registry: metrics.registry,
    consumers,
    onOtherLine: (line) => process.stdout.write(`${line}\n`),
  });
  const settings: GatewaySettings = {
    bindAddress: cfg.bindAddress,
    publicPort: cfg.publicPort,
    metricsPort: cfg.metricsPort,
    statsSocketPath: join(cfg.workDir, "admin.sock"),
    apiKeyMapPath: join(cfg.workDir, "apikeys.map"),
    gatewayReplicas: cfg.gatewayReplicas,
    jwtIssuers: [],
    logTarget: requests.logTarget,
    traceSampleRate: cfg.traceSampleRate,
    bodyBufferBytes: cfg.bodyBufferBytes,
    keyMaxInFlight: cfg.keyMaxInFlight,
    maxConnections: cfg.maxConnections,
  };
  const runtime = new SocketRuntimeApi(settings.statsSocketPath);
  const haproxy = new HaproxyProcess({
    binary: cfg.haproxyBinary,
    configPath: join(cfg.workDir, "haproxy.cfg"),
    apiKeyMapPath: settings.apiKeyMapPath,
    api: runtime,
    onLine: (line) => process.stdout.write(`${line}\n`),
    onExit: (code, signal) => {
      log.error("haproxy exited", { code, signal });
      process.exit(1);
    },
  });
  const reports = kubeEndpointReports({
    api,
    endpoints: () => source.endpoints.list(),
    rejectedGauge: new Gauge({ name: "gateway_endpoint_rejected", help: "1 while the gateway rejects an endpoint's settings (status condition GatewayAccepted=False)", labelNames: ["endpoint"], registers: [metrics.registry] }),
    log,
    nowMs: () => systemClock.nowMs(),
    instance: writer,
  });
  const agent = new GatewayAgent({ settings, source, io: haproxy.agentIo((m) => log.info(m)), reports });
  requests.attach(agent);
  let started = false;
  const health = await startHealthServer(
    cfg.healthPort,
    { healthy: () => undefined, ready: () => (started ? undefined : "waiting for caches and HAProxy") },
    metrics.registry,
    // The controller's per-second scrape: HAProxy's backend CSV from the runtime socket (docs/gateway.md).
    { [STATS_PATH]: () => backendStatsAnswer(runtime, requests.section) },
  );
  const stopKeyWatch = cfg.apiKeysFile === undefined ? () => undefined : watchApiKeys(cfg.apiKeysFile, cfg.apiKeysReloadMs, (keys) => {
    if (keys.length !== source.current().apiKeys.length || JSON.stringify(keys) !== JSON.stringify(source.current().apiKeys)) {
      log.info("API keys changed", { keys: keys.length });
      source.setApiKeys(keys);
    }
  }, (m) => log.warn(m));
  source.start();
  while (!source.synced) await systemClock.sleep(100);
  await agent.writeInitialConfig();
  await haproxy.start();
  await agent.cycle();
  agent.start();
  started = true;
  log.info("gateway agent running", { endpoints: source.current().endpoints.length, healthPort: health.port });
  const shutdown = async (signal: string): Promise<void> => {
    log.info("shutting down", { signal });
    started = false;
    stopKeyWatch();
    await agent.stop();
    await source.stop();
    await haproxy.stop();
    await requests.close();
    // Everything HAProxy logged is in: write the last payload-log batches and spans.
    await payloads?.close();
    await spans?.close();
    health.server.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: "error", msg: "gateway agent failed", error: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
});
