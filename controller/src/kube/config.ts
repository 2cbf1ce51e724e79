/**
 * The controller's one config module: flags (commander) and environment variables → a frozen, typed config.
 * Parse → default → validate; every error names the flag, its environment variable, the value and what is
 * allowed. Nothing else in the controller reads `process.env` or `process.argv`.
 */
import { Command, CommanderError } from "commander";
import { SYSTEM_NAMESPACE } from "../contract/names.ts";

export type Kind =
  | { readonly type: "int"; readonly min: number; readonly max: number }
  | { readonly type: "float"; readonly min: number; readonly max: number }
  | { readonly type: "string"; readonly pattern?: RegExp; readonly allowedText?: string }
  | { readonly type: "enum"; readonly values: readonly string[] }
  | { readonly type: "list" };

/** One config key: flag, environment variable, type and range, default. */
export interface KeySpec {
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly def: string | undefined;
  readonly help: string;
}

export const MS = (min: number, max: number) => ({ type: "int" as const, min, max });
const NS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Every key: flag, env var, type/range, default. The docs table in docs/controller.md mirrors this. */
export const CONFIG_KEYS = {
  identity: { flag: "identity", env: "POD_NAME", kind: { type: "string", pattern: /^\S+$/, allowedText: "a non-empty name without spaces" }, def: undefined, help: "this replica's identity in the Lease (default: hostname)" },
  leaseNamespace: { flag: "lease-namespace", env: "POD_NAMESPACE", kind: { type: "string", pattern: DNS, allowedText: "a DNS label" }, def: SYSTEM_NAMESPACE, help: "namespace of the leader-election Lease" },
  leaseName: { flag: "lease-name", env: "APA_LEASE_NAME", kind: { type: "string", pattern: DNS, allowedText: "a DNS name" }, def: "apa-controller", help: "name of the Lease" },
  leaseDurationMs: { flag: "lease-duration-ms", env: "APA_LEASE_DURATION_MS", kind: MS(2000, 60_000), def: "15000", help: "lease duration, ms (> renew deadline)" },
  renewDeadlineMs: { flag: "renew-deadline-ms", env: "APA_RENEW_DEADLINE_MS", kind: MS(1000, 60_000), def: "10000", help: "leader gives up if it cannot renew for this long, ms (< lease duration, > 1.2 × retry period)" },
  retryPeriodMs: { flag: "retry-period-ms", env: "APA_RETRY_PERIOD_MS", kind: MS(200, 30_000), def: "2000", help: "lease acquire/renew period, ms" },
  sampleIntervalMs: { flag: "sample-interval-ms", env: "APA_SAMPLE_INTERVAL_MS", kind: MS(100, 60_000), def: "1000", help: "gateway scrape and decision-loop period, ms" },
  gatewayService: { flag: "gateway-service", env: "APA_GATEWAY_SERVICE", kind: { type: "string", pattern: NS_NAME, allowedText: "namespace/name of a Service" }, def: undefined, help: "gateway Service whose EndpointSlices list the gateway pods to scrape" },
  gatewayUrls: { flag: "gateway-url", env: "APA_GATEWAY_URLS", kind: { type: "list" }, def: undefined, help: "static gateway metrics URLs, comma-separated (instead of --gateway-service)" },
  gatewayMetricsPort: { flag: "gateway-metrics-port", env: "APA_GATEWAY_METRICS_PORT", kind: { type: "int", min: 1, max: 65535 }, def: "8081", help: "port of the gateway page: the gateway agent's HTTP server (--health-port), which serves /stats" },
  gatewayMetricsPath: { flag: "gateway-metrics-path", env: "APA_GATEWAY_METRICS_PATH", kind: { type: "string", pattern: /^\/\S*$/, allowedText: "a path starting with /" }, def: "/stats", help: "path of the gateway page: /stats (HAProxy show stat CSV, via the agent) or HAProxy's own /metrics?scope=backend (on port 8405); either is read" },
  scrapeTimeoutMs: { flag: "scrape-timeout-ms", env: "APA_SCRAPE_TIMEOUT_MS", kind: MS(50, 30_000), def: "800", help: "timeout of one gateway scrape, ms" },
  gatewayGraceMs: { flag: "gateway-grace-ms", env: "APA_GATEWAY_GRACE_MS", kind: MS(0, 300_000), def: "10000", help: "carry a vanished gateway replica's last load forward this long, ms" },
  staleAfterMs: { flag: "stale-after-ms", env: "APA_STALE_AFTER_MS", kind: MS(1000, 600_000), def: "5000", help: "metrics older than this are stale, ms" },
  failStaticRecoveryMs: { flag: "fail-static-recovery-ms", env: "APA_FAIL_STATIC_RECOVERY_MS", kind: MS(0, 3_600_000), def: "30000", help: "after degraded metrics, block scale-downs this long, ms" },
  historyWindowMs: { flag: "history-window-ms", env: "APA_HISTORY_WINDOW_MS", kind: MS(10_000, 3_600_000), def: "40000", help: "samples kept per endpoint, ms (at least what the engine reads, 35 s by default; its longer windows live in its memory)" },
  podMetricsIntervalMs: { flag: "pod-metrics-interval-ms", env: "APA_POD_METRICS_INTERVAL_MS", kind: MS(0, 600_000), def: "15000", help: "metrics.k8s.io poll period, ms (0 = off)" },
  downloadFailureIntervalMs: { flag: "download-failure-interval-ms", env: "APA_DOWNLOAD_FAILURE_INTERVAL_MS", kind: MS(1000, 600_000), def: "15000", help: "period of the poll of endpoint pods left Pending by a failed model download (one Warning Event ModelDownloadFailed each), ms" },
  prometheusUrl: { flag: "prometheus-url", env: "APA_PROMETHEUS_URL", kind: { type: "string", pattern: /^https?:\/\/\S+$/, allowedText: "an http(s) URL" }, def: undefined, help: "Prometheus for GPU, vLLM and Triton metrics (optional)" },
  prometheusIntervalMs: { flag: "prometheus-interval-ms", env: "APA_PROMETHEUS_INTERVAL_MS", kind: MS(1000, 600_000), def: "15000", help: "Prometheus query period, ms" },
  statusMinIntervalMs: { flag: "status-min-interval-ms", env: "APA_STATUS_MIN_INTERVAL_MS", kind: MS(0, 3_600_000), def: "60000", help: "minimum period of load-only status writes (QPS, observed concurrency, reasons), ms" },
  unschedulableAfterMs: { flag: "unschedulable-after-ms", env: "APA_UNSCHEDULABLE_AFTER_MS", kind: MS(1000, 3_600_000), def: "60000", help: "pods without an address this long count as unschedulable, ms" },
  warmPoolNamespace: { flag: "warm-pool-namespace", env: "APA_WARM_POOL_NAMESPACE", kind: { type: "string", pattern: DNS, allowedText: "a DNS label" }, def: SYSTEM_NAMESPACE, help: "namespace of the warm-pool placeholder Deployments" },
  warmPoolLookbackMs: { flag: "warm-pool-lookback-ms", env: "APA_WARM_POOL_LOOKBACK_MS", kind: MS(60_000, 86_400_000), def: "3600000", help: "replica additions counted this far back, ms" },
  warmPoolProvisionWindowMs: { flag: "warm-pool-provision-window-ms", env: "APA_WARM_POOL_PROVISION_WINDOW_MS", kind: MS(10_000, 3_600_000), def: "300000", help: "node provisioning time (burst window), ms" },
  warmPoolHeadroom: { flag: "warm-pool-headroom", env: "APA_WARM_POOL_HEADROOM", kind: { type: "float", min: 0, max: 10 }, def: "1", help: "multiplier on the largest recent burst" },
  warmPoolMax: { flag: "warm-pool-max", env: "APA_WARM_POOL_MAX", kind: { type: "int", min: 0, max: 10_000 }, def: "50", help: "placeholder cap per pool" },
  kubeApiQps: { flag: "kube-api-qps", env: "APA_KUBE_API_QPS", kind: { type: "float", min: 0.1, max: 10_000 }, def: "50", help: "sustained Kubernetes API writes per second (token bucket; status, scale and Event writes)" },
  kubeApiBurst: { flag: "kube-api-burst", env: "APA_KUBE_API_BURST", kind: { type: "int", min: 1, max: 100_000 }, def: "100", help: "Kubernetes API writes allowed at once after a quiet period (token bucket size)" },
  port: { flag: "port", env: "APA_PORT", kind: { type: "int", min: 0, max: 65535 }, def: "8080", help: "port of /healthz, /readyz and /metrics (0 = any free port)" },
  logLevel: { flag: "log-level", env: "APA_LOG_LEVEL", kind: { type: "enum", values: ["debug", "info", "warn", "error"] }, def: "info", help: "log level" },
} as const satisfies Record<string, KeySpec>;

type Keys = typeof CONFIG_KEYS;
type ValueOf<K extends KeySpec["kind"]> = K extends { type: "int" | "float" } ? number : K extends { type: "list" } ? readonly string[] : string;

/** The validated controller config. Optional keys without a default are `undefined` when unset. */
export type ControllerConfig = {
  readonly [K in keyof Keys]: Keys[K]["def"] extends string ? ValueOf<Keys[K]["kind"]> : ValueOf<Keys[K]["kind"]> | undefined;
};

/** A config problem; the message names flag, env var, value and what is allowed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function parseValue(key: string, spec: KeySpec, raw: string): number | string | string[] {
  const where = `--${spec.flag} (${spec.env}) = ${JSON.stringify(raw)}`;
  const k = spec.kind;
  switch (k.type) {
    case "int":
    case "float": {
      const n = Number(raw.trim());
      const okType = raw.trim() !== "" && Number.isFinite(n) && (k.type === "float" || Number.isInteger(n));
      if (!okType || n < k.min || n > k.max) {
        throw new ConfigError(`invalid config ${key}: ${where}: must be ${k.type === "int" ? "an integer" : "a number"} from ${k.min} to ${k.max}`);
      }
      return n;
    }
    case "enum":
      if (!k.values.includes(raw)) throw new ConfigError(`invalid config ${key}: ${where}: allowed values are ${k.values.join(", ")}`);
      return raw;
    case "list": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
      for (const item of items) {
        if (!/^https?:\/\/\S+$/.test(item)) throw new ConfigError(`invalid config ${key}: ${where}: every item must be an http(s) URL, got ${JSON.stringify(item)}`);
      }
      return items;
    }
    case "string":
      if (k.pattern !== undefined && !k.pattern.test(raw)) {
        throw new ConfigError(`invalid config ${key}: ${where}: must be ${k.allowedText ?? `matching ${String(k.pattern)}`}`);
      }
      return raw;
  }
}

/**
 * Parses `argv` (without the node and script entries) and `env` against a key table: flag, then env var, then
 * default. `--help` writes usage to `out` and throws a CommanderError with exitCode 0; unknown flags throw
 * CommanderError too; bad values throw ConfigError.
 */
export function parseKeys(
  name: string,
  description: string,
  table: Readonly<Record<string, KeySpec>>,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  fallbacks: Readonly<Record<string, string>>,
  out: (s: string) => void,
): Record<string, unknown> {
  const cmd = new Command(name)
    .description(description)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: out })
    .allowExcessArguments(false);
  for (const spec of Object.values(table)) {
    cmd.option(`--${spec.flag} <value>`, `${spec.help} [env ${spec.env}]${spec.def !== undefined ? ` (default ${spec.def})` : ""}`);
  }
  cmd.parse([...argv], { from: "user" });
  const opts = cmd.opts<Record<string, string | undefined>>();
  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const camel = spec.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const raw = opts[camel] ?? env[spec.env] ?? fallbacks[key] ?? spec.def;
    result[key] = raw === undefined ? undefined : parseValue(key, spec, raw);
  }
  return result;
}

/** Builds the controller config from flags and environment (see `parseKeys`). */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  defaults: { readonly hostname: string },
  out: (s: string) => void = (s) => void process.stdout.write(s),
): ControllerConfig {
  const cfg = parseKeys(
    "apa-controller",
    "APA controller: autoscales ServingEndpoints from gateway concurrency (see docs/controller.md)",
    CONFIG_KEYS,
    argv,
    env,
    { identity: defaults.hostname },
    out,
  ) as ControllerConfig;
  if (cfg.renewDeadlineMs >= cfg.leaseDurationMs) {
    throw new ConfigError(
      `invalid config renewDeadlineMs: --renew-deadline-ms (APA_RENEW_DEADLINE_MS) = ${cfg.renewDeadlineMs}: must be less than --lease-duration-ms (${cfg.leaseDurationMs})`,
    );
  }
  if (!(cfg.renewDeadlineMs > 1.2 * cfg.retryPeriodMs)) {
    throw new ConfigError(
      `invalid config retryPeriodMs: --retry-period-ms (APA_RETRY_PERIOD_MS) = ${cfg.retryPeriodMs}: 1.2 × it (${1.2 * cfg.retryPeriodMs}) must be less than --renew-deadline-ms (${cfg.renewDeadlineMs}), so a leader gets more than one renewal attempt before it gives up`,
    );
  }
  if (cfg.gatewayService === undefined && (cfg.gatewayUrls ?? []).length === 0) {
    throw new ConfigError("invalid config gatewayService: set --gateway-service (APA_GATEWAY_SERVICE) to namespace/name of the gateway Service, or --gateway-url (APA_GATEWAY_URLS)");
  }
  return Object.freeze(cfg);
}

export { CommanderError };
