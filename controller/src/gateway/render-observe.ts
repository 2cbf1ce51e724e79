/**
 * The gateway config lines that make every request visible (pure): the per-request log line and where it
 * goes, W3C trace context at the frontend, and per-endpoint payload capture in the backend. Spliced into
 * the frontend and each backend by render-config.ts / render-backend.ts.
 *
 * Cost: the log line is one UDP datagram per request to the agent on loopback. Trace context is one random draw (the
 * request's UUID, shared with its request id) and a header rewrite per request. Payload capture exists only in the backends of endpoints that opt
 * in, and only a sampled request pays for it: its request body is copied out of the buffer it already sits in
 * (the backend's `http-request wait-for-body`), and its response is held until complete or `maxBodyBytes` long
 * (`http-response wait-for-body`, at most `PAYLOAD_WAIT_MS`) — except event streams, whose bodies are not
 * recorded. Measured by `npm run bench:payload-log` (docs/observability.md).
 */
import { REQUEST_LOG_FORMAT } from "./request-log.ts";
import type { GatewayEndpoint, GatewaySettings, PayloadLogSettings } from "./types.ts";

/** Bytes of each body kept when `maxBodyBytes` is not set. */
export const DEFAULT_PAYLOAD_BODY_BYTES = 8192;
/**
 * Largest body capture. The base64 of a body must fit HAProxy's sample buffer (tune.bufsize 16384): on 2.6.12 a
 * 12,000-byte capture is logged and a 12,300-byte one is not (the conversion fails and nothing is recorded).
 */
export const MAX_PAYLOAD_BODY_BYTES = 12000;
/** Longest a sampled response is held to capture its body. */
export const PAYLOAD_WAIT_MS = 1000;
/** Longest log line: two base64 bodies (16 KB each at the 12000-byte cap) and the fields. HAProxy's `len` limit is 65535. */
export const REQUEST_LOG_LINE_BYTES = 65535;

/** The HAProxy `log` target that sends request lines to the agent's UDP reader on loopback. */
export function agentLogTarget(port: number): string {
  return `127.0.0.1:${port} len ${REQUEST_LOG_LINE_BYTES} format raw local0`;
}

/** The frontend's `log-format` line. */
export function logFormatLine(): string {
  return `    log-format "${REQUEST_LOG_FORMAT}"`;
}

/** `rand(1000000) lt N` for a share in [0, 1]. */
function sampled(share: number): string {
  return `{ rand(1000000) lt ${Math.round(share * 1_000_000)} }`;
}

/**
 * Frontend lines: accept a valid incoming `traceparent` (version 00, non-zero ids) or start a trace; the
 * gateway hop gets its own span id, and the pod receives `traceparent` with that span as its parent.
 * A gateway-started trace is sampled with `traceSampleRate`; an incoming one keeps its caller's flag.
 */
export function traceLines(s: GatewaySettings): string[] {
  const rate = s.traceSampleRate ?? 0;
  return [
    // One random draw per request: the request's unique id (a UUID v4, unique-id-format) without its dashes.
    `    http-request set-var(txn.rnd) unique-id,regsub(-,,g)`,
    // The incoming header is validated once, and only when there is one.
    `    acl trace_in req.hdr(traceparent) -m reg ^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`,
    `    acl trace_zero req.hdr(traceparent) -m reg ^00-(0{32}-|[0-9a-f]{32}-0{16}-)`,
    `    http-request set-var(txn.trace_ok) bool(true) if { req.hdr(traceparent) -m found } trace_in !trace_zero`,
    `    http-request set-var(txn.trace_id) req.hdr(traceparent),field(2,-) if { var(txn.trace_ok) -m bool }`,
    `    http-request set-var(txn.trace_parent) req.hdr(traceparent),field(3,-) if { var(txn.trace_ok) -m bool }`,
    `    http-request set-var(txn.trace_flags) req.hdr(traceparent),field(4,-) if { var(txn.trace_ok) -m bool }`,
    `    http-request set-var(txn.trace_id) var(txn.rnd) unless { var(txn.trace_ok) -m bool }`,
    ...(rate > 0 ? [`    http-request set-var(txn.trace_flags) str(01) unless { var(txn.trace_flags) -m found } ${sampled(rate)}`] : []),
    `    http-request set-var(txn.trace_flags) str(00) unless { var(txn.trace_flags) -m found }`,
    // The gateway hop's span id: the second half of the draw (a started trace's id is the whole draw, so the
    // span id is its second half: unique within the trace, as W3C asks).
    `    http-request set-var(txn.span_id) var(txn.rnd),bytes(16,16)`,
    `    http-request set-header traceparent 00-%[var(txn.trace_id)]-%[var(txn.span_id)]-%[var(txn.trace_flags)]`,
  ];
}

/** Backend lines of an endpoint with payload logging; none without it (zero cost when off). */
export function payloadLogLines(ep: GatewayEndpoint): string[] {
  const p = ep.payloadLog;
  if (p === undefined) return [];
  const cap = p.maxBodyBytes ?? DEFAULT_PAYLOAD_BODY_BYTES;
  return [
    `    http-request set-var(txn.plog) bool(true) if ${sampled(p.sampleRate)}`,
    // An empty body is logged as `~` (a set-var of an empty string would log `-`, i.e. "not sampled").
    `    http-request set-var(txn.plog_req) req.body,bytes(0,${cap}),base64 if { var(txn.plog) -m bool } { req.body_size gt 0 }`,
    `    http-request set-var(txn.plog_req) str(~) if { var(txn.plog) -m bool } !{ var(txn.plog_req) -m found }`,
    `    http-response wait-for-body time ${PAYLOAD_WAIT_MS}ms at-least ${cap} if { var(txn.plog) -m bool } !{ res.hdr(content-type) -m beg text/event-stream }`,
    `    http-response set-var(txn.plog_res) res.body,bytes(0,${cap}),base64 if { var(txn.plog) -m bool } !{ res.hdr(content-type) -m beg text/event-stream } { res.body_size gt 0 }`,
    `    http-response set-var(txn.plog_res_type) res.hdr(content-type) if { var(txn.plog) -m bool }`,
  ];
}

/** Problems with the observability fields of one endpoint (`at` prefixes field names). */
export function observeProblems(ep: GatewayEndpoint, at: string): string[] {
  const problems: string[] = [];
  const o = ep.latencyObjectiveMs;
  if (o !== undefined && (typeof o !== "number" || !Number.isFinite(o) || o <= 0 || o > 3_600_000)) {
    problems.push(`${at}.latencyObjectiveMs: ${JSON.stringify(o)} is not allowed; must be a number in (0, 3600000]`);
  }
  const p: PayloadLogSettings | undefined = ep.payloadLog;
  if (p === undefined) return problems;
  const allowed = new Set(["sampleRate", "maxBodyBytes", "redactFields"]);
  for (const k of Object.keys(p)) if (!allowed.has(k)) problems.push(`${at}.payloadLog.${k}: unknown field; allowed: ${[...allowed].join(", ")}`);
  if (typeof p.sampleRate !== "number" || !(p.sampleRate > 0 && p.sampleRate <= 1)) {
    problems.push(`${at}.payloadLog.sampleRate: ${JSON.stringify(p.sampleRate)} is not allowed; must be a number in (0, 1]`);
  }
  const cap = p.maxBodyBytes;
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 1 || cap > MAX_PAYLOAD_BODY_BYTES)) {
    problems.push(`${at}.payloadLog.maxBodyBytes: ${JSON.stringify(cap)} is not allowed; must be an integer in 1..${MAX_PAYLOAD_BODY_BYTES}`);
  }
  const fields = p.redactFields;
  if (fields !== undefined && (!Array.isArray(fields) || fields.some((f) => typeof f !== "string" || f.length === 0 || f.length > 128))) {
    problems.push(`${at}.payloadLog.redactFields: ${JSON.stringify(fields)} is not allowed; must be a list of JSON key names (1..128 characters)`);
  }
  return problems;
}

/** Problems with the gateway-wide observability settings. */
export function observeSettingsProblems(s: GatewaySettings): string[] {
  const r = s.traceSampleRate;
  if (r !== undefined && (typeof r !== "number" || !(r >= 0 && r <= 1))) {
    return [`settings.traceSampleRate: ${JSON.stringify(r)} is not allowed; must be a number in [0, 1]`];
  }
  return [];
}
