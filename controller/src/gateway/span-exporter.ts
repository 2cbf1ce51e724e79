/**
 * Traces: one span per sampled request for the gateway hop, built from the request's log record and exported
 * over OTLP/HTTP to the collector with the OpenTelemetry SDK (batching, bounded queue, retries are the SDK's).
 * The span carries the trace id and span id HAProxy put in the `traceparent` it passed to the pod, so the
 * pod's own spans are its children; its parent is the caller's span when the request came with one.
 * Times are HAProxy's: start at the request's first byte, end at its last response byte; events mark the
 * end of the request upload, the end of the queue wait and the response headers.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { timingOf, type RequestRecord } from "./request-log.ts";
import type { RecordConsumer } from "./request-pipeline.ts";
import type { GatewayEndpoint } from "./types.ts";

/** Hands the SDK the ids HAProxy chose (set just before each span starts; the SDK asks synchronously). */
class GivenIds implements IdGenerator {
  traceId = "";
  spanId = "";
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

export interface SpanExporterOptions {
  /** OTLP/HTTP traces URL, e.g. `http://otel-collector:4318/v1/traces`. */
  readonly url?: string;
  /** Another exporter instead of OTLP/HTTP (tests). */
  readonly exporter?: SpanExporter;
  /** `service.instance.id` (the gateway pod). */
  readonly serviceInstance: string;
  /** Spans waiting to be exported above this are dropped by the SDK. @default 8192 */
  readonly maxQueueSize?: number;
  /** @default 1000 */
  readonly scheduledDelayMs?: number;
}

export class GatewaySpanExporter implements RecordConsumer {
  readonly #ids = new GivenIds();
  readonly #provider: BasicTracerProvider;
  readonly #tracer;
  /** Spans handed to the SDK. */
  spans = 0;

  constructor(o: SpanExporterOptions) {
    const exporter = o.exporter ?? new OTLPTraceExporter({ url: o.url });
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ "service.name": "autopilot-gateway", "service.instance.id": o.serviceInstance }),
      idGenerator: this.#ids,
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: o.maxQueueSize ?? 8192, scheduledDelayMillis: o.scheduledDelayMs ?? 1000 })],
    });
    this.#tracer = this.#provider.getTracer("autopilot-gateway");
  }

  consume(r: RequestRecord, ep: GatewayEndpoint, version: string): void {
    const t = r.trace;
    if (t === undefined || !t.sampled) return;
    this.#ids.traceId = t.traceId;
    this.#ids.spanId = t.spanId;
    const parent = t.parentSpanId === undefined
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, { traceId: t.traceId, spanId: t.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    const timing = timingOf(r);
    const start = r.startedAtMs;
    const span = this.#tracer.startSpan(`${r.method} /serving-endpoints/${ep.name}/${r.route ?? ""}`, {
      kind: SpanKind.SERVER,
      startTime: start,
      attributes: {
        "http.request.method": r.method,
        "http.response.status_code": r.status,
        "http.route": `/serving-endpoints/{name}/${r.route ?? ""}`,
        "autopilot.endpoint": ep.name,
        "autopilot.version": version,
        "autopilot.gateway.slot": r.server === undefined ? "" : `${r.backend}/${r.server}`,
        "autopilot.gateway.queue_ms": timing.queueMs,
        ...(timing.serviceMs !== undefined ? { "autopilot.gateway.service_ms": timing.serviceMs } : {}),
        "autopilot.gateway.termination": r.termination,
        ...(r.requestId !== undefined ? { "autopilot.request_id": r.requestId } : {}),
      },
    }, parent);
    const upload = start + Math.max(0, r.requestMs);
    span.addEvent("request received", upload);
    if (r.queueMs >= 0) span.addEvent("dequeued", upload + r.queueMs);
    if (r.responseMs >= 0) span.addEvent("response headers", upload + Math.max(0, r.queueMs) + Math.max(0, r.connectMs) + r.responseMs);
    if (r.status >= 500 || r.status === 429) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${r.status}` });
    span.end(start + Math.max(0, r.activeMs));
    this.spans += 1;
  }

  /** Exports what is queued. */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  async close(): Promise<void> {
    await this.#provider.shutdown();
  }
}
