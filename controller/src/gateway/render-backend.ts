/**
 * Renders one endpoint's backend: routing to native paths, body limit, no-pod 503, queue bound 429,
 * the per-pod slots with their maxconn and the queue timeout. Pure.
 */
import { payloadLogLines } from "./render-observe.ts";
import { endpointRoutes } from "./runtime-paths.ts";
import type { GatewayEndpoint, SlotValue, SlotValues } from "./types.ts";
import { perPodMaxconn } from "./validate.ts";

/** Name of the backend of an endpoint. */
export function backendName(endpoint: string): string {
  return `be_${endpoint}`;
}

/** Name of slot `i` (1-based) of a backend. */
export function slotName(i: number): string {
  return `pod${i}`;
}

/** OpenAI's error `type` for a status (what the official SDKs expect beside the message). */
export function openAiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The log-format expression that prints `ifOpenAi` on OpenAI routes (txn.openai set) and `otherwise` elsewhere. */
function onOpenAi(ifOpenAi: string, otherwise: string): string {
  const arg = (s: string): string => (s === "" ? "" : `"${s.replace(/"/g, '\\"')}"`);
  return `%[var(txn.openai,0),bool,iif(${arg(ifOpenAi)},${arg(otherwise)})]`;
}

/**
 * A JSON error body as a log-format string: `{"error_code", "message", …extra}` (the platform's shape), or on the
 * OpenAI-compatible routes `{"error": {"code", "message", …extra, "type", "param"}}` so OpenAI SDKs show the
 * message. `extraFields` is raw JSON members after the message (e.g. `,"request_id":"…"`).
 */
export function errorBody(status: number, code: string, message: string, extraFields = ""): string {
  return `{${onOpenAi('"error":{', "")}"${onOpenAi("code", "error_code")}":"${code}","message":"${message}"${extraFields}` +
    `${onOpenAi(`,"type":"${openAiErrorType(status)}","param":null}`, "")}}`;
}

/** An HAProxy `return` of a JSON error (no `%` or `'` in messages: they go into a log-format string). */
export function jsonReturn(status: number, code: string, message: string, extra = ""): string {
  return `http-request return status ${status} content-type application/json lf-string '${errorBody(status, code, message)}'${extra}`;
}

/**
 * Passive health: the first refused or failed connect marks a slot down at once (a dead pod has no connections,
 * so `leastconn` would otherwise send it every new request until the agent drains it); a TCP check every 1 s
 * brings it back.
 */
export const SLOT_CHECK = "check inter 1s fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down";

function slotLine(name: string, v: SlotValue): string {
  const disabled = v.state === "ready" ? "" : " disabled";
  return `    server ${name} ${v.addr}:${v.port}${disabled} maxconn ${v.maxconn} weight 100 ${SLOT_CHECK}`;
}

/**
 * Slot lines: filled slots (from runtime values) as `server` lines, runs of empty ones as `server-template`.
 * A draining slot is rendered disabled: after a reload it must take no new requests.
 */
export function renderSlots(slots: number, maxconn: number, runtime: SlotValues | undefined): string[] {
  const lines: string[] = [];
  let runStart = 0;
  const flush = (end: number): void => {
    if (runStart === 0) return;
    // Always a range: a lone number would mean a count of servers starting at 1.
    const range = `${runStart}-${end}`;
    lines.push(`    server-template pod ${range} 0.0.0.0:1 disabled maxconn ${maxconn} weight 100 ${SLOT_CHECK}`);
    runStart = 0;
  };
  for (let i = 1; i <= slots; i++) {
    const v = runtime?.get(slotName(i));
    if (v !== undefined && v.addr !== "0.0.0.0") {
      flush(i - 1);
      lines.push(slotLine(slotName(i), { ...v, maxconn: v.maxconn >= 1 ? v.maxconn : maxconn }));
    } else if (runStart === 0) {
      runStart = i;
    }
  }
  flush(slots);
  return lines;
}

/** The backend section of one endpoint; `retryAfterS` goes into the immediate 429. */
export function renderBackend(ep: GatewayEndpoint, gatewayReplicas: number, retryAfterS: number, bodyTimeoutMs: number, runtime?: SlotValues): string {
  const routes = endpointRoutes(ep);
  const maxconn = perPodMaxconn(ep.targetConcurrency, gatewayReplicas);
  const lines = [
    `backend ${backendName(ep.name)}`,
    `    balance leastconn`,
    `    timeout queue ${ep.queueTimeoutMs}ms`,
    `    timeout server ${ep.modelTimeoutMs}ms`,
    `    ${jsonReturn(404, "ENDPOINT_NOT_FOUND", `endpoint ${ep.name} has no route %[var(txn.route)]; routes: ${routes.map((r) => r.route).join(", ")}`)} unless { var(txn.route) -m str ${routes.map((r) => r.route).join(" ")} }`,
    `    ${jsonReturn(413, "PAYLOAD_TOO_LARGE", `request body of %[req.hdr_val(content-length)] bytes is over the limit of ${ep.maxBodyBytes} bytes`)} if { req.hdr_val(content-length) gt ${ep.maxBodyBytes} }`,
    // The body is received before anything takes a slot or a queue place: up to the buffer in full, within the
    // body deadline (HAProxy answers 408 when it passes); a larger body takes the slot once the buffer is full.
    `    http-request wait-for-body time ${bodyTimeoutMs}ms if { req.hdr_val(content-length) gt 0 }`,
    `    ${jsonReturn(503, "NO_READY_POD", `endpoint ${ep.name} has no ready pod`)} hdr retry-after ${retryAfterS} if { nbsrv() eq 0 } !{ stopping }`,
    // `deny` (not `return`) so these 429s count in haproxy_backend_requests_denied_total (metrics-reader.ts).
    `    http-request deny deny_status 429 content-type application/json lf-string '${errorBody(429, "REQUEST_LIMIT_EXCEEDED", `endpoint ${ep.name} queue is full (${ep.maxQueue} waiting)`)}' hdr retry-after ${retryAfterS} if { queue() ge ${ep.maxQueue} }`,
    // 2.6 has no txn.sess_term_state: mark that pods existed, and whether a pod answered, so the frontend
    // can turn HAProxy's own 503 (queue timeout) into 429 while a pod's own 503 passes through.
    // In an old worker finishing keep-alive connections after a reload the backend is stopped and nbsrv() is 0
    // although its pods still serve: `stopping` keeps those requests flowing.
    `    http-request set-var(txn.have_srv) bool(true) if { nbsrv() gt 0 } || { stopping }`,
    ...routes.map((r) => `    http-request set-path ${r.path} if { var(txn.route) -m str ${r.route} }`),
    `    http-response set-var(txn.from_srv) bool(true)`,
    ...payloadLogLines(ep),
    ...renderSlots(ep.slots, maxconn, runtime),
  ];
  return lines.join("\n");
}
