/**
 * Payload logging (inference tables), the pure part: a sampled request's log record → one JSON line of the
 * endpoint's table, with the bodies decoded, size-capped and redacted; and the object key of a batch,
 * partitioned `endpoint=<name>/date=<YYYY-MM-DD>/hour=<HH>` (Hive style, so DuckDB, Spark and Athena read
 * the partitions as columns).
 *
 * Redaction: with `redactFields` set, a body is parsed as JSON and the value of every object key in the list
 * (at any depth) becomes "[REDACTED]". A body that cannot be parsed (not JSON, or cut at `maxBodyBytes`) is
 * then not recorded at all (`*_body: null`, `*_body_omitted: "unredactable"`): nothing unredacted is written.
 */
import { completedAtMs, timingOf, type RequestRecord } from "./request-log.ts";
import { DEFAULT_PAYLOAD_BODY_BYTES } from "./render-observe.ts";
import type { GatewayEndpoint } from "./types.ts";

export const REDACTED = "[REDACTED]";

/** One row of an endpoint's inference table. */
export interface PayloadRow {
  readonly request_id: string | null;
  /** When the gateway accepted the request (RFC 3339, ms). */
  readonly timestamp: string;
  readonly timestamp_ms: number;
  readonly endpoint: string;
  readonly version: string;
  readonly route: string | null;
  readonly status: number;
  /** Gateway latency: queue + pod, ms. */
  readonly latency_ms: number;
  readonly queue_ms: number;
  readonly service_ms: number | null;
  readonly key_id: string | null;
  readonly trace_id: string | null;
  readonly request_body: string | null;
  readonly request_body_truncated: boolean;
  readonly request_body_omitted: "unredactable" | null;
  readonly response_body: string | null;
  readonly response_body_truncated: boolean;
  readonly response_body_omitted: "unredactable" | "event-stream" | "not-captured" | null;
  readonly response_content_type: string | null;
}

/** Replaces the value of every key in `fields` at any depth (in place on a parsed JSON value). */
function redactValue(v: unknown, fields: ReadonlySet<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => redactValue(x, fields));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fields.has(k) ? REDACTED : redactValue(x, fields);
    return out;
  }
  return v;
}

/** A body as recorded: text (redacted when asked), whether it was cut, or why it is left out. */
export function recordBody(raw: Buffer, cap: number, fields: ReadonlySet<string>): { body: string | null; truncated: boolean; omitted: "unredactable" | null } {
  const truncated = raw.length >= cap;
  const text = raw.toString("utf8");
  if (fields.size === 0) return { body: text, truncated, omitted: null };
  if (text.length === 0) return { body: text, truncated: false, omitted: null };
  try {
    return { body: JSON.stringify(redactValue(JSON.parse(text), fields)), truncated, omitted: null };
  } catch {
    return { body: null, truncated, omitted: "unredactable" };
  }
}

/** The table row of a sampled request; undefined for a record without a payload capture. */
export function payloadRow(r: RequestRecord, ep: GatewayEndpoint, version: string): PayloadRow | undefined {
  const p = r.payload;
  const settings = ep.payloadLog;
  if (p === undefined || settings === undefined || r.endpoint === undefined) return undefined;
  const cap = settings.maxBodyBytes ?? DEFAULT_PAYLOAD_BODY_BYTES;
  const fields = new Set(settings.redactFields ?? []);
  const req = recordBody(Buffer.from(p.requestB64, "base64"), cap, fields);
  const streamed = p.responseType?.startsWith("text/event-stream") === true;
  const res = p.responseB64 === undefined
    ? { body: null, truncated: false, omitted: streamed ? ("event-stream" as const) : r.bytesOut > 0 ? ("not-captured" as const) : null }
    : recordBody(Buffer.from(p.responseB64, "base64"), cap, fields);
  const t = timingOf(r);
  return {
    request_id: r.requestId ?? null,
    timestamp: new Date(r.startedAtMs).toISOString(),
    timestamp_ms: r.startedAtMs,
    endpoint: r.endpoint,
    version,
    route: r.route ?? null,
    status: r.status,
    latency_ms: t.queueMs + (t.serviceMs ?? 0),
    queue_ms: t.queueMs,
    service_ms: t.serviceMs ?? null,
    key_id: r.keyId ?? null,
    trace_id: r.trace?.traceId ?? null,
    request_body: req.body,
    request_body_truncated: req.truncated,
    request_body_omitted: req.omitted,
    response_body: res.body,
    response_body_truncated: res.truncated,
    response_body_omitted: res.omitted,
    response_content_type: p.responseType ?? null,
  };
}

/** The partition of a row: `endpoint=<e>/date=<YYYY-MM-DD>/hour=<HH>` (UTC, by accept time). */
export function partitionOf(endpoint: string, atMs: number): string {
  const iso = new Date(atMs).toISOString();
  return `endpoint=${endpoint}/date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/**
 * Object key of one batch: `<prefix>/<partition>/<writer>-<first ms>-<seq>.jsonl`. `writer` (the gateway pod)
 * and `seq` keep keys unique across replicas and flushes; nothing is ever overwritten.
 */
export function objectKey(prefix: string, partition: string, writer: string, firstAtMs: number, seq: number): string {
  const p = prefix.replace(/\/+$/, "");
  return `${p === "" ? "" : `${p}/`}${partition}/${writer}-${firstAtMs}-${String(seq).padStart(6, "0")}.jsonl`;
}

export { completedAtMs };
