/**
 * One line of live terminal state per second for `npm run dev`.
 */
import type { EndpointSample } from "../engine/types.ts";
import type { SecondRecord } from "./run-report.ts";

const ms = (v: number | undefined): string => (v === undefined ? "   -" : `${v.toFixed(0).padStart(4)}`);

/** `[ 12s] load 320/s | replicas 3 ready +1 starting (desired 4) | target 4 | in-flight 9 queued 0 | qps 318 | p99 41 ms | 429 0 | failed 0 | ScaleUp/Hold` */
export function formatStatus(r: SecondRecord, s: EndpointSample): string {
  const qps = s.intervalMs ? (s.completions * 1000) / s.intervalMs : s.completions;
  return [
    `[${String(r.tS + 1).padStart(4)}s]`,
    `load ${String(r.offered).padStart(4)}/s`,
    `| replicas ${r.readyReplicas} ready${r.startingReplicas > 0 ? ` +${r.startingReplicas} starting` : ""} (desired ${r.desiredReplicas})`,
    `| target ${r.targetConcurrency}`,
    `| in-flight ${String(r.inFlight).padStart(3)} queued ${String(r.queued).padStart(3)}`,
    `| qps ${qps.toFixed(0).padStart(4)}`,
    `| p99 ${ms(r.gatewayP99Ms)} ms`,
    `| 429 ${String(s.rejections).padStart(3)}`,
    `| failed ${r.failed}`,
    `| ${r.reason}`,
  ].join(" ");
}
