/**
 * The gateway's per-request log line: the HAProxy `log-format` the public frontend renders, and its parser.
 * Pure. HAProxy sends one line per request (UDP to the agent, request-log-reader.ts); each line gives the
 * request's timers (HAProxy 2.6 `%TR %Tw %Tc %Tr %Td %Ta`), status, backend/slot, termination state, byte
 * counts, trace context and, for sampled requests of endpoints with payload logging, the size-capped bodies.
 *
 * Timer facts checked on Debian's HAProxy 2.6.12 (test/gateway/request-log-real.test.ts):
 * `%Ta = %TR + %Tw + %Tc + %Tr + %Td`; with the backend's `http-request wait-for-body` the wait for the request body is in
 * `%TR` (a slow upload does not count as service time); `%Tw`, `%Tc`, `%Tr` are -1 for a phase that did not
 * happen (a request answered by the gateway itself).
 */
import type { RequestTiming } from "./request-stats.ts";

/** First word of every request line (and the format's version). */
export const REQUEST_LOG_TAG = "apgw1";

/**
 * The frontend's `log-format`. Positional, space-separated; every field is a token without spaces
 * (`-` when absent). Free-form values are URL-encoded (`url_enc`).
 */
export const REQUEST_LOG_FORMAT = [
  REQUEST_LOG_TAG,
  "%Ts%ms", // accept time, ms since the epoch
  "%Th", "%Ti", // handshake and idle time before the request's first byte
  "%[var(txn.rid)]",
  "%[var(txn.ep)]",
  "%HM",
  "%[var(txn.route),url_enc]",
  "%b",
  "%s",
  "%ST",
  "%TR", "%Tw", "%Tc", "%Tr", "%Td", "%Ta",
  "%tsc",
  "%U", "%B",
  "%[var(txn.key_id),url_enc]",
  "%[var(txn.trace_id)]", "%[var(txn.trace_parent)]", "%[var(txn.span_id)]", "%[var(txn.trace_flags)]",
  "%[var(txn.plog_req)]", "%[var(txn.plog_res)]", "%[var(txn.plog_res_type),url_enc]",
].join(" ");

/** Trace context of one request (W3C `traceparent`). */
export interface RequestTrace {
  /** 32 lower-case hex. */
  readonly traceId: string;
  /** The gateway hop's span id (16 hex): the parent of the pod's span. */
  readonly spanId: string;
  /** The caller's span id when the request came with a `traceparent`; undefined when the gateway started the trace. */
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
}

/** One request line, parsed. Times in ms; -1 where HAProxy reports that the phase did not happen. */
export interface RequestRecord {
  /** When HAProxy accepted the request (its connection, for the first request on it), ms since the epoch. */
  readonly acceptedAtMs: number;
  /** When the request's first byte came (accept + `%Th` + `%Ti`), ms since the epoch. */
  readonly startedAtMs: number;
  readonly requestId: string | undefined;
  /** Endpoint name from the path; undefined for requests that did not name one. */
  readonly endpoint: string | undefined;
  readonly method: string;
  /** The endpoint's route (`invocations`, `v1/chat/completions`, …); undefined when the path named none. */
  readonly route: string | undefined;
  /** Backend (`be_<endpoint>`) or the frontend's name when the request never reached a backend. */
  readonly backend: string;
  /** Server slot (`pod<i>`); undefined when none was chosen. */
  readonly server: string | undefined;
  /** HTTP status sent to the client (-1 when none was sent). */
  readonly status: number;
  /** `%TR`: receiving the request headers (and, buffered, its body). */
  readonly requestMs: number;
  /** `%Tw`: waiting in the endpoint queue. */
  readonly queueMs: number;
  /** `%Tc`: connecting to the pod. */
  readonly connectMs: number;
  /** `%Tr`: the pod's time to the response headers. */
  readonly responseMs: number;
  /** `%Td`: the response body's transfer. */
  readonly transferMs: number;
  /** `%Ta`: from the first request byte to the last response byte. */
  readonly activeMs: number;
  /** `%tsc`: HAProxy's termination state (4 characters; `----` for a normal end). */
  readonly termination: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** API-key id that authenticated the request. */
  readonly keyId: string | undefined;
  readonly trace: RequestTrace | undefined;
  /** Payload capture (base64 of the size-capped bodies), only for sampled requests of opted-in endpoints. */
  readonly payload: { readonly requestB64: string; readonly responseB64: string | undefined; readonly responseType: string | undefined } | undefined;
}

const FIELDS = 28;

function opt(token: string): string | undefined {
  return token === "-" || token === "" ? undefined : token;
}

function int(token: string): number {
  // HAProxy writes `+` before a timer that was cut short (`option logasap`); we never set it, but tolerate it.
  const n = Number(token.startsWith("+") ? token.slice(1) : token);
  return Number.isInteger(n) ? n : Number.NaN;
}

function decode(token: string): string | undefined {
  const v = opt(token);
  if (v === undefined) return undefined;
  try {
    return decodeURIComponent(v.replace(/\+/g, " "));
  } catch {
    return v;
  }
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/**
 * Parses one request line; undefined for anything else (HAProxy notices, alerts, another format). A line
 * that starts with the tag but has bad numbers is refused too (undefined), never half-read.
 */
export function parseRequestLine(line: string): RequestRecord | undefined {
  const start = line.indexOf(REQUEST_LOG_TAG + " ");
  if (start < 0) return undefined;
  const f = line.slice(start).trimEnd().split(" ");
  if (f.length !== FIELDS) return undefined;
  const at = (i: number): string => f[i] as string;
  const nums = [1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 18, 19].map((i) => int(at(i)));
  if (nums.some((n) => Number.isNaN(n))) return undefined;
  const [acceptedAtMs, handshakeMs, idleMs, status, requestMs, queueMs, connectMs, responseMs, transferMs, activeMs, bytesIn, bytesOut] = nums as number[];
  const traceId = opt(at(21));
  const spanId = opt(at(23));
  const parent = opt(at(22));
  const trace = traceId !== undefined && spanId !== undefined && HEX32.test(traceId) && HEX16.test(spanId)
    ? { traceId, spanId, parentSpanId: parent !== undefined && HEX16.test(parent) ? parent : undefined, sampled: ((parseInt(at(24), 16) || 0) & 1) === 1 }
    : undefined;
  const reqB64 = opt(at(25));
  const server = opt(at(9));
  return {
    acceptedAtMs: acceptedAtMs!,
    startedAtMs: acceptedAtMs! + Math.max(0, handshakeMs!) + Math.max(0, idleMs!),
    requestId: opt(at(4)),
    endpoint: opt(at(5)),
    method: at(6),
    route: decode(at(7)),
    backend: at(8),
    server: server === "<NOSRV>" ? undefined : server,
    status: status!,
    requestMs: requestMs!, queueMs: queueMs!, connectMs: connectMs!, responseMs: responseMs!, transferMs: transferMs!, activeMs: activeMs!,
    termination: at(17),
    bytesIn: bytesIn!, bytesOut: bytesOut!,
    keyId: decode(at(20)),
    trace,
    payload: reqB64 === undefined ? undefined : { requestB64: reqB64 === "~" ? "" : reqB64, responseB64: opt(at(26)), responseType: decode(at(27)) },
  };
}

/** True when a pod answered the request (it held a pod slot). */
export function servedByPod(r: RequestRecord): boolean {
  return r.server !== undefined && r.connectMs >= 0 && r.responseMs >= 0;
}

/** The timing the aggregation folds in (request-stats.ts). */
export function timingOf(r: RequestRecord): RequestTiming {
  return {
    queueMs: r.queueMs > 0 ? r.queueMs : 0,
    serviceMs: servedByPod(r) ? r.connectMs + r.responseMs + Math.max(0, r.transferMs) : undefined,
  };
}

/** When the last byte went out, ms since the epoch. */
export function completedAtMs(r: RequestRecord): number {
  return r.startedAtMs + Math.max(0, r.activeMs);
}

/** Why a request got a 429 or a 5xx. */
export type ErrorReason =
  | "queue_full" // the queue bound answered at once
  | "queue_timeout" // waited `timeout queue` without a free slot
  | "pod_unreachable" // no pod could be connected to (after the retry), answered 429 by the gateway
  | "no_ready_pod" // the endpoint has no ready pod (503)
  | "pod_timeout" // the pod did not answer within the endpoint's timeout (504)
  | "pod_aborted" // the pod closed or broke the answer (502)
  | "pod_status" // the pod itself answered 429 or 5xx
  | "gateway"; // anything else the gateway answered itself

/**
 * The reason of a 429 or 5xx (undefined for other statuses), from the status, whether a pod answered and
 * HAProxy's termination state (first letter: who ended it; second: in which phase). Checked on real HAProxy:
 * test/gateway/request-log-real.test.ts.
 */
export function errorReason(r: RequestRecord): ErrorReason | undefined {
  if (r.status !== 429 && (r.status < 500 || r.status > 599)) return undefined;
  const who = r.termination[0];
  const phase = r.termination[1];
  if (phase === "Q" && (who === "s" || who === "c")) return "queue_timeout";
  if (who === "S" && phase === "C" || who === "s" && phase === "C") return "pod_unreachable";
  if (who === "s" && phase === "H") return "pod_timeout";
  if ((who === "S" && (phase === "H" || phase === "D")) || r.status === 502) return "pod_aborted";
  if (servedByPod(r) && (who === "-" || who === undefined)) return "pod_status";
  if (r.status === 429 && (who === "P" || who === "L")) return "queue_full";
  if (r.status === 503 && r.server === undefined && r.backend.startsWith("be_")) return "no_ready_pod";
  return "gateway";
}
