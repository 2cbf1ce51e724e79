/**
 * The gateway agent's `GET /stats`: HAProxy's backend statistics as `show stat -1 2 -1` CSV, read from the
 * runtime socket on each request. The controller scrapes it every second instead of the Prometheus exporter
 * page: at 10,000 backends it is ~20× smaller, ~5× cheaper for HAProxy to write and 10–15× cheaper to parse
 * (docs/gateway.md). The agent passes HAProxy's answer through unchanged and appends its per-request counters
 * (request-stats-wire.ts); the controller's readers (stat-csv.ts, request-stats-wire.ts) parse both.
 */
import type { RuntimeApi } from "./runtime-api.ts";
import { isStatCsv, SHOW_BACKEND_STATS } from "./stat-csv.ts";

/** An HTTP answer (status, content type, body). */
export interface StatsAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The agent's route of this answer (on its `--health-port` HTTP server). */
export { STATS_PATH } from "../contract/names.ts";

export const STATS_CONTENT_TYPE = "text/csv; charset=utf-8";

/**
 * Runs `show stat -1 2 -1` on HAProxy's runtime socket: 200 with the CSV; 503 with the reason when HAProxy is
 * not up (socket missing or refusing, no answer in time) or answers something other than the CSV.
 */
export async function backendStatsAnswer(api: RuntimeApi, requestSection?: () => string): Promise<StatsAnswer> {
  let text: string;
  try {
    text = await api.send(SHOW_BACKEND_STATS);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { status: 503, contentType: "text/plain", body: `HAProxy is not up: its runtime API did not answer "${SHOW_BACKEND_STATS}" (${why})\n` };
  }
  if (!isStatCsv(text)) {
    return { status: 503, contentType: "text/plain", body: `HAProxy answered "${SHOW_BACKEND_STATS}" without the CSV header: ${JSON.stringify(text.slice(0, 200))}\n` };
  }
  // The agent's per-request counters follow the CSV as comment lines (request-stats-wire.ts).
  const extra = requestSection?.();
  return { status: 200, contentType: STATS_CONTENT_TYPE, body: extra === undefined ? text : `${text.endsWith("\n") ? text : `${text}\n`}${extra}` };
}
