/** The gateway agent's config module: flags and environment → typed config; the API-key file reader. */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { ApiKeyEntry } from "./types.ts";
import { ConfigError, MS, parseKeys, type KeySpec } from "../kube/config.ts";

const PORT = { type: "int" as const, min: 1, max: 65535 };

/** Every key of the agent: flag, env var, range, default (mirrored in docs/controller.md). */
export const AGENT_CONFIG_KEYS = {
  bindAddress: { flag: "bind-address", env: "GW_BIND_ADDRESS", kind: { type: "string", pattern: /^[0-9a-fA-F.:]+$/, allowedText: "an IP address" }, def: "0.0.0.0", help: "address of the public frontend" },
  publicPort: { flag: "public-port", env: "GW_PUBLIC_PORT", kind: PORT, def: "8080", help: "public HTTP port" },
  metricsPort: { flag: "metrics-port", env: "GW_METRICS_PORT", kind: PORT, def: "8405", help: "HAProxy Prometheus exporter port (scraped by Prometheus)" },
  healthPort: { flag: "health-port", env: "GW_HEALTH_PORT", kind: PORT, def: "8081", help: "agent /healthz, /readyz, /metrics port, and /stats (HAProxy backend CSV + per-request counters, scraped by the controller)" },
  workDir: { flag: "work-dir", env: "GW_WORK_DIR", kind: { type: "string", pattern: /^\/\S*$/, allowedText: "an absolute path (a writable emptyDir)" }, def: "/var/run/gateway", help: "where the config, map file and sockets live" },
  gatewayReplicas: { flag: "gateway-replicas", env: "GW_REPLICAS", kind: { type: "int", min: 1, max: 1000 }, def: "1", help: "gateway replicas sharing the pods (per-pod maxconn = floor(target / replicas))" },
  gatewayReplicasFrom: { flag: "gateway-replicas-from", env: "GW_REPLICAS_FROM", kind: { type: "enum", values: ["live", "flag"] }, def: "live", help: "divisor of per-pod limits: live = the gateway replicas alive now (the gateway Service's EndpointSlices, starting and terminating ones included); flag = --gateway-replicas" },
  apiKeysFile: { flag: "api-keys-file", env: "GW_API_KEYS_FILE", kind: { type: "string", pattern: /^\/\S*$/, allowedText: "an absolute path" }, def: undefined, help: "JSON [{id, sha256, endpoints, maxInFlight?}] (a mounted Secret; endpoints [\"*\"] = every endpoint); re-read every --api-keys-reload-ms" },
  apiKeysReloadMs: { flag: "api-keys-reload-ms", env: "GW_API_KEYS_RELOAD_MS", kind: MS(500, 3_600_000), def: "5000", help: "how often the API-key file is re-read; a changed file is applied without a restart, ms" },
  minSlots: { flag: "min-slots", env: "GW_MIN_SLOTS", kind: { type: "int", min: 1, max: 4096 }, def: "4", help: "fewest server slots per endpoint" },
  queueTimeoutMs: { flag: "queue-timeout-ms", env: "GW_QUEUE_TIMEOUT_MS", kind: MS(1, 600_000), def: "5000", help: "longest queue wait before 429, ms" },
  maxQueue: { flag: "max-queue", env: "GW_MAX_QUEUE", kind: { type: "int", min: 1, max: 100_000 }, def: "1000", help: "queue length answered with an immediate 429" },
  maxBodyBytes: { flag: "max-body-bytes", env: "GW_MAX_BODY_BYTES", kind: { type: "int", min: 1024, max: 1_073_741_824 }, def: "16777216", help: "largest request body" },
  bodyBufferBytes: { flag: "body-buffer-bytes", env: "GW_BODY_BUFFER_BYTES", kind: { type: "int", min: 16_384, max: 16_777_216 }, def: "65536", help: "request bodies up to this size are received in full before they take a pod slot (HAProxy's buffer)" },
  maxConnections: { flag: "max-connections", env: "GW_MAX_CONNECTIONS", kind: { type: "int", min: 100, max: 1_000_000 }, def: "5000", help: "connections HAProxy holds at once (global maxconn; needs a file-descriptor limit over twice it)" },
  keyMaxInFlight: { flag: "key-max-in-flight", env: "GW_KEY_MAX_IN_FLIGHT", kind: { type: "int", min: 1, max: 1_000_000 }, def: "256", help: "requests one API key or one JWT identity (issuer + subject) may have in flight on this replica (a key entry's maxInFlight overrides it); over it 429" },
  modelTimeoutMs: { flag: "model-timeout-ms", env: "GW_MODEL_TIMEOUT_MS", kind: MS(100, 3_600_000), def: "120000", help: "longest model answer time, ms" },
  portName: { flag: "port-name", env: "GW_PORT_NAME", kind: { type: "string", pattern: /^[a-z0-9-]{1,15}$/, allowedText: "an EndpointSlice port name" }, def: "http", help: "model port name in the EndpointSlices" },
  haproxyBinary: { flag: "haproxy-binary", env: "GW_HAPROXY_BINARY", kind: { type: "string", pattern: /^\/\S+$/, allowedText: "an absolute path" }, def: "/usr/sbin/haproxy", help: "HAProxy executable" },
  requestLogPort: { flag: "request-log-port", env: "GW_REQUEST_LOG_PORT", kind: PORT, def: "5140", help: "UDP port on 127.0.0.1 where HAProxy sends one log line per request to the agent" },
  traceSampleRate: { flag: "trace-sample-rate", env: "GW_TRACE_SAMPLE_RATE", kind: { type: "float", min: 0, max: 1 }, def: "0", help: "share of requests without a traceparent whose gateway-started trace is sampled" },
  otlpEndpoint: { flag: "otlp-endpoint", env: "GW_OTLP_ENDPOINT", kind: { type: "string", pattern: /^https?:\/\/\S+$/, allowedText: "an http(s) URL" }, def: undefined, help: "OTLP/HTTP traces URL of the collector (e.g. http://otel-collector:4318/v1/traces); absent: no spans exported" },
  payloadLogSink: { flag: "payload-log-sink", env: "GW_PAYLOAD_LOG_SINK", kind: { type: "enum", values: ["s3", "gcs", "file"] }, def: "s3", help: "where payload logs go: s3 (AWS S3 or an S3-compatible store at --payload-log-endpoint), gcs (Google Cloud Storage, JSON API), file (--payload-log-dir)" },
  payloadLogBucket: { flag: "payload-log-bucket", env: "GW_PAYLOAD_LOG_BUCKET", kind: { type: "string", pattern: /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, allowedText: "an S3 or GCS bucket name" }, def: undefined, help: "bucket of the payload logs (inference tables), sinks s3 and gcs; absent: payload logging off for every endpoint" },
  payloadLogDir: { flag: "payload-log-dir", env: "GW_PAYLOAD_LOG_DIR", kind: { type: "string", pattern: /^\/\S*$/, allowedText: "an absolute path" }, def: undefined, help: "directory of the payload logs with --payload-log-sink file" },
  payloadLogPrefix: { flag: "payload-log-prefix", env: "GW_PAYLOAD_LOG_PREFIX", kind: { type: "string", pattern: /^[A-Za-z0-9._\/-]{0,200}$/, allowedText: "a key prefix" }, def: "payload-logs", help: "key prefix of the payload-log objects" },
  payloadLogRegion: { flag: "payload-log-region", env: "GW_PAYLOAD_LOG_REGION", kind: { type: "string", pattern: /^[a-z0-9-]{1,40}$/, allowedText: "a region name" }, def: "us-east-1", help: "region of the payload-log bucket" },
  payloadLogEndpoint: { flag: "payload-log-endpoint", env: "GW_PAYLOAD_LOG_ENDPOINT", kind: { type: "string", pattern: /^https?:\/\/\S+$/, allowedText: "an http(s) URL" }, def: undefined, help: "S3-compatible endpoint URL (path-style) of the payload-log store, or the GCS JSON-API URL (a test server); absent: AWS S3 / storage.googleapis.com" },
  payloadLogFlushMs: { flag: "payload-log-flush-ms", env: "GW_PAYLOAD_LOG_FLUSH_MS", kind: MS(100, 3_600_000), def: "10000", help: "longest time a payload-log row waits before its object is written, ms" },
  logLevel: { flag: "log-level", env: "GW_LOG_LEVEL", kind: { type: "enum", values: ["debug", "info", "warn", "error"] }, def: "info", help: "log level" },
} as const satisfies Record<string, KeySpec>;

export interface AgentConfig {
  readonly bindAddress: string;
  readonly publicPort: number;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly workDir: string;
  readonly gatewayReplicas: number;
  readonly gatewayReplicasFrom: "live" | "flag";
  readonly apiKeysFile: string | undefined;
  readonly apiKeysReloadMs: number;
  readonly minSlots: number;
  readonly queueTimeoutMs: number;
  readonly maxQueue: number;
  readonly maxBodyBytes: number;
  readonly modelTimeoutMs: number;
  readonly bodyBufferBytes: number;
  readonly keyMaxInFlight: number;
  readonly maxConnections: number;
  readonly portName: string;
  readonly haproxyBinary: string;
  readonly requestLogPort: number;
  readonly traceSampleRate: number;
  readonly otlpEndpoint: string | undefined;
  readonly payloadLogSink: "s3" | "gcs" | "file";
  readonly payloadLogBucket: string | undefined;
  readonly payloadLogDir: string | undefined;
  readonly payloadLogPrefix: string;
  readonly payloadLogRegion: string;
  readonly payloadLogEndpoint: string | undefined;
  readonly payloadLogFlushMs: number;
  readonly logLevel: "debug" | "info" | "warn" | "error";
}

export function loadAgentConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, out?: (s: string) => void): AgentConfig {
  const cfg = parseKeys("gateway-agent", "Gateway agent: keeps HAProxy in line with ServingEndpoints and EndpointSlices (see docs/controller.md)", AGENT_CONFIG_KEYS, argv, env, {}, out ?? ((s) => void process.stdout.write(s))) as unknown as AgentConfig;
  if (cfg.payloadLogSink === "file" && cfg.payloadLogBucket !== undefined) {
    throw new ConfigError(`invalid config --payload-log-bucket (GW_PAYLOAD_LOG_BUCKET) = ${JSON.stringify(cfg.payloadLogBucket)}: not used with --payload-log-sink file; allowed: --payload-log-dir <absolute path>`);
  }
  if (cfg.payloadLogSink !== "file" && cfg.payloadLogDir !== undefined) {
    throw new ConfigError(`invalid config --payload-log-dir (GW_PAYLOAD_LOG_DIR) = ${JSON.stringify(cfg.payloadLogDir)}: only with --payload-log-sink file (the sink is ${cfg.payloadLogSink}, which needs --payload-log-bucket)`);
  }
  return Object.freeze(cfg);
}

/** Whether payload logging is on: a bucket for the s3 and gcs sinks, a directory for the file sink. */
export function payloadLoggingOn(cfg: Pick<AgentConfig, "payloadLogSink" | "payloadLogBucket" | "payloadLogDir">): boolean {
  return cfg.payloadLogSink === "file" ? cfg.payloadLogDir !== undefined : cfg.payloadLogBucket !== undefined;
}

/** Reads and checks the API-key file: a JSON array of `{ id, sha256 (64 hex), endpoints: string[], maxInFlight? }`. */
export function readApiKeys(path: string): ApiKeyEntry[] {
  return parseApiKeys(path, readFileSync(path, "utf8"));
}

/** Checks the API-key file's text (see `readApiKeys`). */
export function parseApiKeys(path: string, text: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`invalid config apiKeysFile: ${path}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new ConfigError(`invalid config apiKeysFile: ${path}: must hold a JSON array of {id, sha256, endpoints}`);
  return raw.map((e: unknown, i) => {
    const o = e as Record<string, unknown>;
    if (typeof o["id"] !== "string" || typeof o["sha256"] !== "string" || !/^[0-9a-f]{64}$/.test(o["sha256"]) || !Array.isArray(o["endpoints"])) {
      throw new ConfigError(`invalid config apiKeysFile: ${path}[${i}]: needs id (string), sha256 (64 lower-case hex) and endpoints (array of names)`);
    }
    const max = o["maxInFlight"];
    if (max !== undefined && !(typeof max === "number" && Number.isInteger(max) && max >= 1 && max <= 1_000_000)) {
      throw new ConfigError(`invalid config apiKeysFile: ${path}[${i}].maxInFlight: ${JSON.stringify(max)} is not allowed; must be an integer in 1..1000000`);
    }
    return { id: o["id"], sha256: o["sha256"], endpoints: (o["endpoints"] as unknown[]).map(String), ...(max !== undefined ? { maxInFlight: max as number } : {}) };
  });
}

/**
 * Re-reads the API-key file every `intervalMs` (a mounted Secret is updated in place by the kubelet) and calls
 * `onKeys` when its text changed and is valid; an invalid file is reported through `onError` and the keys in
 * force stay. Returns a stop function.
 */
export function watchApiKeys(path: string, intervalMs: number, onKeys: (keys: ApiKeyEntry[]) => void, onError: (message: string) => void): () => void {
  let last: string | undefined;
  let stopped = false;
  const check = async (): Promise<void> => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      onError(`API-key file ${path} unreadable: ${(e as Error).message}; keeping the keys in force`);
      return;
    }
    if (text === last || stopped) return;
    last = text;
    try {
      onKeys(parseApiKeys(path, text));
    } catch (e) {
      onError(`${(e as Error).message}; keeping the keys in force`);
    }
  };
  void check();
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
