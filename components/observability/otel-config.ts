/**
 * The OpenTelemetry collector's configuration (pure). It is handed to the chart as `alternateConfig`, which the
 * chart renders as the collector's config file unchanged (opentelemetry-collector@0.136.0 templates/_config.tpl,
 * `baseConfig`: with `alternateConfig` set, `config` and its defaults are ignored; no preset is enabled here), so
 * what this function returns is exactly the config the collector runs — test/infra/otel-config.test.ts runs
 * `otelcol validate` on it with a collector built from the same components (tools/go-tools/otelcol-builder.yaml).
 *
 * One pipeline: traces over OTLP (the gateway agent's spans, and whatever the model pods send) → memory_limiter →
 * batch → the exporter the stack config names: OTLP/HTTP or OTLP/gRPC to a tracing backend (Tempo, Jaeger, a
 * vendor), or `debug` (the collector's log) when none is set. Header values (a vendor's API key) stay out of the
 * config: each is an env var from the `otel-exporter-headers` Secret.
 */

/** Where traces go; absent: the debug exporter. */
export interface TraceExport {
  /** OTLP endpoint: `http(s)://host[:port][/path]` (OTLP/HTTP appends `/v1/traces`) or, for gRPC, `http(s)://host:port`. */
  readonly endpoint: string;
  readonly protocol: "http" | "grpc";
  /** Names of the headers sent with every export (values come from `OTEL_EXPORT_HEADERS_SECRET`). @default [] */
  readonly headerNames?: readonly string[];
}

/** Secret holding the export headers' values, key `header-<i>` for the i-th name. */
export const OTEL_EXPORT_HEADERS_SECRET = "otel-exporter-headers";
/** The env var of the i-th export header in the collector container. */
export const exportHeaderEnv = (i: number): string => `OTEL_EXPORT_HEADER_${i}`;

/** The exporter's name in the config. */
export function traceExporterName(exp: TraceExport | undefined): string {
  return exp === undefined ? "debug" : exp.protocol === "http" ? "otlphttp/traces" : "otlp/traces";
}

/** The collector's config. */
export function otelCollectorConfig(exp?: TraceExport): Record<string, unknown> {
  const headers = exp?.headerNames !== undefined && exp.headerNames.length > 0
    ? { headers: Object.fromEntries(exp.headerNames.map((h, i) => [h, `\${env:${exportHeaderEnv(i)}}`])) }
    : {};
  const exporter = exp === undefined ? {}
    : exp.protocol === "http"
      ? { endpoint: exp.endpoint, ...headers }
      // gRPC: an http:// endpoint is a plain-text connection (in-cluster Tempo / Jaeger), https:// uses TLS.
      : { endpoint: exp.endpoint, ...(exp.endpoint.startsWith("http://") ? { tls: { insecure: true } } : {}), ...headers };
  const name = traceExporterName(exp);
  return {
    receivers: { otlp: { protocols: { grpc: { endpoint: "${env:MY_POD_IP}:4317" }, http: { endpoint: "${env:MY_POD_IP}:4318" } } } },
    processors: {
      // The chart's defaults: limits from the container's memory limit (the chart sets GOMEMLIMIT from it).
      memory_limiter: { check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 25 },
      batch: {},
    },
    exporters: { [name]: exporter },
    // The chart's liveness and readiness probes ask this extension on :13133.
    extensions: { health_check: { endpoint: "${env:MY_POD_IP}:13133" } },
    service: {
      extensions: ["health_check"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: [name] } },
    },
  };
}
