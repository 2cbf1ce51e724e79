/**
 * Parses HAProxy's built-in Prometheus exporter page (`/metrics?scope=backend`) into the stats of every backend.
 * The counter semantics the reader relies on are in metrics-reader.ts.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { BackendStats } from "./backend-stats.ts";

type Field =
  | "currentSessions" | "currentQueue" | "requestsTotal" | "responses" | "deniedTotal"
  | "connectionErrorsTotal" | "queueTimeAvgS" | "totalTimeAvgS" | "activeServers";

const FAMILIES: ReadonlyMap<string, Field> = new Map<string, Field>([
  ["haproxy_backend_current_sessions", "currentSessions"],
  ["haproxy_backend_current_queue", "currentQueue"],
  // Not `haproxy_backend_http_requests_total`: 2.6 counts that one when a request ends, so a slow request would
  // show up as an arrival only after it completed (checked on 2.6.12: 3 requests in flight, http_requests_total
  // 0, sessions_total 3). A backend session is one HTTP request (one stream), counted when it arrives.
  ["haproxy_backend_sessions_total", "requestsTotal"],
  ["haproxy_backend_http_responses_total", "responses"],
  ["haproxy_backend_requests_denied_total", "deniedTotal"],
  ["haproxy_backend_connection_errors_total", "connectionErrorsTotal"],
  ["haproxy_backend_queue_time_average_seconds", "queueTimeAvgS"],
  ["haproxy_backend_total_time_average_seconds", "totalTimeAvgS"],
  ["haproxy_backend_active_servers", "activeServers"],
]);

interface MutableStats {
  currentSessions: number; currentQueue: number; requestsTotal: number; responsesTotal: number;
  responses5xxTotal: number; responses4xxTotal: number; deniedTotal: number; connectionErrorsTotal: number;
  queueTimeAvgS: number | undefined; totalTimeAvgS: number | undefined; activeServers: number;
}

function emptyStats(): MutableStats {
  return {
    currentSessions: 0, currentQueue: 0, requestsTotal: 0, responsesTotal: 0, responses5xxTotal: 0, responses4xxTotal: 0,
    deniedTotal: 0, connectionErrorsTotal: 0, queueTimeAvgS: undefined, totalTimeAvgS: undefined, activeServers: 0,
  };
}

function record(acc: Map<string, MutableStats>, field: Field, proxy: string, code: string | undefined, value: number): void {
  let s = acc.get(proxy);
  if (s === undefined) { s = emptyStats(); acc.set(proxy, s); }
  if (field === "responses") {
    s.responsesTotal += value;
    if (code === "5xx") s.responses5xxTotal += value;
    if (code === "4xx") s.responses4xxTotal += value;
  } else {
    s[field] = value;
  }
}

function parseValue(raw: string): number {
  // Prometheus spells infinities "+Inf"/"-Inf"; Number() does not know them.
  if (raw === "+Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  return Number(raw);
}

const PROXY_LABEL = 'proxy="';

/**
 * Parses a promex page and returns the stats of every backend, keyed by HAProxy proxy name.
 *
 * Why not only a library: the maintained parser (parse-prometheus-text-format) needs ~1.3 s for the needed
 * families of a 10,000-backend page (measured by `npm run bench:controller`), several times the controller's
 * per-second budget. So lines in the exporter's exact plain form — `name{proxy="p"[,code="c"|,state="s"]} value`
 * with no escapes — are read by a narrow scanner, and every other line of a needed family (escaped label
 * values, timestamps, unusual spacing) is handed to the maintained parser. Tests check both paths agree.
 */
export function parseBackendPage(text: string): Map<string, BackendStats> {
  const acc = new Map<string, MutableStats>();
  const leftovers: string[] = [];
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = n;
    const first = text.charCodeAt(pos);
    if (first === 35 /* # */ && isUnneededFamilyHeader(text, pos, end)) {
      // HAProxy's exporter writes `# HELP`/`# TYPE` before each family and groups the family's samples after
      // them, so a family we don't read is skipped in one native search to the next comment line.
      const next = text.indexOf("\n#", end);
      pos = next < 0 ? n : next + 1;
      continue;
    }
    // Only `haproxy_backend_*` samples matter; other lines are skipped without slicing.
    if (first === 104 /* h */ && text.startsWith("haproxy_backend_", pos)) {
      scanLine(text, pos, end, acc, leftovers);
    }
    pos = end + 1;
  }
  if (leftovers.length > 0) parseWithLibrary(leftovers, acc);
  const out = new Map<string, BackendStats>();
  for (const [proxy, s] of acc) {
    out.set(proxy, {
      proxy,
      currentSessions: s.currentSessions,
      currentQueue: s.currentQueue,
      requestsTotal: s.requestsTotal,
      responsesTotal: s.responsesTotal,
      responses5xxTotal: s.responses5xxTotal,
      responses4xxTotal: s.responses4xxTotal,
      deniedTotal: s.deniedTotal,
      connectionErrorsTotal: s.connectionErrorsTotal,
      queueTimeAvgMs: s.queueTimeAvgS === undefined ? undefined : s.queueTimeAvgS * 1000,
      totalTimeAvgMs: s.totalTimeAvgS === undefined ? undefined : s.totalTimeAvgS * 1000,
      activeServers: s.activeServers,
    });
  }
  return out;
}

function scanLine(text: string, start: number, end: number, acc: Map<string, MutableStats>, leftovers: string[]): void {
  const brace = text.indexOf("{", start);
  if (brace < 0 || brace > end) return; // backend samples always carry a proxy label
  const field = FAMILIES.get(text.slice(start, brace));
  if (field === undefined) return;
  const close = text.indexOf("}", brace);
  if (close < 0 || close > end || !text.startsWith(PROXY_LABEL, brace + 1) || hasBackslash(text, brace, close)) {
    leftovers.push(text.slice(start, end));
    return;
  }
  const proxyStart = brace + 1 + PROXY_LABEL.length;
  const proxyEnd = text.indexOf('"', proxyStart);
  let code: string | undefined;
  if (text.charCodeAt(proxyEnd + 1) === 44 /* , */) {
    const eq = text.indexOf('="', proxyEnd);
    const valueEnd = text.indexOf('"', eq + 2);
    if (text.slice(proxyEnd + 2, eq) === "code") code = text.slice(eq + 2, valueEnd);
    if (valueEnd + 1 !== close) { leftovers.push(text.slice(start, end)); return; }
  } else if (proxyEnd + 1 !== close) {
    leftovers.push(text.slice(start, end));
    return;
  }
  const rest = text.slice(close + 1, end).trim();
  if (rest.length === 0 || rest.includes(" ")) { leftovers.push(text.slice(start, end)); return; }
  record(acc, field, text.slice(proxyStart, proxyEnd), code, parseValue(rest));
}

/** True for `# HELP <name> …` / `# TYPE <name> …` lines of a family this reader does not need. */
function isUnneededFamilyHeader(text: string, start: number, end: number): boolean {
  if (!text.startsWith("# HELP ", start) && !text.startsWith("# TYPE ", start)) return false;
  const nameStart = start + 7;
  let nameEnd = text.indexOf(" ", nameStart);
  if (nameEnd < 0 || nameEnd > end) nameEnd = end;
  return !FAMILIES.has(text.slice(nameStart, nameEnd));
}

function hasBackslash(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 92 /* \\ */) return true;
  return false;
}

function parseWithLibrary(lines: readonly string[], acc: Map<string, MutableStats>): void {
  for (const family of parsePrometheusTextFormat(lines.join("\n") + "\n")) {
    const field = FAMILIES.get(family.name);
    if (field === undefined) continue;
    for (const m of family.metrics) {
      const labels = ("labels" in m ? m.labels : undefined) ?? {};
      const proxy = labels["proxy"];
      if (proxy === undefined || !("value" in m)) continue;
      record(acc, field, proxy, labels["code"], parseValue(String(m.value)));
    }
  }
}
