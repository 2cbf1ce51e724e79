/**
 * Entry point of the APA controller: `node controller/src/kube/main.ts [flags]` (or the built
 * `dist/controller/src/kube/main.js` in the image). Flags and environment variables: `--help` and
 * docs/controller.md. Exit codes: 0 after a graceful shutdown (SIGTERM/SIGINT) or `--help`, 2 on a config
 * error, 1 on an unexpected failure.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { ENDPOINT_LABEL } from "../contract/labels.ts";
import { DownloadFailureReporter } from "./download-failures.ts";
import { hostname } from "node:os";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { systemClock } from "./clock.ts";
import { CommanderError, ConfigError, loadConfig, type ControllerConfig } from "./config.ts";
import { ApaController } from "./controller.ts";
import { GatewayScraper } from "./gateway-scraper.ts";
import { gatewayTargetsFromSlices } from "./gateway-targets.ts";
import { startHealthServer } from "./health-server.ts";
import { loadKubeConfig, makeKubeApi, PATHS, type KubeApi } from "./kube-api.ts";
import { SERVICE_NAME_LABEL } from "../contract/labels.ts";
import { LeaderElector } from "./leader-election.ts";
import { jsonLogger, type Logger } from "./logger.ts";
import { makeControllerMetrics } from "./own-metrics.ts";
import { queryRuntimeSignals, type RuntimeSignals } from "./pod-metrics.ts";
import { PodMetricsPoller } from "./pod-metrics-poller.ts";
import { Reflector } from "./reflector.ts";
import { defaultWarmPoolConfig } from "./warm-pool.ts";

/** Parses config or exits: 0 for --help, 2 with a message naming key, value and what is allowed. */
export function configOrExit(argv: readonly string[], env: NodeJS.ProcessEnv): ControllerConfig {
  try {
    return loadConfig(argv, env, { hostname: hostname() });
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    if (err instanceof ConfigError) {
      process.stderr.write(`${JSON.stringify({ level: "error", msg: "invalid configuration", error: err.message })}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function gatewayTargets(cfg: ControllerConfig, api: KubeApi, log: Logger) {
  if (cfg.gatewayUrls !== undefined && cfg.gatewayUrls.length > 0) {
    const static_ = cfg.gatewayUrls.map((url) => ({ id: url, url }));
    return { targets: () => static_, reflector: undefined };
  }
  const [ns = "", svc = ""] = (cfg.gatewayService ?? "/").split("/");
  const selector = `${SERVICE_NAME_LABEL}=${svc}`;
  const reflector = new Reflector<V1EndpointSlice>({
    name: "gateway-endpointslices",
    path: PATHS.endpointSlices,
    labelSelector: selector,
    list: () => api.listEndpointSlices(selector),
    watch: api.watch,
    delayFn: (ms) => systemClock.sleep(ms),
    log,
  });
  return { targets: () => gatewayTargetsFromSlices(reflector.list(), ns, cfg.gatewayMetricsPort, cfg.gatewayMetricsPath), reflector };
}

async function main(): Promise<void> {
  const cfg = configOrExit(process.argv.slice(2), process.env);
  const clock = systemClock;
  const log = jsonLogger({ level: cfg.logLevel as "info", clock, fields: { component: "apa-controller", identity: cfg.identity } });
  const api = makeKubeApi(loadKubeConfig());
  const metrics = makeControllerMetrics({ defaultMetrics: true });
  const gw = gatewayTargets(cfg, api, log);
  const scraper = new GatewayScraper({ targets: gw.targets, timeoutMs: cfg.scrapeTimeoutMs, graceMs: cfg.gatewayGraceMs, log, metrics });

  let controller: ApaController | undefined;
  let runtime: RuntimeSignals = new Map();
  let lastPromMs = Number.NEGATIVE_INFINITY;
  const prometheusUrl = cfg.prometheusUrl;
  const podPoller = new PodMetricsPoller({
    listPodMetrics: (selector) => api.listPodMetrics(selector),
    deploymentsByEndpoint: () => controller?.deploymentsByEndpoint() ?? new Map(),
    runtimeSignals:
      prometheusUrl === undefined
        ? undefined
        : async () => {
            if (clock.nowMs() - lastPromMs >= cfg.prometheusIntervalMs) {
              runtime = await queryRuntimeSignals(prometheusUrl, 5000, (query, err) => log.warn("prometheus query failed", { query, error: err }));
              lastPromMs = clock.nowMs();
            }
            return runtime;
          },
    clock,
    log,
    intervalMs: cfg.podMetricsIntervalMs,
    availableGauge: metrics.podMetricsAvailable,
  });
  const elector = new LeaderElector(
    api,
    {
      namespace: cfg.leaseNamespace,
      leaseName: cfg.leaseName,
      identity: cfg.identity ?? hostname(),
      leaseDurationMs: cfg.leaseDurationMs,
      renewDeadlineMs: cfg.renewDeadlineMs,
      retryPeriodMs: cfg.retryPeriodMs,
    },
    clock,
    log,
    { onStoppedLeading: () => controller?.resetMemory() },
  );
  controller = new ApaController({
    api,
    clock,
    log,
    metrics,
    config: cfg,
    scraper,
    isLeader: () => elector.isLeader(),
    podSamples: () => podPoller.latest(),
    warmPool: {
      ...defaultWarmPoolConfig,
      lookbackMs: cfg.warmPoolLookbackMs,
      provisionWindowMs: cfg.warmPoolProvisionWindowMs,
      headroom: cfg.warmPoolHeadroom,
      maxPlaceholders: cfg.warmPoolMax,
    },
  });

  // Why a version cannot start (its model download failed), as Events on its ServingEndpoint.
  const core = loadKubeConfig().makeApiClient(CoreV1Api);
  const downloads = new DownloadFailureReporter({
    listPendingPods: async () => (await core.listPodForAllNamespaces({ labelSelector: ENDPOINT_LABEL, fieldSelector: "status.phase=Pending" })).items,
    createEvent: (namespace, event) => api.createEvent(namespace, event),
    isLeader: () => elector.isLeader(),
    nowMs: () => clock.nowMs(),
    log,
    instance: cfg.identity ?? hostname(),
    intervalMs: cfg.downloadFailureIntervalMs,
  });

  const health = await startHealthServer(
    cfg.port,
    {
      healthy: () => {
        const last = controller?.lastCycleAtMs;
        if (controller?.synced !== true || last === undefined) return undefined;
        const ageMs = clock.nowMs() - last;
        return ageMs > 30 * cfg.sampleIntervalMs ? `decision loop stalled: last cycle ${ageMs} ms ago` : undefined;
      },
      ready: () => (controller?.synced === true ? undefined : "caches not synced yet"),
    },
    metrics.registry,
  );
  log.info("starting", { port: health.port, gatewayService: cfg.gatewayService, gatewayUrls: cfg.gatewayUrls });
  gw.reflector?.start();
  elector.start();
  controller.start();
  if (cfg.podMetricsIntervalMs > 0) podPoller.start();
  downloads.start();

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    await podPoller.stop();
    downloads.stop();
    await controller?.stop();
    await elector.stop(true);
    await gw.reflector?.stop();
    health.server.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: "error", msg: "controller failed", error: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
});
