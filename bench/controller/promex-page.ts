/**
 * Synthetic HAProxy promex `/metrics?scope=backend` pages for the benchmark and tests. The shape is copied
 * from a real page (a template captured from Debian's HAProxy 2.6.12, test/fixtures/haproxy/): every family's
 * `# HELP`/`# TYPE` lines and every sample line of one template backend are replayed for each generated backend,
 * so the page has the real exporter's families, order and size per backend (~79 lines, ~5 KB). The load
 * gauges and request counters carry the generated values; the rest keep the template's.
 */
import { readFileSync } from "node:fs";

/** Load of one backend (endpoint) on one gateway replica. */
export interface BackendLoad {
  /** HAProxy backend name, `be_<endpoint>`. */
  readonly proxy: string;
  /** In-flight + queued (HAProxy backend current_sessions includes the queue). */
  readonly currentSessions: number;
  readonly currentQueue: number;
  readonly requestsTotal: number;
  readonly responses2xxTotal: number;
  /** HAProxy's average total time of the last 1024 requests, s. @default template value */
  readonly totalTimeAvgS?: number;
  /** Average queue time of the last 1024 requests, s. @default template value */
  readonly queueTimeAvgS?: number;
}

interface Family {
  readonly header: readonly string[];
  readonly samples: readonly { readonly name: string; readonly rest: string; readonly value: string }[];
}

/** Default template: the captured page under load, relative to the repository root. */
export const DEFAULT_TEMPLATE_PATH = new URL("../../test/fixtures/haproxy/backend-scope-under-load.prom", import.meta.url);

/** Families and the sample lines of backend `templateProxy`, parsed from a captured page. */
export function parseTemplate(text: string, templateProxy = "be_ep1"): Family[] {
  const families: { header: string[]; samples: { name: string; rest: string; value: string }[] }[] = [];
  const marker = `{proxy="${templateProxy}"`;
  for (const line of text.split("\n")) {
    if (line.startsWith("# HELP ")) families.push({ header: [line], samples: [] });
    else if (line.startsWith("#")) families.at(-1)?.header.push(line);
    else {
      const at = line.indexOf(marker);
      if (at < 0) continue;
      const close = line.indexOf("}", at);
      families.at(-1)?.samples.push({ name: line.slice(0, at), rest: line.slice(at + marker.length, close), value: line.slice(close + 2) });
    }
  }
  return families;
}

let cachedTemplate: Family[] | undefined;

/** The default template, read once. */
export function defaultTemplate(): Family[] {
  cachedTemplate ??= parseTemplate(readFileSync(DEFAULT_TEMPLATE_PATH, "utf8"));
  return cachedTemplate;
}

function valueFor(name: string, rest: string, b: BackendLoad, fallback: string): string {
  switch (name) {
    case "haproxy_backend_current_sessions":
      return String(b.currentSessions);
    case "haproxy_backend_current_queue":
      return String(b.currentQueue);
    // The reader counts arrivals from sessions_total (2.6 counts http_requests_total at request end); a
    // steady synthetic load has the same value in both.
    case "haproxy_backend_sessions_total":
    case "haproxy_backend_http_requests_total":
      return String(b.requestsTotal);
    case "haproxy_backend_http_responses_total":
      return rest === ',code="2xx"' ? String(b.responses2xxTotal) : "0";
    case "haproxy_backend_total_time_average_seconds":
      return b.totalTimeAvgS === undefined ? fallback : String(b.totalTimeAvgS);
    case "haproxy_backend_queue_time_average_seconds":
      return b.queueTimeAvgS === undefined ? fallback : String(b.queueTimeAvgS);
    case "haproxy_backend_requests_denied_total":
    case "haproxy_backend_connection_errors_total":
      return "0";
    default:
      return fallback;
  }
}

/** Renders one page with every backend of `backends`, in the exporter's family-major order. */
export function renderBackendPage(backends: readonly BackendLoad[], template: readonly Family[] = defaultTemplate()): string {
  const parts: string[] = [];
  for (const f of template) {
    parts.push(...f.header);
    for (const b of backends) {
      for (const s of f.samples) parts.push(`${s.name}{proxy="${b.proxy}"${s.rest}} ${valueFor(s.name, s.rest, b, s.value)}`);
    }
  }
  parts.push("");
  return parts.join("\n");
}
