/**
 * Per-tick traces of the engine in both arms of the fidelity benchmark (`--trace-out FILE`): what the engine
 * was given (the newest metrics sample: in-flight, queued, arrivals, completions, service and queue time,
 * p50/p99, over-objective, the pods it saw) and what it did (the decision with its reasons), one JSON object
 * per line, on one clock: seconds since the arm's start. Diff the two arms' lines of one shape tick by tick.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import type { DriverTick } from "../../controller/src/engine/driver.ts";

/** One trace line. Times are seconds since the arm's start, rounded to ms. */
export interface TraceLine {
  readonly shape: string;
  readonly arm: "sim" | "real";
  /** When the tick ran. */
  readonly tS: number;
  /** When the newest sample was taken (undefined: none yet). */
  readonly sampleAtS: number | undefined;
  readonly sample: Record<string, number | undefined> | undefined;
  readonly state: { readonly desired: number; readonly ready: number; readonly starting: number; readonly target: number };
  /** False when the driver skipped the call (nothing could change). */
  readonly decided: boolean;
  /** Real arm: the load generator's count of the requests sent in the second the sample covers, by how they were answered. */
  readonly client?: { readonly sent: number; readonly ok: number; readonly rejected: number; readonly failed: number };
  readonly decision?: {
    readonly replicas: number;
    readonly replicasReason: string;
    readonly replicasMessage: string;
    readonly target: number;
    readonly concurrencyReason: string;
    readonly concurrencyMessage: string;
  };
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const opt = (x: number | undefined): number | undefined => (x === undefined ? undefined : r3(x));

/** The trace line of one driver tick; `zeroMs` is the arm's start on the tick's clock. */
export function traceLine(shape: string, arm: "sim" | "real", zeroMs: number, t: DriverTick, client?: TraceLine["client"]): TraceLine {
  const s = t.sample;
  const pods = s?.pods;
  const ready = pods?.filter((p) => p.ready);
  const mean = (k: "cpuUtil" | "memoryUtil"): number | undefined => {
    const v = (ready ?? []).map((p) => p[k]).filter((x): x is number => x !== undefined);
    return v.length > 0 ? r3(v.reduce((a, b) => a + b, 0) / v.length) : undefined;
  };
  const d = t.decision;
  return {
    shape,
    arm,
    tS: r3((t.nowMs - zeroMs) / 1000),
    sampleAtS: s === undefined ? undefined : r3((s.atMs - zeroMs) / 1000),
    sample: s === undefined ? undefined : {
      intervalMs: opt(s.intervalMs), inFlight: s.inFlight, queued: s.queued, arrivals: s.arrivals, completions: s.completions,
      rejections: s.rejections, errors: s.errors, serviceTimeMs: opt(s.serviceTimeMs), queueTimeMs: opt(s.queueTimeMs),
      latencyP50Ms: opt(s.latencyP50Ms), latencyP99Ms: opt(s.latencyP99Ms), overObjective: s.overObjective,
      podsListed: pods?.length, podsReady: ready?.length, cpuUtil: mean("cpuUtil"), memoryUtil: mean("memoryUtil"),
    },
    state: { desired: t.state.desiredReplicas, ready: t.state.readyReplicas, starting: t.state.startingReplicas, target: t.state.targetConcurrency },
    decided: d !== undefined,
    ...(client !== undefined ? { client } : {}),
    ...(d !== undefined ? {
      decision: {
        replicas: d.desiredReplicas, replicasReason: d.replicasReason, replicasMessage: d.replicasMessage,
        target: d.targetConcurrency, concurrencyReason: d.concurrencyReason, concurrencyMessage: d.concurrencyMessage,
      },
    } : {}),
  };
}

/** Appends trace lines to a JSONL file (created empty by `start`). */
export class TraceFile {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
    writeFileSync(path, "");
  }

  write(lines: readonly TraceLine[]): void {
    if (lines.length > 0) appendFileSync(this.#path, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  }
}
