/**
 * The autoscaler's targets (the README's "Results at a glance" table) and the unseen-scenario checks, evaluated on benchmark runs. Each
 * check returns the figures it compared, so the report shows by how much a target is met or missed. Comparisons
 * with the projects' defaults use `kpa-default` and `hpa-cpu`; the judgement against competently configured
 * baselines is the frontier table (bench.ts).
 */
import type { PolicyResult } from "../../controller/src/sim/report.ts";
import type { ScenarioRun } from "../../controller/src/sim/run.ts";

export interface Check {
  /** The scenario the check reads. */
  readonly id: string;
  readonly what: string;
  readonly pass: boolean;
  readonly figure: string;
}

function result(run: ScenarioRun | undefined, policy: string): PolicyResult | undefined {
  return run?.runs.find((r) => r.result.policy === policy)?.result;
}

function ratio(a: number, b: number): string {
  if (b === 0) return a === 0 ? "0/0" : "∞ (baseline 0)";
  return `${(a / b).toFixed(3)}×`;
}

const BASELINES = ["kpa", "hpa", "ray", "static"];

export function acceptanceChecks(runs: readonly ScenarioRun[], floors: ReadonlyMap<string, number> = new Map()): Check[] {
  const by = (name: string): ScenarioRun | undefined => runs.find((r) => r.scenario.name === name);
  const checks: Check[] = [];
  const spike = by("spike");
  const apa = result(spike, "apa");
  const oracle = result(spike, "oracle");
  const kpa = result(spike, "kpa-default");
  const hpa = result(spike, "hpa-cpu");
  for (const name of ["spike", "spike-slow-start"]) {
    const run = by(name);
    const a = result(run, "apa");
    const o = result(run, "oracle");
    if (!run || !a) continue;
    const limitS = run.scenario.cluster.podStartS + 10;
    checks.push({ id: name, what: `${name}: APA time to capacity ≤ pod start + 10 s (${limitS} s)`, pass: a.timeToAbsorbS !== null && a.timeToAbsorbS <= limitS, figure: `${a.timeToAbsorbS ?? "never"} s (oracle ${o?.timeToAbsorbS ?? "-"} s)` });
    const floor = floors.get(name);
    if (floor !== undefined) checks.push({ id: name, what: `${name}: APA rejections ≤ 1.1× the reactive floor`, pass: a.rejected <= 1.1 * floor, figure: `${a.rejected} vs floor ${floor} = ${ratio(a.rejected, floor)}` });
    if (o) checks.push({ id: name, what: `${name}: APA replica-seconds ≤ 2× the clairvoyant reactive scaler's (oracle)`, pass: a.replicaSeconds <= 2 * o.replicaSeconds, figure: `${a.replicaSeconds.toFixed(0)} vs ${o.replicaSeconds.toFixed(0)} = ${ratio(a.replicaSeconds, o.replicaSeconds)}` });
  }
  if (spike && apa && kpa && hpa) {
    checks.push({ id: "spike", what: "spike: APA rejections ≤ default KPA's", pass: apa.rejected <= kpa.rejected, figure: `${apa.rejected} vs ${kpa.rejected} = ${ratio(apa.rejected, kpa.rejected)}` });
    checks.push({ id: "spike", what: "spike: APA rejections ≤ 1/10 of the CPU HPA's", pass: apa.rejected <= hpa.rejected / 10, figure: `${apa.rejected} vs ${hpa.rejected} = ${ratio(apa.rejected, hpa.rejected)}` });
  }
  const bursts = by("bursts");
  const ba = result(bursts, "apa");
  const bk = result(bursts, "kpa-default");
  if (ba && bk) {
    checks.push({ id: "bursts", what: "repeated bursts: APA rejections ≤ 1/5 of default KPA's", pass: ba.rejected <= bk.rejected / 5, figure: `${ba.rejected} vs ${bk.rejected} = ${ratio(ba.rejected, bk.rejected)}` });
  }
  for (const name of ["diurnal", "azure-llm"]) {
    const run = by(name);
    const a = result(run, "apa");
    const o = result(run, "oracle");
    if (!run || !a || !o) continue;
    void oracle;
    checks.push({ id: name, what: `${name}: APA SLO attainment ≥ 99.9%`, pass: a.sloAttainment >= 0.999, figure: `${(a.sloAttainment * 100).toFixed(3)}%` });
    checks.push({ id: name, what: `${name}: APA replica-seconds ≤ 1.3× the oracle's`, pass: a.replicaSeconds <= 1.3 * o.replicaSeconds, figure: `${a.replicaSeconds.toFixed(0)} vs ${o.replicaSeconds.toFixed(0)} = ${ratio(a.replicaSeconds, o.replicaSeconds)}` });
    const meeting = BASELINES.map((b) => result(run, b)).filter((r): r is PolicyResult => r !== undefined && r.sloAttainment >= 0.999);
    const cheaper = meeting.filter((r) => r.replicaSeconds < a.replicaSeconds);
    checks.push({
      id: name,
      what: `${name}: APA replica-seconds ≤ every baseline (kpa, hpa, ray, static) meeting 99.9%`,
      pass: cheaper.length === 0,
      figure: meeting.length === 0 ? "no baseline meets 99.9%" : meeting.map((r) => `${r.policy} ${r.replicaSeconds.toFixed(0)} (${ratio(a.replicaSeconds, r.replicaSeconds)})`).join(", "),
    });
  }
  // Forecasting (the learned seasonality) against the same engine without it, on traces with a period.
  for (const name of ["office-hours", "periodic-bursts"]) {
    const run = by(name);
    const a = result(run, "apa");
    const r = result(run, "apa-reactive");
    if (!a || !r) continue;
    checks.push({ id: name, what: `${name}: forecasting APA has ≥ 50% fewer 429s than reactive APA`, pass: a.rejected <= 0.5 * r.rejected, figure: `${a.rejected} vs ${r.rejected} = ${ratio(a.rejected, r.rejected)}` });
    checks.push({ id: name, what: `${name}: forecasting APA replica-seconds ≤ 1.1× reactive APA's`, pass: a.replicaSeconds <= 1.1 * r.replicaSeconds, figure: `${a.replicaSeconds.toFixed(0)} vs ${r.replicaSeconds.toFixed(0)} = ${ratio(a.replicaSeconds, r.replicaSeconds)}` });
  }
  const stop = by("periodic-bursts-stop");
  const sa = result(stop, "apa");
  const sr = result(stop, "apa-reactive");
  if (sa && sr) {
    checks.push({ id: "periodic-bursts-stop", what: "pattern stops: forecasting APA no worse than reactive APA (429s ≤, replica-seconds ≤ 1.1×)", pass: sa.rejected <= sr.rejected && sa.replicaSeconds <= 1.1 * sr.replicaSeconds, figure: `429s ${sa.rejected} vs ${sr.rejected}; replica-s ${sa.replicaSeconds.toFixed(0)} vs ${sr.replicaSeconds.toFixed(0)} = ${ratio(sa.replicaSeconds, sr.replicaSeconds)}` });
  }
  const noisy = result(by("steady-noisy"), "apa");
  if (noisy) {
    checks.push({ id: "steady-noisy", what: "steady noisy load: ≤ 2 replica direction changes per 10 minutes", pass: noisy.directionChangesPer10Min <= 2, figure: `${noisy.directionChanges} in ${by("steady-noisy")!.scenario.durationS} s = ${noisy.directionChangesPer10Min} per 10 min` });
  }
  const gpu = by("gpu-capacity");
  const gpuApa = gpu?.runs.find((r) => r.result.policy === "apa");
  if (gpu && gpuApa) {
    const u = gpuApa.output.series.unschedulable;
    let first = 0;
    let max = 0;
    for (let s = 0; s < gpu.scenario.durationS; s++) {
      if (first === 0 && u[s]! > 0) first = u[s]!;
      max = Math.max(max, u[s]!);
    }
    const others = gpu.runs.filter((r) => r.result.policy !== "apa").map((r) => `${r.result.policy} ${r.result.peakUnschedulable}`).join(", ");
    checks.push({ id: "gpu-capacity", what: "capacity-limited cluster: unschedulable pods never grow once they appear", pass: max <= first, figure: `APA first ${first}, peak ${max} unschedulable (${others})` });
  }
  return checks;
}

/** The vertical target on one `vertical-*` run: settle within 20% of the optimum by 5 min, then ≤ 1 change per 10 min. */
export function verticalCheck(run: ScenarioRun): Check {
  const apa = run.runs.find((r) => r.result.policy === "apa");
  const opt = run.optimum.concurrency;
  const what = `vertical ${run.scenario.model.kind}: target within 20% of the optimum (${opt}) within 5 min, then ≤ 1 change per 10 min`;
  if (!apa) return { id: run.scenario.name, what, pass: false, figure: "apa not run" };
  const tc = apa.output.series.targetConcurrency;
  const dur = Math.ceil(run.scenario.durationS);
  const within = (v: number): boolean => Math.abs(v - opt) <= 0.2 * opt;
  let settle = dur;
  for (let s = dur - 1; s >= 0 && within(tc[s]!); s--) settle = s;
  let maxPerWindow = 0;
  const changes: number[] = [];
  for (let s = Math.max(1, settle); s < dur; s++) if (tc[s] !== tc[s - 1]) changes.push(s);
  for (const c of changes) maxPerWindow = Math.max(maxPerWindow, changes.filter((x) => x >= c && x < c + 600).length);
  const pass = settle <= 300 && maxPerWindow <= 1;
  return {
    id: run.scenario.name,
    what,
    pass,
    figure: settle >= dur ? `never settled (final ${tc[dur - 1]})` : `settled at ${settle} s on ${tc[settle]} (final ${tc[dur - 1]}); ${changes.length} change(s) after, at most ${maxPerWindow} in any 10 min`,
  };
}
