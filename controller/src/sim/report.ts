/**
 * Summary figures of one run, computed from its per-second series. Definitions (also in
 * docs/simulator.md):
 * - requests: arrivals during the scenario; served / rejected (429) / failed (5xx) partition them
 *   with `unfinished` (still queued or running at the end of the drain tail)
 * - p50Ms, p99Ms: end-to-end latency (queue + service) of served requests
 * - sloAttainment: requests served within slo.p99Ms / requests (429s and 5xx count as misses)
 * - replicaSeconds: ∫ scheduled pods (starting + ready + draining) dt over the scenario
 * - nodeSeconds: ∫ node slots held (in use, idle, being provisioned for pods waiting for a node) dt
 * - timeToAbsorbS: from the largest step up in offered load to the start of the first 30 s window
 *   with < 1% rejected+failed and p99 within the SLO; null without a step or when never absorbed
 * - peakReplicas: most starting + ready pods at once; peakUnschedulable: most unschedulable pods at once
 * - scaleEvents: changes of the desired replica count; directionChanges: up↔down reversals among them
 */
import { BUCKETS, quantile } from "./histogram.ts";
import type { Scenario } from "./scenario-types.ts";
import type { SimOutput } from "./simulate.ts";
import { largestStepUp } from "./traffic.ts";

export interface PolicyResult {
  readonly policy: string;
  readonly requests: number;
  readonly served: number;
  readonly rejected: number;
  readonly rejectedFraction: number;
  readonly failed: number;
  readonly unfinished: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly sloAttainment: number;
  readonly replicaSeconds: number;
  /** ∫ node slots held (in use, idle, being provisioned) dt: the node cost, warm pool included. */
  readonly nodeSeconds: number;
  readonly peakReplicas: number;
  /** Most pods unschedulable at once (no cluster capacity). */
  readonly peakUnschedulable: number;
  readonly timeToAbsorbS: number | null;
  readonly scaleEvents: number;
  readonly directionChanges: number;
  readonly directionChangesPer10Min: number;
  readonly finalTargetConcurrency: number;
  /** Wall-clock time of the run, ms (not deterministic). */
  readonly wallMs: number;
  /** CPU time (user + system) of the run, ms: the one-core cost even on a busy machine. */
  readonly cpuMs: number;
}

export const ABSORB_WINDOW_S = 30;

function sum(a: Float64Array, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < Math.min(to, a.length); i++) s += a[i]!;
  return s;
}

/** Seconds from `stepAtS` to the first absorbed 30 s window; null when none. */
export function timeToAbsorb(out: SimOutput, sc: Scenario, stepAtS: number): number | null {
  const sr = out.series;
  const end = Math.ceil(sc.durationS);
  const first = Math.floor(stepAtS);
  const w = new Float64Array(BUCKETS);
  let arr = 0;
  let bad = 0;
  let served = 0;
  const add = (s: number, sign: number): void => {
    arr += sign * sr.arrivals[s]!;
    bad += sign * (sr.rejected[s]! + sr.failed[s]!);
    served += sign * sr.served[s]!;
    const off = s * BUCKETS;
    for (let i = 0; i < BUCKETS; i++) w[i]! += sign * sr.hist[off + i]!;
  };
  for (let s = first; s < Math.min(end, first + ABSORB_WINDOW_S); s++) add(s, 1);
  for (let s = first; s + ABSORB_WINDOW_S <= end; s++) {
    if (s > first) {
      add(s - 1, -1);
      add(s + ABSORB_WINDOW_S - 1, 1);
    }
    const p99 = served > 0 ? quantile(w, 0.99, 0, served) : 0;
    if (bad < 0.01 * arr && p99 <= sc.slo.p99Ms) return Math.max(0, s - stepAtS);
  }
  return null;
}

export function summarize(policy: string, sc: Scenario, out: SimOutput, wallMs: number, cpuMs = wallMs): PolicyResult {
  const sr = out.series;
  const durS = Math.ceil(sc.durationS);
  const requests = sum(sr.arrivals);
  const served = sum(sr.served);
  const rejected = sum(sr.rejected);
  const failed = sum(sr.failed);
  const all = new Float64Array(BUCKETS);
  for (let s = 0; s < sr.length; s++) {
    const off = s * BUCKETS;
    for (let i = 0; i < BUCKETS; i++) all[i]! += sr.hist[off + i]!;
  }
  const p50 = quantile(all, 0.5, 0, served);
  const p99 = quantile(all, 0.99, 0, served);
  const step = largestStepUp(sc);
  let dirChanges = 0;
  let lastDir = 0;
  for (const e of out.scaleEvents) {
    const dir = Math.sign(e.to - e.from);
    if (dir !== 0 && lastDir !== 0 && dir !== lastDir) dirChanges++;
    if (dir !== 0) lastDir = dir;
  }
  return {
    policy,
    requests,
    served,
    rejected,
    rejectedFraction: requests > 0 ? rejected / requests : 0,
    failed,
    unfinished: out.unfinished,
    p50Ms: Number.isNaN(p50) ? null : round(p50, 2),
    p99Ms: Number.isNaN(p99) ? null : round(p99, 2),
    sloAttainment: requests > 0 ? sum(sr.good) / requests : 1,
    replicaSeconds: round(sum(sr.podSeconds, 0, durS), 1),
    nodeSeconds: round(sum(sr.nodes, 0, durS), 1),
    peakReplicas: out.peakReplicas,
    peakUnschedulable: Math.max(0, ...sr.unschedulable.subarray(0, durS)),
    timeToAbsorbS: step ? timeToAbsorb(out, sc, step.atS) : null,
    scaleEvents: out.scaleEvents.length,
    directionChanges: dirChanges,
    directionChangesPer10Min: round((dirChanges * 600) / sc.durationS, 2),
    finalTargetConcurrency: out.finalTargetConcurrency,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round(cpuMs),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A fixed-width text table of results. */
export function formatTable(results: readonly PolicyResult[]): string {
  const cols: [string, (r: PolicyResult) => string][] = [
    ["policy", (r) => r.policy],
    ["requests", (r) => String(r.requests)],
    ["served", (r) => String(r.served)],
    ["rejected", (r) => String(r.rejected)],
    ["rej%", (r) => (r.rejectedFraction * 100).toFixed(3)],
    ["failed", (r) => String(r.failed)],
    ["p50Ms", (r) => (r.p50Ms === null ? "-" : r.p50Ms.toFixed(1))],
    ["p99Ms", (r) => (r.p99Ms === null ? "-" : r.p99Ms.toFixed(1))],
    ["slo%", (r) => (r.sloAttainment * 100).toFixed(3)],
    ["replicaS", (r) => r.replicaSeconds.toFixed(0)],
    ["peak", (r) => String(r.peakReplicas)],
    ["unsch", (r) => String(r.peakUnschedulable)],
    ["absorbS", (r) => (r.timeToAbsorbS === null ? "-" : r.timeToAbsorbS.toFixed(0))],
    ["scaleEv", (r) => String(r.scaleEvents)],
    ["dirChg", (r) => String(r.directionChanges)],
    ["finalTC", (r) => String(r.finalTargetConcurrency >= 1e9 ? "inf" : r.finalTargetConcurrency)],
  ];
  const rows = [cols.map(([h]) => h), ...results.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}
