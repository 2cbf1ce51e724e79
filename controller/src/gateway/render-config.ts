/**
 * Renders `haproxy.cfg` from the endpoint set (pure): public frontend (routing, request IDs, auth, JSON
 * errors, 429 workaround), metrics frontend, one backend per endpoint. Throws `GatewayConfigError` on bad input.
 *
 * HAProxy 2.6 facts this relies on are in `docs/gateway.md` and the HAProxy documentation.
 */
import { backendName, errorBody, jsonReturn, renderBackend } from "./render-backend.ts";
import { logFormatLine, traceLines } from "./render-observe.ts";
import { PUBLIC_ROUTES } from "./runtime-paths.ts";
import type { GatewayConfigInput, GatewayEndpoint, GatewaySettings, JwtIssuer } from "./types.ts";
import { DEFAULT_THREADS } from "./validate.ts";
import { assertValidGateway, bufsizeFor, DEFAULT_BODY_BUFFER_BYTES, DEFAULT_KEY_MAX_IN_FLIGHT, DEFAULT_MAX_CONNECTIONS, MAX_HEADER_BYTES } from "./validate.ts";

/** Error bodies for the responses HAProxy generates itself (parse errors, timeouts, pod failures). */
const HTTP_ERRORS: ReadonlyArray<[number, string, string]> = [
  [400, "BAD_REQUEST", "malformed HTTP request"],
  [403, "PERMISSION_DENIED", "forbidden"],
  [405, "METHOD_NOT_ALLOWED", "method not allowed"],
  [408, "REQUEST_TIMEOUT", "the request was not received in time"],
  [429, "REQUEST_LIMIT_EXCEEDED", "too many requests"],
  [500, "INTERNAL_ERROR", "gateway internal error"],
  [501, "NOT_IMPLEMENTED", "not implemented"],
  [502, "BAD_GATEWAY", "the model pod failed to answer"],
  // Only reached as a queue timeout (no-pod 503s are answered by the backend): rewritten to 429 in fe_public.
  [503, "REQUEST_LIMIT_EXCEEDED", "the request waited in the endpoint queue longer than its bound"],
  [504, "MODEL_TIMEOUT", "the model did not answer within the endpoint timeout"],
];

/**
 * `acl <name> var(txn.ep) -m str …` over as many lines as needed: HAProxy reads at most 64 words per line,
 * and ACL lines with the same name are ORed.
 */
function endpointAcl(name: string, endpoints: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < endpoints.length; i += 50) {
    lines.push(`    acl ${name} var(txn.ep) -m str ${endpoints.slice(i, i + 50).join(" ")}`);
  }
  return lines;
}

function renderGlobal(s: GatewaySettings): string {
  return [
    `global`,
    `    master-worker`,
    `    stats socket ${s.statsSocketPath} mode 600 level admin expose-fd listeners`,
    `    stats timeout 30s`,
    `    hard-stop-after ${s.hardStopAfterMs ?? 60_000}ms`,
    `    nbthread ${s.threads ?? DEFAULT_THREADS}`,
    `    log ${s.logTarget ?? "stdout format raw local0"}`,
    `    maxconn ${s.maxConnections ?? DEFAULT_MAX_CONNECTIONS}`,
    // Bodies up to bodyBufferBytes are received in full before a pod slot is taken (backend wait-for-body).
    `    tune.bufsize ${bufsizeFor(s.bodyBufferBytes ?? DEFAULT_BODY_BUFFER_BYTES)}`,
    ...(s.lowLatency ? [`    tune.sched.low-latency on`] : []),
  ].join("\n");
}

function renderDefaults(s: GatewaySettings): string {
  return [
    `defaults`,
    `    mode http`,
    `    log global`,
    `    timeout connect 2s`,
    `    timeout client 30s`,
    `    timeout server 60s`,
    `    timeout queue 1500ms`,
    `    timeout http-request ${s.clientRequestTimeoutMs ?? 10_000}ms`,
    `    timeout http-keep-alive 10s`,
    `    option http-keep-alive`,
    // Reloads lose nothing: idle keep-alive connections are closed after their next response, not cut.
    `    option idle-close-on-response`,
    `    http-reuse safe`,
    // A refused connection (pod just died) is retried once on another pod; a sent request is never retried.
    `    retries 1`,
    `    option redispatch 1`,
    ...HTTP_ERRORS.map(
      ([status, code, msg]) =>
        `    http-error status ${status} content-type application/json lf-string '${errorBody(status, code, msg, ',"request_id":"%[var(txn.rid)]"')}'`,
    ),
  ].join("\n");
}

/** Elements of an array `aud` claim that are compared with an issuer's audience. */
export const JWT_AUD_ELEMENTS = 8;

/**
 * JWT rules in two parts: `auth` (decode, verify, times, crit — independent of the endpoint, so they run before
 * the unknown-endpoint 404 and a caller without valid credentials learns nothing of which endpoints exist) and
 * `scope` (the endpoint accepts tokens, the endpoint claim).
 */
function jwtRules(s: GatewaySettings, jwtEndpoints: readonly string[]): { auth: string[]; scope: string[] } {
  if (s.jwtIssuers.length === 0) return { auth: [], scope: [] };
  const claim = s.jwtEndpointClaim ?? "endpoint";
  const skew = s.jwtClockSkewS ?? 60;
  const keyMax = s.keyMaxInFlight ?? DEFAULT_KEY_MAX_IN_FLIGHT;
  const q = (path: string, type = ""): string => `var(txn.jwt_payload),json_query('${path}'${type})`;
  // An issuer's audience matches `aud` as a string or as any of its first JWT_AUD_ELEMENTS array elements
  // (json_query reads scalars only): ACL lines of one name are ORed.
  const audAcls = s.jwtIssuers.flatMap((iss, i) => [
    `    acl jwt_aud_${i} var(txn.jwt_aud) -m str ${iss.audience}`,
    ...Array.from({ length: JWT_AUD_ELEMENTS }, (_, k) => `    acl jwt_aud_${i} var(txn.jwt_aud${k}) -m str ${iss.audience}`),
  ]);
  const issuerOk = (iss: JwtIssuer, i: number): string =>
    `{ var(txn.jwt_alg) -m str ${iss.alg} } { var(txn.jwt_iss) -m str ${iss.issuer} } jwt_aud_${i} { var(txn.bearer),jwt_verify(${iss.alg},"${iss.publicKeyPath}") -m int 1 }`;
  const auth = [
    // Header and payload are decoded once; claims are read from the decoded JSON.
    `    http-request set-var(txn.jwt_header) var(txn.bearer),field(1,.),ub64dec if is_jwt`,
    `    http-request set-var(txn.jwt_payload) var(txn.bearer),field(2,.),ub64dec if is_jwt`,
    `    http-request set-var(txn.jwt_alg) var(txn.jwt_header),json_query('$.alg') if is_jwt`,
    `    http-request set-var(txn.jwt_iss) ${q("$.iss")} if is_jwt`,
    `    http-request set-var(txn.jwt_aud) ${q("$.aud")} if is_jwt`,
    ...Array.from({ length: JWT_AUD_ELEMENTS }, (_, k) => `    http-request set-var(txn.jwt_aud${k}) ${q(`$.aud[${k}]`)} if is_jwt`),
    `    http-request set-var(txn.jwt_exp) ${q("$.exp", ",'int'")} if is_jwt`,
    `    http-request set-var(txn.jwt_nbf) ${q("$.nbf", ",'int'")} if is_jwt`,
    `    http-request set-var(txn.jwt_iat) ${q("$.iat", ",'int'")} if is_jwt`,
    `    http-request set-var(txn.jwt_ep) ${q(`$.${claim}`)} if is_jwt`,
    `    http-request set-var(txn.jwt_sub) ${q("$.sub")} if is_jwt`,
    `    http-request set-var(txn.now) date() if is_jwt`,
    // No header extension is understood, so a token that marks one critical is refused (RFC 7515 4.1.11).
    `    ${jsonReturn(401, "UNAUTHENTICATED", "token header has crit; no JWS extension is supported")} if is_jwt { var(txn.jwt_header) -m reg '"crit"[[:space:]]*:' }`,
    ...audAcls,
    ...s.jwtIssuers.map((iss, i) => `    http-request set-var(txn.jwt_ok) bool(true) if is_jwt ${issuerOk(iss, i)}`),
    `    ${jsonReturn(401, "UNAUTHENTICATED", "invalid token")} if is_jwt !{ var(txn.jwt_ok) -m bool }`,
    `    ${jsonReturn(401, "UNAUTHENTICATED", "token has expired or has no exp claim")} if is_jwt !{ var(txn.jwt_exp) -m found }`,
    `    ${jsonReturn(401, "UNAUTHENTICATED", "token has expired or has no exp claim")} if is_jwt { var(txn.jwt_exp),sub(txn.now) -m int lt 0 }`,
    `    ${jsonReturn(401, "UNAUTHENTICATED", "token is not valid yet (nbf)")} if is_jwt { var(txn.jwt_nbf) -m found } { var(txn.jwt_nbf),sub(txn.now) -m int gt ${skew} }`,
    `    ${jsonReturn(401, "UNAUTHENTICATED", "token was issued in the future (iat)")} if is_jwt { var(txn.jwt_iat) -m found } { var(txn.jwt_iat),sub(txn.now) -m int gt ${skew} }`,
  ];
  const scope = [
    ...endpointAcl("ep_jwt", jwtEndpoints),
    jwtEndpoints.length > 0
      ? `    ${jsonReturn(401, "UNAUTHENTICATED", "endpoint %[var(txn.ep)] does not accept tokens")} if is_jwt !ep_jwt`
      : `    ${jsonReturn(401, "UNAUTHENTICATED", "endpoint %[var(txn.ep)] does not accept tokens")} if is_jwt`,
    `    ${jsonReturn(403, "PERMISSION_DENIED", "token is not valid for endpoint %[var(txn.ep)]")} if is_jwt !{ var(txn.jwt_ep),strcmp(txn.ep) eq 0 }`,
    // Per-identity in-flight cap, as for API keys: the identity is issuer + subject (tokens without `sub` share
    // their issuer's), hashed so it fits the table's key length whatever the claims' lengths.
    `    http-request set-var(txn.jwt_ident) var(txn.jwt_iss),concat(/,txn.jwt_sub),sha2(256),hex if is_jwt`,
    `    http-request track-sc0 var(txn.jwt_ident) if is_jwt`,
    `    ${jsonReturn(429, "REQUEST_LIMIT_EXCEEDED", `the token subject has %[sc_trackers(0),sub(1)] requests in flight (limit ${keyMax})`, ` hdr retry-after ${s.retryAfterS ?? 1}`)} if is_jwt { sc_trackers(0) gt ${keyMax} }`,
  ];
  return { auth, scope };
}

/** API-key rules in two parts, like `jwtRules`: `auth` (the key exists: 401) and `scope` (endpoint, key scope, cap). */
function apiKeyRules(s: GatewaySettings, keyEndpoints: readonly string[], jwt: boolean): { auth: string[]; scope: string[] } {
  const notJwt = jwt ? " !is_jwt" : "";
  const ifNotJwt = jwt ? " if !is_jwt" : "";
  const keyMax = s.keyMaxInFlight ?? DEFAULT_KEY_MAX_IN_FLIGHT;
  const auth = [
    // The key's sha256 once; three map lookups: the key (401), its scope (403) and its in-flight cap.
    `    http-request set-var(txn.key_hash) var(txn.bearer),sha2(256),hex,lower${ifNotJwt}`,
    `    http-request set-var(txn.key_id) var(txn.key_hash),map(${s.apiKeyMapPath})${ifNotJwt}`,
    `    ${jsonReturn(401, "UNAUTHENTICATED", "invalid API key")} if${notJwt} !{ var(txn.key_id) -m found }`,
  ];
  const scope = [
    `    http-request set-var(txn.key_scope) var(txn.key_hash),concat(/,txn.ep),map(${s.apiKeyMapPath})${ifNotJwt}`,
    ...endpointAcl("ep_apikey", keyEndpoints),
    keyEndpoints.length > 0
      ? `    ${jsonReturn(401, "UNAUTHENTICATED", "endpoint %[var(txn.ep)] does not accept API keys")} if${notJwt} !ep_apikey`
      : `    ${jsonReturn(401, "UNAUTHENTICATED", "endpoint %[var(txn.ep)] does not accept API keys")} if${notJwt.length > 0 ? notJwt : " TRUE"}`,
    `    ${jsonReturn(403, "PERMISSION_DENIED", "API key %[var(txn.key_id)] may not call endpoint %[var(txn.ep)]")} if${notJwt} !{ var(txn.key_scope) -m found }`,
    // Per-key in-flight cap: the stick-table entry of the key id counts the requests holding it (sc_trackers).
    `    http-request set-var(txn.key_max) var(txn.key_hash),concat(.max),map(${s.apiKeyMapPath},${keyMax})${ifNotJwt}`,
    `    http-request track-sc0 var(txn.key_id) if { var(txn.key_id) -m found }`,
    `    ${jsonReturn(429, "REQUEST_LIMIT_EXCEEDED", "API key %[var(txn.key_id)] has %[sc_trackers(0),sub(1)] requests in flight (limit %[var(txn.key_max)])", ` hdr retry-after ${s.retryAfterS ?? 1}`)} if { var(txn.key_id) -m found } { sc_trackers(0),sub(txn.key_max) gt 0 }`,
  ];
  return { auth, scope };
}

/** Name of the per-client-address table (its own section: the frontend's table counts API keys). */
export const SOURCE_TABLE = "st_src";

/** Connection rules per client address (closed at once over either limit); none without `settings.perSource`. */
function perSourceLines(s: GatewaySettings): string[] {
  if (s.perSource === undefined) return [];
  return [
    `    tcp-request connection track-sc1 src table ${SOURCE_TABLE}`,
    `    tcp-request connection reject if { sc1_conn_cur(${SOURCE_TABLE}) gt ${s.perSource.maxConnections} }`,
    `    tcp-request connection reject if { sc1_conn_rate(${SOURCE_TABLE}) gt ${s.perSource.connectionsPer10s} }`,
  ];
}

function renderSourceTable(s: GatewaySettings): string[] {
  if (s.perSource === undefined) return [];
  return [[`backend ${SOURCE_TABLE}`, `    stick-table type ipv6 size 1m expire 60s store conn_cur,conn_rate(10s)`].join("\n")];
}

function renderPublicFrontend(s: GatewaySettings, endpoints: readonly GatewayEndpoint[]): string {
  const names = endpoints.map((e) => e.name);
  const jwt = s.jwtIssuers.length > 0;
  const retryAfter = s.retryAfterS ?? 1;
  const jwtR = jwtRules(s, endpoints.filter((e) => e.auth.jwt).map((e) => e.name));
  const keyR = apiKeyRules(s, endpoints.filter((e) => e.auth.apiKeys).map((e) => e.name), jwt);
  const lines = [
    `frontend fe_public`,
    // HTTP/1 only: HTTP/2 with prior knowledge (h2c) needs no Content-Length, on which the body limit is enforced.
    `    bind ${s.bindAddress}:${s.publicPort} proto h1`,
    ...perSourceLines(s),
    // Key id → requests in flight with that key (sc_trackers); entries are only references, no stored counters.
    `    stick-table type string len 128 size 100k expire 1h`,
    // A UUID v4 per request: the request id when the caller sent none, and the randomness of trace and span ids.
    `    unique-id-format %[uuid(4)]`,
    // One machine-readable line per request for the agent's reader (render-observe.ts, request-log.ts).
    logFormatLine(),
    `    http-request set-var(txn.rid) req.hdr(x-request-id) if { req.hdr(x-request-id) -m found } { req.hdr(x-request-id) -m reg ^[A-Za-z0-9._:-]{1,128}$ }`,
    `    http-request set-var(txn.rid) unique-id unless { var(txn.rid) -m found }`,
    `    http-request set-header x-request-id %[var(txn.rid)]`,
    `    http-after-response set-header x-request-id %[var(txn.rid)] if { var(txn.rid) -m found }`,
    ...traceLines(s),
    `    http-request return status 200 content-type application/json string '{"status":"OK"}' if { path /health } METH_GET`,
    `    ${jsonReturn(400, "BAD_REQUEST", `request headers are over ${MAX_HEADER_BYTES} bytes`)} if { req.hdrs,length gt ${MAX_HEADER_BYTES} }`,
    `    ${jsonReturn(400, "BAD_REQUEST", "an HTTP/1.1 request needs a Host header")} if { req.ver 1.1 } !{ req.hdr(host) -m found }`,
    // An absolute-form target (`POST http://host/serving-endpoints/…`) becomes origin-form: the pod gets a path.
    `    http-request set-uri %[pathq] unless { url_beg / }`,
    // HAProxy 2.6's parser lets a NUL byte through in a header value; nothing downstream should see one.
    `    ${jsonReturn(400, "BAD_REQUEST", "a header value holds a NUL byte")} if { req.hdrs -m reg '\\x00' }`,
    `    ${jsonReturn(417, "EXPECTATION_FAILED", "only Expect: 100-continue is supported")} if { req.hdr(expect) -m found } !{ req.hdr(expect) -m str -i 100-continue }`,
    `    acl ep_path path_reg ^/serving-endpoints/[a-z0-9-]+/(${PUBLIC_ROUTES.join("|")})$`,
    `    http-request set-var(txn.ep) path,field(3,/) if ep_path`,
    `    http-request set-var(txn.route) path,regsub(^/serving-endpoints/[a-z0-9-]+/,) if ep_path`,
    // OpenAI-compatible routes answer errors in OpenAI's shape (errorBody).
    `    http-request set-var(txn.openai) bool(true) if { var(txn.route) -m beg v1/ }`,
    // Credentials first: without valid ones a caller learns nothing of which endpoints or routes exist.
    `    http-request set-var(txn.bearer) http_auth_bearer`,
    `    ${jsonReturn(401, "UNAUTHENTICATED", "missing credentials; send Authorization: Bearer with an API key or token")} unless { var(txn.bearer) -m found }`,
    ...(jwt ? [`    acl is_jwt var(txn.bearer) -m reg ^[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+[.][A-Za-z0-9_-]+$`] : []),
    ...jwtR.auth,
    ...keyR.auth,
    `    ${jsonReturn(404, "ENDPOINT_NOT_FOUND", "no route for this path; use POST /serving-endpoints/NAME/invocations")} unless ep_path`,
    ...endpointAcl("ep_known", names),
    names.length > 0
      ? `    ${jsonReturn(404, "ENDPOINT_NOT_FOUND", "endpoint %[var(txn.ep)] does not exist")} unless ep_known`
      : `    ${jsonReturn(404, "ENDPOINT_NOT_FOUND", "endpoint %[var(txn.ep)] does not exist")}`,
    `    acl route_models var(txn.route) -m str v1/models`,
    `    ${jsonReturn(405, "METHOD_NOT_ALLOWED", "method %[method] is not allowed; use GET", " hdr allow GET")} if route_models !METH_GET`,
    `    ${jsonReturn(405, "METHOD_NOT_ALLOWED", "method %[method] is not allowed; use POST", " hdr allow POST")} unless METH_POST || route_models`,
    `    ${jsonReturn(411, "LENGTH_REQUIRED", "send the body with a Content-Length header")} if { req.hdr(transfer-encoding) -m found }`,
    ...jwtR.scope,
    ...keyR.scope,
    // Credentials never reach the model pod, nor do cookies or proxy credentials.
    `    http-request del-header authorization`,
    `    http-request del-header proxy-authorization`,
    `    http-request del-header cookie`,
    `    use_backend be_%[var(txn.ep)]`,
    `    http-after-response set-status 429 reason "Too Many Requests" if { status 503 } !{ var(txn.from_srv) -m bool } { var(txn.have_srv) -m bool }`,
    `    http-after-response set-header retry-after ${retryAfter} if { status 429 } !{ res.hdr(retry-after) -m found }`,
  ];
  return lines.join("\n");
}

function renderMetricsFrontend(s: GatewaySettings): string {
  return [
    `frontend fe_metrics`,
    `    bind ${s.bindAddress}:${s.metricsPort}`,
    `    no log`,
    `    http-request use-service prometheus-exporter if { path /metrics }`,
    `    http-request return status 404 content-type text/plain string 'not found'`,
  ].join("\n");
}

/** Renders the complete `haproxy.cfg`. Throws `GatewayConfigError` listing every invalid field. */
export function renderConfig(input: GatewayConfigInput): string {
  const { settings, endpoints } = input;
  assertValidGateway(settings, endpoints);
  const sorted = [...endpoints].sort((a, b) => a.name.localeCompare(b.name));
  const sections = [
    `# Rendered by autopilot-serving controller/src/gateway/render-config.ts; do not edit by hand.`,
    renderGlobal(settings),
    renderDefaults(settings),
    renderMetricsFrontend(settings),
    renderPublicFrontend(settings, sorted),
    ...renderSourceTable(settings),
    ...sorted.map((ep) => renderBackend(ep, settings.gatewayReplicas, settings.retryAfterS ?? 1, settings.clientRequestTimeoutMs ?? 10_000, input.runtime?.get(ep.name))),
  ];
  return sections.join("\n\n") + "\n";
}

export { backendName };
