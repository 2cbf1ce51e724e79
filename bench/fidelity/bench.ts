/**
 * `npm run bench:fidelity [-- --shapes step,spike,ramp] [--time-scale 1] [--sim-only] [--trace-out FILE]`
 * The same load shapes through the real loop (`npm run dev`'s machinery: real HAProxy, real model-server
 * processes, the engine through the shared driver) and through the simulator with this machine's measured
 * parameters, side by side: replica-seconds, 429s, time to capacity (from the step to the last 429 of the high
 * phase) and the target-concurrency trajectory. Goals: replica-seconds within 10%, 429s within 15%, time to
 * capacity within 1 s, the same target trajectory. The CPU the rest of the machine used during each real run is
 * reported; a run where other processes used more than 0.2 cores is flagged (its figures are noise).
 *
 * Simulator parameters (measured on the development machine, docs/simulator.md "Fidelity"): a model process is
 * I/O-like, 103 ms flat up to 16 in flight; a process starts in 0.24 s alone and ~0.16 s later per other process
 * starting with it; serving processes slow by ~4% per starting one; gateway queue 1000 ms / 200.
 */
import { Command } from "commander";
import { validateEndpointSpec, validateEngineConfig } from "../../controller/src/engine/index.ts";
import type { DriverTick } from "../../controller/src/engine/driver.ts";
import type { EndpointSpec } from "../../controller/src/engine/types.ts";
import type { LoadPhase } from "../../controller/src/local/load.ts";
import { startLocalRun } from "../../controller/src/local/local-run.ts";
import { ApaPolicy } from "../../controller/src/sim/policies/apa.ts";
import { prepareScenario, runPolicy } from "../../controller/src/sim/run.ts";
import { parseScenario } from "../../controller/src/sim/scenario.ts";
import { startMachineLoad } from "../machine-load.ts";
import { HAPROXY, requirePrerequisites } from "../bench-cli.ts";
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

export interface ArmFigures {
  readonly replicaSeconds: number;
  readonly rejected: number;
  /** Seconds from the start of the highest phase to its last 429 (0 without any). */
  readonly timeToCapacityS: number;
  /** Target concurrency at each change: "4@0 6@61 …". */
  readonly targets: string;
}

/** The highest phase's [start, end) in seconds. */
function peakPhase(phases: readonly LoadPhase[]): [number, number] {
  let t = 0;
  let best: [number, number] = [0, 0];
  let rate = -1;
  for (const p of phases) {
    if (p.rate > rate) {
      rate = p.rate;
      best = [t, t + p.durationS];
    }
    t += p.durationS;
  }
  return best;
}

/** Figures of one arm from per-second series (replicas scheduled, 429s, target). */
export function figures(phases: readonly LoadPhase[], scheduled: readonly number[], rejected: readonly number[], target: readonly number[]): ArmFigures {
  const [from, to] = peakPhase(phases);
  let last = -1;
  for (let s = from; s < Math.min(to, rejected.length); s++) if ((rejected[s] ?? 0) > 0) last = s;
  const changes: string[] = [];
  for (let s = 0; s < target.length; s++) if (s === 0 || target[s] !== target[s - 1]) changes.push(`${target[s]}@${s}`);
  return {
    replicaSeconds: scheduled.reduce((a, b) => a + b, 0),
    rejected: rejected.reduce((a, b) => a + b, 0),
    timeToCapacityS: last < 0 ? 0 : last + 1 - from,
    targets: changes.join(" "),
  };
}

function simulated(phases: readonly LoadPhase[], trace?: TraceLine[], shape = ""): ArmFigures {
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
      cluster: { podStartS: 0.24, podStartPerConcurrentS: 0.16, startSlowdownPerPod: 0.04, warmPoolPods: 16, nodeStartS: 90, maxPods: 16 },
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
  return figures(phases, at(out.podSeconds), at(out.rejected), at(out.targetConcurrency));
}

async function real(phases: readonly LoadPhase[], trace?: TraceLine[], shape = ""): Promise<{ figures: ArmFigures; load: string; quiet: boolean | undefined }> {
  const ticks: DriverTick[] = [];
  const meter = startMachineLoad();
  const c0 = process.cpuUsage();
  const run = await startLocalRun({
    endpoint: "fidelity", apiKey: "fidelity-key", spec: validateEndpointSpec(SPEC), engineConfig: validateEngineConfig({ scaleDownWindowMs: DOWN_WINDOW_MS }),
    cpuMs: 1.3, sleepMs: 101.7, queueTimeoutMs: 1000, maxQueue: 200, phases, onNotice: () => undefined,
    ...(trace !== undefined ? { trace: (t: DriverTick) => ticks.push(t) } : {}),
  });
  await run.loadDone;
  await new Promise((r) => setTimeout(r, 2000));
  run.report();
  const recs = run.records;
  await run.stop();
  for (const t of ticks) trace?.push(traceLine(shape, "real", run.startedAtMs, t));
  const c = process.cpuUsage(c0);
  // this process and its children (HAProxy, model servers) are the benchmarked work: count them as own CPU
  const load = meter.stop((c.user + c.system) / 1000 + childCpuMs());
  const n = phases.reduce((a, p) => a + p.durationS, 0);
  // a second without a record (a tick delayed on a busy machine) repeats the one before it
  const sec = (f: (r: (typeof recs)[number]) => number, zeroWhenMissing = false) => {
    let last = 0;
    return Array.from({ length: n }, (_, s) => {
      const r = recs.find((x) => x.tS === s);
      if (r !== undefined) last = f(r);
      return r === undefined && zeroWhenMissing ? 0 : last;
    });
  };
  return { figures: figures(phases, sec((r) => r.readyReplicas + r.startingReplicas), sec((r) => r.rejected, true), sec((r) => r.targetConcurrency)), load: load.text, quiet: load.quiet };
}

/** CPU of terminated children (the model servers and HAProxy), ms, from this process's resource usage. */
function childCpuMs(): number {
  return 0; // Node exposes no children's rusage: the rest of the machine then includes them (conservative: flags more runs)
}

const within = (a: number, b: number, frac: number): boolean => (b === 0 ? a === 0 : Math.abs(a - b) <= frac * b);

async function main(o: { shapes: string; timeScale: string; simOnly?: boolean; traceOut?: string }): Promise<void> {
  const scale = Number(o.timeScale);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--time-scale: must be in (0, 1], got ${o.timeScale}`);
  const lines: string[] = [];
  const traceFile = o.traceOut === undefined ? undefined : new TraceFile(o.traceOut);
  for (const name of o.shapes.split(",")) {
    const base = SHAPES[name];
    if (base === undefined) throw new Error(`--shapes: unknown shape "${name}"; allowed: ${Object.keys(SHAPES).join(", ")}`);
    const phases = base.map((p) => ({ rate: p.rate, durationS: Math.max(5, Math.round(p.durationS * scale)) }));
    const simTrace: TraceLine[] | undefined = traceFile === undefined ? undefined : [];
    const sim = simulated(phases, simTrace, name);
    traceFile?.write(simTrace ?? []);
    lines.push(`${name}: simulator replica-s ${sim.replicaSeconds.toFixed(0)}, 429s ${sim.rejected}, time to capacity ${sim.timeToCapacityS} s, target ${sim.targets}`);
    if (o.simOnly) continue;
    const realTrace: TraceLine[] | undefined = traceFile === undefined ? undefined : [];
    const r = await real(phases, realTrace, name);
    traceFile?.write(realTrace ?? []);
    const f = r.figures;
    lines.push(`${name}: real loop  replica-s ${f.replicaSeconds.toFixed(0)}, 429s ${f.rejected}, time to capacity ${f.timeToCapacityS} s, target ${f.targets}; ${r.load}`);
    const goals = [
      `replica-s within 10%: ${within(f.replicaSeconds, sim.replicaSeconds, 0.1) ? "met" : "NOT met"} (real ÷ sim ${(f.replicaSeconds / Math.max(1e-9, sim.replicaSeconds)).toFixed(2)})`,
      `429s within 15%: ${within(f.rejected, sim.rejected, 0.15) ? "met" : "NOT met"}`,
      `time to capacity within 1 s: ${Math.abs(f.timeToCapacityS - sim.timeToCapacityS) <= 1 ? "met" : "NOT met"}`,
      `same target trajectory: ${f.targets === sim.targets ? "met" : "NOT met"}`,
    ];
    lines.push(`${name}: ${goals.join("; ")}${r.quiet === false ? " — FLAGGED: the machine was not quiet" : ""}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

new Command()
  .name("bench:fidelity")
  .option("--shapes <list>", "load shapes: step, spike, ramp", "step,spike,ramp")
  .option("--time-scale <f>", "shorten every phase by this factor (a smoke run), (0, 1]", "1")
  .option("--sim-only", "run the simulator arm only")
  .option("--trace-out <file>", "write every engine tick of both arms (input sample, state, decision) as JSON lines")
  .action((o) => {
    if (o.simOnly !== true) requirePrerequisites("npm run bench:fidelity", [HAPROXY]);
    return main(o).catch((e: unknown) => {
      process.stderr.write(`bench:fidelity: ${(e as Error).message}\n`);
      process.exitCode = 1;
    });
  })
  .parse();
