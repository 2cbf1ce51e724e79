/**
 * Per-second records of a local run and the figures its report gives (pure).
 */
import { percentile } from "./access-log.ts";
import type { LoadPhase } from "./load.ts";

/** What one second of a local run looked like. */
export interface SecondRecord {
  /** Seconds since the start of the load. */
  readonly tS: number;
  /** Scheduled client rate (req/s). */
  readonly offered: number;
  /** Client side: requests sent in this second and how they were answered. */
  readonly sent: number;
  readonly ok: number;
  readonly rejected: number;
  readonly failed: number;
  readonly clientP99Ms: number | undefined;
  /** Gateway side (metrics reader + access log). */
  readonly inFlight: number;
  readonly queued: number;
  readonly gatewayP99Ms: number | undefined;
  readonly desiredReplicas: number;
  readonly readyReplicas: number;
  readonly startingReplicas: number;
  readonly targetConcurrency: number;
  readonly reason: string;
}

/** A fault injected during the run. */
export interface KillEvent {
  readonly tS: number;
  /** The load generator's second (the one requests are booked to by send time) the kill fell in. */
  readonly loadSecond: number;
  /** Wall-clock time of the kill, ms. */
  readonly atMs: number;
  readonly podId: string;
  /** Requests in flight on the killed pod at the gateway just before the kill. */
  readonly inFlightOnPod: number;
  /** Seconds until ready replicas were back at the desired count (undefined: not within the run). */
  replacedAfterS?: number;
  /** The killed pod's slot (`be_x/podK`). */
  readonly slot: string;
  /** Gateway access log, from the kill to the end of the run: 5xx answered by the killed pod's slot / by others. */
  failedOnPod?: number;
  failedElsewhere?: number;
}

/** The figures of one run. */
export interface RunReport {
  readonly lines: string[];
  readonly stepRejectionsStopS: number | undefined;
  readonly stepP99Ms: number | undefined;
  readonly scaleDownAfterDropS: number | undefined;
  readonly failedTotal: number;
}

function phaseStarts(phases: readonly LoadPhase[]): number[] {
  const starts: number[] = [];
  let t = 0;
  for (const p of phases) {
    starts.push(t);
    t += p.durationS;
  }
  return starts;
}

/**
 * Summarises a run: the step (first phase at least 2× the previous rate), when 429s stopped after it, p99 of the
 * step's last 10 s vs the SLO, when replicas first fell after the drop (the next lower phase) vs the down-window,
 * and the kill figures.
 */
export function summariseRun(
  records: readonly SecondRecord[],
  phases: readonly LoadPhase[],
  o: { sloP99Ms: number; downWindowS: number; kills: readonly KillEvent[] },
): RunReport {
  const lines: string[] = [];
  const starts = phaseStarts(phases);
  const stepIdx = phases.findIndex((p, i) => i > 0 && p.rate >= 2 * (phases[i - 1]?.rate ?? Infinity));
  let stepRejectionsStopS: number | undefined;
  let stepP99Ms: number | undefined;
  let scaleDownAfterDropS: number | undefined;
  const failedTotal = records.reduce((a, r) => a + r.failed, 0);
  const sentTotal = records.reduce((a, r) => a + r.sent, 0);
  const rejectedTotal = records.reduce((a, r) => a + r.rejected, 0);
  lines.push(`requests sent ${sentTotal}, 2xx ${records.reduce((a, r) => a + r.ok, 0)}, 429 ${rejectedTotal}, failed (5xx or socket error) ${failedTotal}`);
  if (stepIdx > 0) {
    const from = starts[stepIdx] as number;
    const to = from + (phases[stepIdx] as LoadPhase).durationS;
    const step = records.filter((r) => r.tS >= from && r.tS < to);
    const before = records.filter((r) => r.tS < from);
    const withRejects = step.filter((r) => r.rejected > 0);
    const last = withRejects[withRejects.length - 1];
    stepRejectionsStopS = last === undefined ? 0 : last.tS + 1 - from;
    const tail = step.filter((r) => r.tS >= to - 10);
    const tailTimes = tail.flatMap((r) => (r.clientP99Ms === undefined ? [] : [r.clientP99Ms]));
    stepP99Ms = tailTimes.length > 0 ? Math.max(...tailTimes) : undefined;
    lines.push(
      `step at ${from} s: ${(phases[stepIdx - 1] as LoadPhase).rate} → ${(phases[stepIdx] as LoadPhase).rate} req/s; ` +
        `replicas ${before[before.length - 1]?.readyReplicas ?? "?"} → max ${Math.max(0, ...step.map((r) => r.readyReplicas))} ready; ` +
        `429s in the step: ${withRejects.reduce((a, r) => a + r.rejected, 0)}, last one ${stepRejectionsStopS} s after the step (criterion ≤ 30 s)`,
    );
    lines.push(
      `p99 (client, 2xx) over the step's last 10 s: worst 1 s p99 ${stepP99Ms?.toFixed(0) ?? "n/a"} ms vs SLO ${o.sloP99Ms} ms` +
        ` → ${stepP99Ms !== undefined && stepP99Ms <= o.sloP99Ms ? "within" : "NOT within"} the SLO`,
    );
    const dropIdx = phases.findIndex((p, i) => i > stepIdx && p.rate < (phases[i - 1]?.rate ?? 0));
    if (dropIdx > 0) {
      const dropAt = starts[dropIdx] as number;
      const peak = records.filter((r) => r.tS < dropAt).at(-1)?.desiredReplicas ?? 0;
      const fell = records.find((r) => r.tS >= dropAt && r.desiredReplicas < peak);
      scaleDownAfterDropS = fell === undefined ? undefined : fell.tS - dropAt;
      const steps: string[] = [];
      let last = peak;
      for (const r of records.filter((x) => x.tS >= dropAt)) {
        if (r.desiredReplicas !== last) steps.push(`${last}→${r.desiredReplicas} at +${r.tS - dropAt} s`);
        last = r.desiredReplicas;
      }
      const low = records.at(-1)?.desiredReplicas ?? peak;
      const reachedLow = records.find((r) => r.tS >= dropAt && r.desiredReplicas === low && low < peak);
      lines.push(
        `load drop at ${dropAt} s: desired replicas ${peak} at the drop; ` +
          (steps.length === 0 ? `no scale-down within the run` : `${steps.join(", ")}`) +
          (reachedLow !== undefined ? `; the low-load count ${low} reached ${reachedLow.tS - dropAt} s after the drop` : "") +
          ` (engine down-window ${o.downWindowS} s: each scale-down goes to the largest per-cycle recommendation of the last ${o.downWindowS} s)`,
      );
    }
  }
  for (const k of o.kills) {
    const around = records.filter((r) => r.tS >= k.tS - 1 && r.tS <= k.tS + 2);
    lines.push(
      `kill at ${k.tS} s of ${k.podId} (${k.inFlightOnPod} requests in flight on it at the gateway just before): ` +
        `${around.reduce((a, r) => a + r.failed, 0)} failed requests (client side) around the kill; gateway log: ` +
        `${k.failedOnPod ?? "?"} failed on the killed pod's slot ${k.slot}, ${k.failedElsewhere ?? "?"} on other slots; ` +
        (k.replacedAfterS === undefined ? "not replaced within the run" : `replaced (ready count restored) after ${k.replacedAfterS} s`),
    );
  }
  return { lines, stepRejectionsStopS, stepP99Ms, scaleDownAfterDropS, failedTotal };
}

/** p99 of one second's client latencies. */
export function secondP99(latenciesMs: readonly number[]): number | undefined {
  return percentile([...latenciesMs].sort((a, b) => a - b), 99);
}
