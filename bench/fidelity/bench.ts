/**
 * `npm run bench:fidelity [-- --shapes step,spike,ramp] [--runs 1] [--time-scale 1] [--sim-only] [--start-law ALONE,PER_OTHER] [--trace-out FILE] [--write-docs | --out FILE]`
 * The same load shapes through the real loop (`npm run dev`'s machinery: real HAProxy, real model-server
 * processes, the engine through the shared driver) and through the simulator with this machine's measured
 * parameters, side by side: replica-seconds, 429s, time to capacity (from the step to the last 429 of the high
 * phase) and the target-concurrency trajectory. Goals: replica-seconds within 10%, 429s within 15%, time to
 * capacity within 1 s, the same target trajectory. The CPU the rest of the machine used during each real run is
 * reported; a run where other processes used more than 0.2 cores is flagged (its figures are noise).
 *
 * Simulator parameters (docs/simulator.md "Fidelity"): a model process is I/O-like, 103 ms flat up to 16 in flight;
 * the pod start law is measured on this machine before each shape (start-law.ts: processes started alone and seven
 * at once through the real arm's ProcessPool and launcher), or pinned with `--start-law`; serving processes slow by
 * ~4% per starting one; gateway queue 1000 ms / 200.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { Command } from "commander";
import { validateEndpointSpec, validateEngineConfig } from "../../controller/src/engine/index.ts";
import type { DriverTick } from "../../controller/src/engine/driver.ts";
import type { EndpointSpec } from "../../controller/src/engine/types.ts";
import type { LoadPhase, LoadSecond } from "../../controller/src/local/load.ts";
import { startLocalRun } from "../../controller/src/local/local-run.ts";
import { exampleModelLauncher } from "../../controller/src/local/replica-launchers.ts";
import { ApaPolicy } from "../../controller/src/sim/policies/apa.ts";
import { prepareScenario, runPolicy } from "../../controller/src/sim/run.ts";
import { parseScenario } from "../../controller/src/sim/scenario.ts";
import { processTreeCpuMs, QUIET_OTHER_CORES, startMachineLoad } from "../machine-load.ts";
import { emitReport, HAPROXY, reportOptions, requirePrerequisites } from "../bench-cli.ts";
import { allMet, figures, goals, trajectoryText, TRAJECTORY_TOLERANCE_S, type ArmFigures, type Goals } from "./figures.ts";
import { batchesText, fitStartLaw, measureStartLaw, parseStartLaw, startBatches, startLawText, type StartLaw } from "./start-law.ts";
import { traceLine, TraceFile, type TraceLine } from "./trace.ts";

const SHAPES: Record<string, readonly LoadPhase[]> = {
  step: [{ rate: 10, durationS: 20 }, { rate: 150, durationS: 60 }, { rate: 10, durationS: 60 }],
  spike: [{ rate: 5, durationS: 20 }, { rate: 250, durationS: 30 }, { rate: 5, durationS: 60 }],
  ramp: [20, 65, 110, 155, 200, 200, 155, 110, 65, 20, 20, 20].map((rate) => ({ rate, durationS: 10 })),
};

const SPEC: EndpointSpec = {
  concurrency: { min: 1, max: 16 },
  replicas: { min: 1, max: 8 },
  provisionedConcurrency: 0,
  scaleToZero: false,
  runtime: "mlflow",
  sloP99Ms: 250,
  initialTargetConcurrency: 4,
};
const DOWN_WINDOW_MS = 30_000;
/** The example model server as both arms' model: ~1.3 ms of CPU and 101.7 ms of waiting per request. */
const LAUNCHER = exampleModelLauncher(["--cpu-ms", "1.3", "--sleep-ms", "101.7"]);
const DOC = "docs/benchmarks/fidelity.md";

function simulated(phases: readonly LoadPhase[], law: Pick<StartLaw, "podStartS" | "podStartPerConcurrentS">, trace?: TraceLine[], shape = ""): ArmFigures {
  let until = 0;
  // the local loop's load generator sends on a schedule, evenly spaced (load.ts): uniform arrivals
  const traffic = phases.map((p) => ({ untilS: (until += p.durationS), qps: p.rate, arrivals: "uniform" }));
  const sc = parseScenario(
    {
      name: "fidelity",
      durationS: until,
      seed: 1,
      traffic,
      model: { kind: "io", latencyMs: 103, maxInFlight: 16, jitter: 0.05, cpuPerRequestCores: 0.013 },
      cluster: { podStartS: law.podStartS, podStartPerConcurrentS: law.podStartPerConcurrentS, startSlowdownPerPod: 0.04, warmPoolPods: 16, nodeStartS: 90, maxPods: 16 },
      slo: { p99Ms: SPEC.sloP99Ms, queueTimeoutMs: 1000 },
      gateway: { maxQueue: 200 },
      endpoint: { concurrency: SPEC.concurrency, replicas: SPEC.replicas, initialTargetConcurrency: 4, initialReplicas: 1 },
      // the local loop's reader: the gateway's per-request timings, and CPU alone from /proc every second
      signals: { mode: "gateway", podMetricsIntervalS: 1, podSignals: ["cpuUtil"] },
      engine: { scaleDownWindowMs: DOWN_WINDOW_MS },
    },
    process.cwd(),
    "fidelity",
  );
  const policy = new ApaPolicy(sc, undefined, "apa", trace === undefined ? undefined : (t) => trace.push(traceLine(shape, "sim", 0, t)));
  const out = runPolicy(prepareScenario(sc), policy).output.series;
  const n = until;
  const at = (a: Float64Array) => Array.from(a.subarray(0, n));
  return figures(phases, at(out.podSeconds), at(out.rejected), at(out.targetConcurrency), at(out.failed));
}

async function real(phases: readonly LoadPhase[], trace?: TraceLine[], shape = ""): Promise<RealRun> {
  const ticks: DriverTick[] = [];
  const meter = startMachineLoad();
  const c0 = processTreeCpuMs();
  const run = await startLocalRun({
    endpoint: "fidelity", apiKey: "fidelity-key", spec: validateEndpointSpec(SPEC), engineConfig: validateEngineConfig({ scaleDownWindowMs: DOWN_WINDOW_MS }),
    cpuMs: 1.3, sleepMs: 101.7, launcher: LAUNCHER, queueTimeoutMs: 1000, maxQueue: 200, phases, onNotice: () => undefined,
    ...(trace !== undefined ? { trace: (t: DriverTick) => ticks.push(t) } : {}),
  });
  await run.loadDone;
  await new Promise((r) => setTimeout(r, 2000));
  // this process and its children (HAProxy, the model servers) are the benchmarked work: the rest is other load
  const c1 = processTreeCpuMs();
  const load = meter.stop(c0 !== undefined && c1 !== undefined ? c1 - c0 : 0);
  run.report();
  const recs = run.records;
  // the scale-ups' starts (the replicas before the clock started are the initial ones)
  const starts = startBatches(run.pool.starts.filter((st) => st.startedAtMs >= run.startedAtMs));
  await run.stop();
  const byS = new Map(recs.map((r) => [r.tS, r]));
  for (const t of ticks) {
    // the tick at k s ends the load's second k − 1 (its record)
    const l = run.loadSeconds[Math.round((t.nowMs - run.startedAtMs) / 1000) - 1];
    trace?.push(traceLine(shape, "real", run.startedAtMs, t, l === undefined ? undefined : { sent: l.sent, ok: l.ok, rejected: l.rejected, failed: l.failed }));
  }
  const n = phases.reduce((a, p) => a + p.durationS, 0);
  // Second s of the run is governed by what the tick at s decided: the record of second s − 1 (a record holds the
  // state after its tick's decision), as the simulator's series hold the state in force during each second. The
  // first second runs on the initial state; a second without a record (a tick delayed on a busy machine) repeats
  // the one before it.
  const inForce = (f: (r: (typeof recs)[number]) => number, initial: number) => {
    let last = initial;
    return Array.from({ length: n }, (_, s) => {
      const r = byS.get(s - 1);
      if (r !== undefined) last = f(r);
      return last;
    });
  };
  // answers from the load generator's own books, every second (a tick a stalled machine skipped has no record)
  const client = (f: (l: LoadSecond) => number) => Array.from({ length: n }, (_, s) => { const l = run.loadSeconds[s]; return l === undefined ? 0 : f(l); });
  const initialTarget = SPEC.initialTargetConcurrency ?? SPEC.concurrency.min;
  return {
    figures: figures(phases, inForce((r) => r.readyReplicas + r.startingReplicas, SPEC.replicas.min), client((r) => r.rejected), inForce((r) => r.targetConcurrency, initialTarget), client((r) => r.failed)),
    load: load.text, quiet: load.quiet,
    starts: starts.length === 0 ? "none" : batchesText(starts),
  };
}

interface RealRun {
  readonly figures: ArmFigures;
  readonly load: string;
  readonly quiet: boolean | undefined;
  /** The run's own replica starts by batch size (to compare with the law the simulator arm was given). */
  readonly starts: string;
}

interface ShapeResult {
  readonly shape: string;
  /** The start law the simulator arm ran with, and where it came from. */
  readonly startLaw: string;
  readonly sim: ArmFigures;
  readonly runs: readonly RealRun[];
}

const yes = (b: boolean): string => (b ? "met" : "NOT met");

function armLine(name: string, arm: string, f: ArmFigures, load?: string): string {
  return `${name}: ${arm} replica-s ${f.replicaSeconds.toFixed(0)}, 429s ${f.rejected}, 5xx ${f.failed}, time to capacity ${f.timeToCapacityS} s, target ${trajectoryText(f.targets)}${load !== undefined ? `; ${load}` : ""}`;
}

function goalLine(g: Goals): string {
  return [
    `replica-s within 10%: ${yes(g.replicaSeconds)} (real ÷ sim ${g.costRatio.toFixed(2)})`,
    `429s within 15%: ${yes(g.rejected)}`,
    `time to capacity within 1 s: ${yes(g.timeToCapacity)}`,
    `same target trajectory (±${TRAJECTORY_TOLERANCE_S} s a change): ${yes(g.trajectory)}`,
  ].join("; ");
}

/** The committed record: the command, the machine, one row per arm and run, and the verdict. */
function markdown(results: readonly ShapeResult[], command: string): string {
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim() || "?";
  const rows: string[] = [];
  let every = true;
  let quiet = true;
  for (const r of results) {
    const s = r.sim;
    rows.push(`| ${r.shape} | simulator | ${s.replicaSeconds.toFixed(0)} | ${s.rejected} | ${s.timeToCapacityS} | ${trajectoryText(s.targets)} | pod start law: ${r.startLaw} | |`);
    r.runs.forEach((run, i) => {
      const g = goals(run.figures, s);
      every &&= allMet(g);
      quiet &&= run.quiet === true;
      const f = run.figures;
      const verdict = allMet(g) ? "all met" : [!g.replicaSeconds && "replica-s", !g.rejected && "429s", !g.timeToCapacity && "time to capacity", !g.trajectory && "trajectory"].filter(Boolean).join(", ") + " NOT met";
      rows.push(`| ${r.shape} | real loop, run ${i + 1} | ${f.replicaSeconds.toFixed(0)} (${g.costRatio.toFixed(2)}×) | ${f.rejected} | ${f.timeToCapacityS} | ${trajectoryText(f.targets)} | ${run.load}; its starts: ${run.starts} | ${verdict} |`);
    });
  }
  const runs = results[0]?.runs.length ?? 0;
  return [
    "# Fidelity benchmark",
    "",
    `Produced by \`${command}\` (bench/fidelity/bench.ts; what it compares: docs/simulator.md, "Fidelity") at ${new Date().toISOString()}, code at ${commit}, on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}.`,
    "",
    "The simulator arm of each shape runs with the pod start law measured on this machine just before that shape's real runs (bench/fidelity/start-law.ts; shown in its row); `--sim-only --start-law <alone s>,<per other s>` replays that arm alone.",
    "",
    `Goals, per shape and real run: replica-seconds within 10% of the simulator's, 429s within 15%, time to capacity within 1 s, the same target-concurrency trajectory (the same targets in order, each change within ${TRAJECTORY_TOLERANCE_S} s). "Other load" is the CPU the rest of the machine used during the run; above ${QUIET_OTHER_CORES} cores the run is not quiet and its figures are noise.`,
    "",
    "| shape | arm | replica-s (real ÷ sim) | 429s | time to capacity, s | target concurrency (value@s) | pod starts; other load | goals |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Verdict: ${every ? "every goal met" : "goals NOT all met"} on ${results.length} shape(s) × ${runs} real run(s)${quiet ? ", every run on a quiet machine" : "; NOT every run was on a quiet machine"}.`,
  ].join("\n");
}

/** The command's arguments without where its report and trace went (`--write-docs`, `--out F`, `--trace-out F`). */
function withoutOutputFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--write-docs") continue;
    if (a === "--out" || a === "--trace-out") { i++; continue; }
    if (a.startsWith("--out=") || a.startsWith("--trace-out=")) continue;
    out.push(a);
  }
  return out;
}

async function main(o: { shapes: string; timeScale: string; runs: string; simOnly?: boolean; startLaw?: string; traceOut?: string; writeDocs?: boolean; out?: string }): Promise<void> {
  const scale = Number(o.timeScale);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--time-scale: must be in (0, 1], got ${o.timeScale}`);
  const runs = Number(o.runs);
  if (!(Number.isInteger(runs) && runs >= 1 && runs <= 5)) throw new Error(`--runs: must be an integer in 1..5, got ${o.runs}`);
  if ((o.writeDocs === true || o.out !== undefined) && o.simOnly === true) throw new Error("--write-docs/--out: need the real loop; drop --sim-only");
  if ((o.writeDocs === true || o.out !== undefined) && o.startLaw !== undefined) throw new Error("--write-docs/--out: the record uses the law measured in the run; drop --start-law");
  const pinned = o.startLaw === undefined ? undefined : parseStartLaw(o.startLaw);
  const names = o.shapes.split(",");
  for (const name of names) if (SHAPES[name] === undefined) throw new Error(`--shapes: unknown shape "${name}"; allowed: ${Object.keys(SHAPES).join(", ")}`);
  const traceFile = o.traceOut === undefined ? undefined : new TraceFile(o.traceOut);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const results: ShapeResult[] = [];
  for (const name of names) {
    const phases = (SHAPES[name] ?? []).map((p) => ({ rate: p.rate, durationS: Math.max(5, Math.round(p.durationS * scale)) }));
    const simTrace: TraceLine[] | undefined = traceFile === undefined ? undefined : [];
    const law = pinned ?? fitStartLaw(await measureStartLaw({ launcher: LAUNCHER }));
    const lawText = pinned !== undefined ? `${law.podStartS} s alone + ${law.podStartPerConcurrentS} s per other (pinned by --start-law)` : startLawText(law as StartLaw);
    say(`${name}: pod start law ${lawText}`);
    const sim = simulated(phases, law, simTrace, name);
    traceFile?.write(simTrace ?? []);
    say(armLine(name, "simulator", sim));
    const done: RealRun[] = [];
    for (let i = 0; i < (o.simOnly === true ? 0 : runs); i++) {
      const realTrace: TraceLine[] | undefined = traceFile === undefined ? undefined : [];
      const r = await real(phases, realTrace, runs > 1 ? `${name}#${i + 1}` : name);
      traceFile?.write(realTrace ?? []);
      done.push(r);
      say(armLine(name, runs > 1 ? `real loop (run ${i + 1})` : "real loop ", r.figures, `${r.load}; its starts: ${r.starts}`));
      say(`${name}: ${goalLine(goals(r.figures, sim))}${r.quiet === false ? " — FLAGGED: the machine was not quiet" : ""}`);
    }
    results.push({ shape: name, startLaw: lawText, sim, runs: done });
  }
  if (o.writeDocs === true || o.out !== undefined) {
    emitReport(o, DOC, markdown(results, `npm run bench:fidelity -- ${withoutOutputFlags(process.argv.slice(2)).join(" ")}`.trim().replace(/ --$/, "")));
  }
}

reportOptions(new Command(), DOC)
  .name("bench:fidelity")
  .option("--shapes <list>", "load shapes: step, spike, ramp", "step,spike,ramp")
  .option("--time-scale <f>", "shorten every phase by this factor (a smoke run), (0, 1]", "1")
  .option("--sim-only", "run the simulator arm only")
  .option("--runs <n>", "real-loop runs per shape (the simulator arm is deterministic: one)", "1")
  .option("--start-law <alone,perOther>", "pin the simulator's pod start law, s (default: measured on this machine before each shape)")
  .option("--trace-out <file>", "write every engine tick of both arms (input sample, state, decision) as JSON lines")
  .action((o) => {
    if (o.simOnly !== true) requirePrerequisites("npm run bench:fidelity", [HAPROXY]);
    return main(o).catch((e: unknown) => {
      process.stderr.write(`bench:fidelity: ${(e as Error).message}\n`);
      process.exitCode = 1;
    });
  })
  .parse();
