/**
 * This machine's pod start law, measured when the fidelity benchmark starts, for the simulator arm: how long a
 * model-server process takes from spawn to serving (healthy and handed to the gateway) alone, and how much longer
 * when others start with it. The figure moves with the machine's state (a busy machine starts processes several
 * times slower than a quiet one), so it is measured in the same session as the real runs instead of fixed.
 *
 * `measureStartLaw` starts batches of processes through the local loop's own ProcessPool and launcher (the same
 * spawn, health poll and readiness hand-off the real arm uses) and times each; `fitStartLaw` is the pure fit.
 */
import { LocalDesiredStateSource } from "../../controller/src/local/local-source.ts";
import { ProcessPool, type ReplicaStart } from "../../controller/src/local/process-pool.ts";
import type { ReplicaLauncher } from "../../controller/src/local/replica-launchers.ts";

/** One batch: `batchSize` processes started at the same moment, and when each was serving. */
export interface StartBatch {
  readonly batchSize: number;
  /** Spawn to serving of each process, ms, ascending. */
  readonly readyAfterMs: readonly number[];
}

/** The simulator's law (`cluster.podStartS`, `cluster.podStartPerConcurrentS`) and what it was fitted to. */
export interface StartLaw {
  /** A process starting alone, s. */
  readonly podStartS: number;
  /** Added to every process of a batch per other process in it, s. */
  readonly podStartPerConcurrentS: number;
  readonly batches: readonly StartBatch[];
}

/**
 * Least squares over every process of every batch: start = podStartS + podStartPerConcurrentS × (batchSize − 1),
 * the simulator's law for pods created at one moment. The per-concurrent slope is clamped at 0 (a batch never
 * starts faster than one alone) and the intercept at 1 ms.
 *
 * Worked example: batches of 1 (110 ms, 106 ms) and of 7 (mean 382 ms) give podStartS 0.108 s and
 * podStartPerConcurrentS (0.382 − 0.108) / 6 = 0.0457 s.
 */
export function fitStartLaw(batches: readonly StartBatch[]): StartLaw {
  const points = batches.flatMap((b) => b.readyAfterMs.map((ms) => ({ others: b.batchSize - 1, startS: ms / 1000 })));
  if (points.length === 0) throw new Error("start law: no process start was measured");
  const sizes = new Set(batches.map((b) => b.batchSize));
  if (sizes.size < 2) throw new Error(`start law: needs batches of at least two sizes, got ${[...sizes].join(", ")}`);
  const meanX = points.reduce((a, p) => a + p.others, 0) / points.length;
  const meanY = points.reduce((a, p) => a + p.startS, 0) / points.length;
  const sxx = points.reduce((a, p) => a + (p.others - meanX) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.others - meanX) * (p.startS - meanY), 0);
  const slope = Math.max(0, sxy / sxx);
  const intercept = Math.max(0.001, meanY - slope * meanX);
  const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;
  return { podStartS: r4(intercept), podStartPerConcurrentS: r4(slope), batches };
}

export interface MeasureStartLawOptions {
  readonly launcher: ReplicaLauncher;
  /** Batch sizes, each started `rounds` times. @default [1, 7] (7: the largest scale-up the benchmark's spec allows, 1 → 8) */
  readonly batchSizes?: readonly number[];
  /** @default 2 */
  readonly rounds?: number;
  /** Pause after a batch is stopped, so the next starts on a settled machine, ms. @default 1000 */
  readonly settleMs?: number;
}

/** Starts each batch through a ProcessPool, times every process from spawn to serving, stops the batch. */
export async function measureStartLaw(o: MeasureStartLawOptions): Promise<StartBatch[]> {
  const batches: StartBatch[] = [];
  const sizes = o.batchSizes ?? [1, 7];
  const rounds = o.rounds ?? 2;
  for (let round = 0; round < rounds; round++) {
    for (const batchSize of sizes) {
      const pool = new ProcessPool({ endpoint: "start-law", source: new LocalDesiredStateSource(), launcher: o.launcher, drained: () => true, log: () => undefined });
      const deadlineMs = Date.now() + o.launcher.startTimeoutMs + 1000;
      pool.scaleTo(batchSize);
      while (pool.starts.length < batchSize && Date.now() < deadlineMs) await new Promise((r) => setTimeout(r, 5));
      await pool.close();
      if (pool.starts.length < batchSize) throw new Error(`start law: ${batchSize - pool.starts.length} of ${batchSize} processes (${o.launcher.label}) were not serving within ${o.launcher.startTimeoutMs} ms`);
      batches.push({ batchSize, readyAfterMs: pool.starts.map((s) => s.readyAfterMs).sort((a, b) => a - b) });
      await new Promise((r) => setTimeout(r, o.settleMs ?? 1000));
    }
  }
  return batches;
}

/**
 * The batches of a run's replica starts: replicas created within `withinMs` of the batch's first (one scale-up
 * decision) form one batch.
 */
export function startBatches(starts: readonly ReplicaStart[], withinMs = 50): StartBatch[] {
  const sorted = [...starts].sort((a, b) => a.startedAtMs - b.startedAtMs);
  const groups: ReplicaStart[][] = [];
  for (const s of sorted) {
    const last = groups.at(-1);
    if (last !== undefined && s.startedAtMs - (last[0] as ReplicaStart).startedAtMs <= withinMs) last.push(s);
    else groups.push([s]);
  }
  return groups.map((g) => ({ batchSize: g.length, readyAfterMs: g.map((s) => s.readyAfterMs).sort((a, b) => a - b) }));
}

/** "7 at once: mean 382 ms (14 starts); …", by batch size. */
export function batchesText(batches: readonly StartBatch[]): string {
  const bySize = new Map<number, number[]>();
  for (const b of [...batches].sort((x, y) => x.batchSize - y.batchSize)) bySize.set(b.batchSize, [...(bySize.get(b.batchSize) ?? []), ...b.readyAfterMs]);
  return [...bySize].map(([size, ms]) => `${size} at once: mean ${(ms.reduce((a, x) => a + x, 0) / ms.length).toFixed(0)} ms (${ms.length} starts)`).join("; ");
}

/** `--start-law <alone s>,<per other s>`: a law pinned instead of measured. */
export function parseStartLaw(text: string): Pick<StartLaw, "podStartS" | "podStartPerConcurrentS"> {
  const parts = text.split(",").map((x) => Number(x.trim()));
  const [alone, perOther] = parts;
  if (parts.length !== 2 || alone === undefined || perOther === undefined || !(alone > 0 && alone <= 60) || !(perOther >= 0 && perOther <= 60)) {
    throw new Error(`--start-law: must be "<alone s>,<per other s>" with alone in (0, 60] and per other in [0, 60], got "${text}"`);
  }
  return { podStartS: alone, podStartPerConcurrentS: perOther };
}

/** One line for the report: the fitted law and the batches it came from. */
export function startLawText(law: StartLaw): string {
  return `${law.podStartS.toFixed(3)} s alone + ${law.podStartPerConcurrentS.toFixed(3)} s per other process starting with it (${batchesText(law.batches)})`;
}
