/**
 * Synthetic HAProxy `show stat -1 2 -1` CSV pages (what the gateway agent's `GET /stats` serves) for the
 * benchmark and tests. The shape is copied from a real answer (captured from Debian's HAProxy 2.6.12,
 * test/fixtures/haproxy/show-stat-under-load.csv): its header line, and one template backend row replayed for
 * each generated backend, so the page has the real columns, order and size per backend (~290 bytes). The load
 * gauges and request counters carry the generated values (as promex-page.ts does for the exporter page); the
 * rest keep the template's.
 */
import { readFileSync } from "node:fs";
import type { BackendLoad } from "./promex-page.ts";

/** Header line and the template backend row split into fields. */
export interface CsvTemplate {
  readonly header: string;
  readonly fields: readonly string[];
  /** Column index by header name. */
  readonly index: ReadonlyMap<string, number>;
}

/** Default template: the captured answer under load, relative to the repository root. */
export const DEFAULT_CSV_TEMPLATE_PATH = new URL("../../test/fixtures/haproxy/show-stat-under-load.csv", import.meta.url);

/** The header and the row of backend `templateProxy` from a captured `show stat` answer. */
export function parseCsvTemplate(text: string, templateProxy = "be_ep1"): CsvTemplate {
  const lines = text.split("\n");
  const header = lines[0] ?? "";
  const row = lines.find((l) => l.startsWith(`${templateProxy},BACKEND,`));
  if (!header.startsWith("# pxname,") || row === undefined) {
    throw new Error(`stat CSV template: needs a "# pxname," header and a ${templateProxy} BACKEND row`);
  }
  const index = new Map<string, number>();
  header.slice(2).split(",").forEach((name, i) => { if (!index.has(name)) index.set(name, i); });
  return { header, fields: row.split(","), index };
}

let cached: CsvTemplate | undefined;

/** The default template, read once. */
export function defaultCsvTemplate(): CsvTemplate {
  cached ??= parseCsvTemplate(readFileSync(DEFAULT_CSV_TEMPLATE_PATH, "utf8"));
  return cached;
}

/** Renders one `show stat -1 2 -1` answer with a BACKEND row per entry of `backends`. */
export function renderStatCsvPage(backends: readonly BackendLoad[], template: CsvTemplate = defaultCsvTemplate()): string {
  const at = (name: string): number => {
    const i = template.index.get(name);
    if (i === undefined) throw new Error(`stat CSV template: no column ${name}`);
    return i;
  };
  const cols = {
    pxname: at("pxname"), qcur: at("qcur"), scur: at("scur"), stot: at("stot"), reqTot: at("req_tot"), lbtot: at("lbtot"),
    hrsp2xx: at("hrsp_2xx"), hrsp4xx: at("hrsp_4xx"), dreq: at("dreq"), econ: at("econ"), qtime: at("qtime"), ttime: at("ttime"),
  };
  const row = [...template.fields];
  const parts: string[] = [template.header];
  for (const b of backends) {
    row[cols.pxname] = b.proxy;
    row[cols.qcur] = String(b.currentQueue);
    row[cols.scur] = String(b.currentSessions);
    // The reader counts arrivals from stot; a steady synthetic load has the same value in req_tot and lbtot.
    row[cols.stot] = row[cols.reqTot] = row[cols.lbtot] = String(b.requestsTotal);
    row[cols.hrsp2xx] = String(b.responses2xxTotal);
    row[cols.hrsp4xx] = row[cols.dreq] = row[cols.econ] = "0";
    if (b.queueTimeAvgS !== undefined) row[cols.qtime] = String(Math.round(b.queueTimeAvgS * 1000));
    if (b.totalTimeAvgS !== undefined) row[cols.ttime] = String(Math.round(b.totalTimeAvgS * 1000));
    parts.push(row.join(","));
  }
  // HAProxy ends the answer with an empty line.
  parts.push("", "");
  return parts.join("\n");
}
