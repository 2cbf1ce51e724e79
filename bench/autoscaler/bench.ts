/**
 * `npm run bench:autoscaler [-- --scenarios a,b] [--seeds 5] [--signals exact] [--skip-sweeps] [--skip-perf] [--write-docs]`
 * Every library scenario under APA, the competently configured baselines (kpa, hpa, ray), the projects' defaults
 * (kpa-default, hpa-cpu, ray-default), static and the oracles; each baseline's main knob swept (Pareto frontier of
 * replica-seconds vs SLO attainment); bounds (replica-seconds lower bound, reactive rejection floor); APA and the
 * competent baselines again on more seeds (means with 95% confidence intervals); the design's checks; the
 * simulator's speed. The engine gets production's signals (each scenario's `signals`, by default the gateway's
 * per-request timings and over-objective count, pod metrics every 15 s, flat memory); `--signals exact` gives every
 * scenario the simulator's own accumulators instead, for comparison (APA is also run once that way per scenario:
 * the docs' signals table). Prints the report; writes docs/benchmarks/autoscaler.{md,json} and the SVG charts only
 * with --write-docs. Simulated figures are deterministic per seed; wall and CPU times are not.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { basename, join } from "node:path";
import { Command } from "commander";
import { defaultEngineConfig } from "../../controller/src/engine/config.ts";
import { scenarioBounds, type Bounds } from "../../controller/src/sim/bounds.ts";
import { renderChart } from "../../controller/src/sim/chart.ts";
import { renderFrontier } from "../../controller/src/sim/frontier-chart.ts";
import { planTraffic } from "../../controller/src/sim/plan.ts";
import { makePolicy, type PolicyName } from "../../controller/src/sim/policies/index.ts";
import type { PolicyResult } from "../../controller/src/sim/report.ts";
import { prepareScenario, runPolicy, runScenario, type ScenarioRun } from "../../controller/src/sim/run.ts";
import { loadScenario } from "../../controller/src/sim/scenario.ts";
import type { Scenario } from "../../controller/src/sim/scenario-types.ts";
import { dominance, meanCi, paretoFrontier, sweepSpecs, type Dominance, type FrontierPoint } from "../../controller/src/sim/sweep.ts";
import { acceptanceChecks, verticalCheck, type Check } from "./bench-checks.ts";
import { engineConfigDigest, FROZEN_ENGINE_CONFIG_SHA256, HELD_OUT_SCENARIOS, TUNED_AFTER_FREEZE } from "./frozen.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCENARIOS = join(ROOT, "controller/scenarios");
const OUT_DIR = join(ROOT, "docs/benchmarks");
const NAMED: PolicyName[] = ["apa", "kpa", "hpa", "ray", "kpa-default", "hpa-cpu", "ray-default", "static", "oracle", "oracle-ahead"];
const SEEDED: PolicyName[] = ["apa", "kpa", "hpa", "ray"];
const PERF = "perf-1h-10k.json";

interface ScenarioReport {
  readonly file: string;
  readonly run: ScenarioRun;
  readonly bounds: Bounds;
  readonly sweep: readonly (PolicyResult & { family: string })[];
  readonly dominance: Dominance | undefined;
  readonly seeds: readonly number[];
  /** Per policy, the per-seed results (the scenario's own seed first). */
  readonly bySeed: ReadonlyMap<string, readonly PolicyResult[]>;
  /** APA on the scenario seed with the simulator's exact accumulators (only when the run used the gateway's signals). */
  readonly exactSignals: ScenarioRun | undefined;
}

const pct = (x: number, d = 3): string => `${(x * 100).toFixed(d)}%`;
const ci = (xs: readonly number[], scale = 1, d = 0): string => {
  const m = meanCi(xs.map((x) => x * scale));
  return `${m.mean.toFixed(d)} ± ${m.half.toFixed(d)}`;
};

function mdTable(results: readonly PolicyResult[]): string {
  const head = "| policy | rejected (429) | rejected % | failed | p99 ms | SLO attainment | replica-s | node-s | peak | absorb s | dir. chg | final TC |";
  const sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";
  const rows = results.map((r) =>
    `| ${r.policy} | ${r.rejected} | ${pct(r.rejectedFraction)} | ${r.failed} | ${r.p99Ms ?? "-"} | ${pct(r.sloAttainment)} | ${r.replicaSeconds.toFixed(0)} | ${r.nodeSeconds.toFixed(0)} | ${r.peakReplicas} | ${r.timeToAbsorbS ?? "-"} | ${r.directionChanges} | ${r.finalTargetConcurrency >= 1e9 ? "∞" : r.finalTargetConcurrency} |`,
  );
  return [head, sep, ...rows].join("\n");
}

function perfRun(file: string): { requests: number; wallS: number; cpuS: number; planS: number; policy: string }[] {
  const sc = loadScenario(file);
  const c0 = process.cpuUsage();
  planTraffic(sc);
  const c1 = process.cpuUsage(c0);
  const planS = (c1.user + c1.system) / 1e6;
  return (["static", "apa"] as PolicyName[]).map((p) => {
    const r = runScenario(sc, [p]).runs[0]!.result;
    console.log(`perf ${p}: ${r.requests} requests in ${(r.wallMs / 1000).toFixed(1)} s wall, ${(r.cpuMs / 1000).toFixed(1)} s CPU`);
    return { requests: r.requests, wallS: r.wallMs / 1000, cpuS: r.cpuMs / 1000, planS, policy: p };
  });
}

type SignalMode = "exact" | "gateway";

/** The scenario with every policy's signal mode overridden (the over-objective count exactly where the gateway gives it). */
function withSignals(sc: Scenario, mode: SignalMode | undefined): Scenario {
  return mode === undefined ? sc : { ...sc, signals: { ...sc.signals, mode, overObjective: mode === "gateway" } };
}

function runOne(file: string, seeds: number, sweeps: boolean, signals: SignalMode | undefined): ScenarioReport {
  const sc = withSignals(loadScenario(join(SCENARIOS, file)), signals);
  const ctx = prepareScenario(sc);
  // a scenario with its own forecasting period also runs the engine without forecasting (the E checks)
  const run = runScenario(sc, sc.engine?.forecastPeriodMs !== undefined ? [...NAMED, "apa-reactive"] : NAMED, ctx);
  const bounds = scenarioBounds(sc, ctx.plan, ctx.optimum, ctx.meanCost, ctx.initialReplicas);
  const sweep = sweeps ? sweepSpecs(sc, ctx.optimum, ctx.initialReplicas).map((s) => ({ ...runPolicy(ctx, s.make(), s.label).result, family: s.family })) : [];
  const apa = run.runs.find((r) => r.result.policy === "apa")!.result;
  const point = (r: PolicyResult, family: string): FrontierPoint => ({ label: r.policy, family, replicaSeconds: r.replicaSeconds, sloAttainment: r.sloAttainment });
  const d = sweeps ? dominance(point(apa, "apa"), sweep.map((r) => point(r, r.family))) : undefined;
  const seedList = [sc.seed, ...Array.from({ length: Math.max(0, seeds - 1) }, (_, i) => sc.seed + 1000 * (i + 1))];
  const bySeed = new Map<string, PolicyResult[]>();
  for (const p of SEEDED) bySeed.set(p, [run.runs.find((r) => r.result.policy === p)!.result]);
  for (const seed of seedList.slice(1)) {
    const other = runScenario({ ...sc, seed }, SEEDED);
    for (const r of other.runs) bySeed.get(r.result.policy)!.push(r.result);
  }
  // the same engine with the simulator's own accumulators: what the production signals change
  const exactSc = withSignals(sc, "exact");
  const exactSignals = sc.signals.mode === "gateway" ? { ...run, scenario: exactSc, runs: [runPolicy({ ...ctx, scenario: exactSc }, makePolicy("apa", { ...ctx, scenario: exactSc }))] } : undefined;
  const line = (r: PolicyResult) => `  ${r.policy.padEnd(20)} slo ${pct(r.sloAttainment).padStart(9)}  replica-s ${r.replicaSeconds.toFixed(0).padStart(8)}  429 ${String(r.rejected).padStart(8)}  absorb ${r.timeToAbsorbS ?? "-"}`;
  console.log(`\n== ${sc.name}: capacity ${ctx.optimum.capacity}, optimum ${ctx.optimum.concurrency}; lower bound ${bounds.replicaSecondsLowerBound} replica-s; reactive floor ${bounds.reactiveRejectionFloor} × 429`);
  for (const r of run.runs) console.log(line(r.result));
  for (const r of sweep) console.log(line(r));
  if (d) console.log(d.by ? `  APA DOMINATED by ${d.by.label}: ${pct(d.replicaSecondsSaved, 1)} fewer replica-s, +${d.sloGainPp.toFixed(3)} pp SLO` : "  APA not dominated by any frontier point");
  return { file, run, bounds, sweep, dominance: d, seeds: seedList, bySeed, exactSignals };
}

const isVertical = (name: string): boolean => name.startsWith("vertical-") || name === "io-large-pool";

/** One row of the signals comparison: APA with the gateway's signals against APA with the exact ones. */
function signalRow(gateway: ScenarioRun, exact: ScenarioRun): string {
  const g = gateway.runs.find((x) => x.result.policy === "apa")!.result;
  const e = exact.runs[0]!.result;
  const tc = (x: number): string => (x >= 1e9 ? "∞" : String(x));
  const dRs = e.replicaSeconds > 0 ? `${(((g.replicaSeconds - e.replicaSeconds) / e.replicaSeconds) * 100).toFixed(1)}%` : "-";
  const v = (run: ScenarioRun): string => (isVertical(run.scenario.name) ? verticalCheck(run).figure.replace(/;.*$/, "") : "-");
  return `| ${gateway.scenario.name} | ${pct(g.sloAttainment)} | ${pct(e.sloAttainment)} | ${((g.sloAttainment - e.sloAttainment) * 100).toFixed(3)} | ${g.replicaSeconds.toFixed(0)} | ${e.replicaSeconds.toFixed(0)} | ${dRs} | ${g.rejected} | ${e.rejected} | ${tc(g.finalTargetConcurrency)} / ${tc(e.finalTargetConcurrency)} | ${v(gateway)} | ${v(exact)} |`;
}

function frontierSection(r: ScenarioReport): string {
  const a = r.run.runs.find((x) => x.result.policy === "apa")!.result;
  const front = paretoFrontier(r.sweep.map((s) => ({ label: s.policy, family: s.family, replicaSeconds: s.replicaSeconds, sloAttainment: s.sloAttainment })));
  const rows = r.sweep.map((s) => `| ${s.policy} | ${pct(s.sloAttainment)} | ${s.replicaSeconds.toFixed(0)} | ${s.nodeSeconds.toFixed(0)} | ${s.rejected} | ${front.some((f) => f.label === s.policy) ? "yes" : ""} |`);
  return `| point | SLO attainment | replica-s | node-s | 429s | on the frontier |\n|---|---:|---:|---:|---:|---|\n| **apa** | ${pct(a.sloAttainment)} | ${a.replicaSeconds.toFixed(0)} | ${a.nodeSeconds.toFixed(0)} | ${a.rejected} | |\n${rows.join("\n")}\n`;
}

function main(opts: { scenarios?: string; seeds: string; signals?: string; skipSweeps?: boolean; skipPerf?: boolean; writeDocs?: boolean }): void {
  const seeds = Number(opts.seeds);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 11) throw new Error(`--seeds: must be an integer in [1, 11], got ${opts.seeds}`);
  if (opts.signals !== undefined && opts.signals !== "exact" && opts.signals !== "gateway") throw new Error(`--signals: must be exact or gateway, got ${opts.signals}`);
  const signals = opts.signals as SignalMode | undefined;
  const all = readdirSync(SCENARIOS).filter((f) => f.endsWith(".json") && f !== PERF).sort();
  const chosen = opts.scenarios ? opts.scenarios.split(",").map((s) => (s.endsWith(".json") ? s : `${s}.json`)) : all;
  const started = new Date().toISOString();
  const load0 = loadavg();
  let commit = "unknown commit";
  try {
    commit = execFileSync("git", ["log", "-1", "--format=%h (%s)"], { cwd: ROOT, encoding: "utf8" }).trim().slice(0, 120);
  } catch {
    // not a git checkout: the report says so
  }
  const digest = engineConfigDigest(defaultEngineConfig);
  const frozen = digest === FROZEN_ENGINE_CONFIG_SHA256;
  console.log(`engine constants ${digest.slice(0, 12)} ${frozen ? "= the frozen set" : "≠ the frozen set (held-out scenarios are not held out for this engine)"}`);
  const reports = chosen.map((f) => runOne(f, seeds, !opts.skipSweeps, signals));
  const modes = [...new Set(reports.map((r) => r.run.scenario.signals.mode))].join(", ");
  const runs = reports.map((r) => r.run);
  const floors = new Map(reports.map((r) => [r.run.scenario.name, r.bounds.reactiveRejectionFloor]));
  const checks: Check[] = acceptanceChecks(runs, floors);
  for (const run of runs.filter((r) => isVertical(r.scenario.name))) checks.push(verticalCheck(run));
  let perf = "";
  if (!opts.skipPerf) {
    const res = perfRun(join(SCENARIOS, PERF));
    const st = res[0]!;
    const ap = res[1]!;
    perf = `## Simulator speed\n\n\`controller/scenarios/${PERF}\`: one hour at 10K QPS (${st.requests} requests); arrivals alone ${st.planS.toFixed(1)} s CPU. static ${st.cpuS.toFixed(1)} s CPU (${st.wallS.toFixed(1)} s wall), apa ${ap.cpuS.toFixed(1)} s CPU (${ap.wallS.toFixed(1)} s wall).\n`;
    checks.push({ id: "perf-1h-10k", what: "1 h at 10K QPS (36M requests) in ≤ 60 s on one core (CPU time, static policy)", pass: st.cpuS <= 60, figure: `static ${st.cpuS.toFixed(1)} s CPU, apa ${ap.cpuS.toFixed(1)} s CPU` });
  }
  const domRows = reports.filter((r) => r.dominance).map((r) => {
    const a = r.run.runs.find((x) => x.result.policy === "apa")!.result;
    const d = r.dominance!;
    const held = HELD_OUT_SCENARIOS.includes(r.run.scenario.name) ? " (held out)" : "";
    return `| ${r.run.scenario.name}${held} | ${pct(a.sloAttainment)} | ${a.replicaSeconds.toFixed(0)} | ${r.bounds.replicaSecondsLowerBound} | ${d.by ? `**dominated** by \`${d.by.label}\`: ${pct(d.by.sloAttainment)} at ${d.by.replicaSeconds.toFixed(0)} (${pct(d.replicaSecondsSaved, 1)} fewer replica-s, +${d.sloGainPp.toFixed(3)} pp)` : "not dominated"} |`;
  });
  const dominated = reports.filter((r) => r.dominance?.by !== undefined).map((r) => r.run.scenario.name);
  const domSummary = reports.some((r) => r.dominance)
    ? dominated.length === 0
      ? "APA is dominated on none of the scenarios run."
      : `APA is dominated on ${dominated.length} of ${reports.filter((r) => r.dominance).length} scenarios: ${dominated.join(", ")} (the point and by how much in the table).`
    : "";
  const signalRows = reports.filter((r) => r.exactSignals).map((r) => signalRow(r.run, r.exactSignals!));
  const seedRows = reports.flatMap((r) => SEEDED.map((p) => {
    const xs = r.bySeed.get(p) ?? [];
    return `| ${r.run.scenario.name} | ${p} | ${xs.length} | ${ci(xs.map((x) => x.sloAttainment), 100, 3)} % | ${ci(xs.map((x) => x.replicaSeconds))} | ${ci(xs.map((x) => x.rejected))} |`;
  }));
  const checkRows = checks.map((c) => `| ${c.id} | ${c.what} | ${c.pass ? "met" : "**not met**"} | ${c.figure} |`);
  const md =
    `# Autoscaler benchmark\n\nProduced by \`npm run bench:autoscaler -- ${process.argv.slice(2).join(" ")}\` (bench/autoscaler/bench.ts; \`npm run bench:autoscaler -- --write-docs\` runs every scenario on 5 seeds) at ${started}, code at ${commit}, on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"} ` +
    `(load average at the start ${load0.map((x) => x.toFixed(1)).join(" ")}; simulated figures are deterministic per seed, wall and CPU times are not). ` +
    `Signals the engine gets: ${modes}${signals === undefined ? " (each scenario's own; the default is the gateway's, what production gives the engine)" : " (overridden by --signals)"}. ` +
    `Engine constants digest \`${digest.slice(0, 16)}\` (${frozen ? "the frozen set" : "**not** the frozen set"}); held out: ${HELD_OUT_SCENARIOS.join(", ")}; the engine's logic was changed after the freeze against ${TUNED_AFTER_FREEZE.join(", ")} only (the held-out scenarios were not run for it). Definitions: docs/simulator.md.\n\n` +
    `## Is APA dominated by a competently configured baseline?\n\nEach baseline's main knob swept (bench/autoscaler, controller/src/sim/sweep.ts); a point dominates APA when it has at least APA's SLO attainment for at most its replica-seconds. Scenario seed only.\n\n| scenario | APA SLO | APA replica-s | replica-s lower bound | verdict |\n|---|---:|---:|---:|---|\n${domRows.join("\n")}\n\n` +
    `${domSummary}\n\n` +
    (signalRows.length > 0 ? `## Production's signals against the simulator's exact ones\n\nAPA on the scenario seed with the signals production gives the engine (the gateway's per-request whole-millisecond timings folded by the production reader, its over-objective count, pod metrics every 15 s, flat memory; the tables above) and again with the simulator's exact accumulators (\`--signals exact\`, no over-objective count). Δ: gateway − exact. Vertical: the target's settling on the optimum ± 20% (vertical scenarios).\n\n| scenario | SLO gateway | SLO exact | Δ pp | replica-s gateway | replica-s exact | Δ | 429s gateway | 429s exact | final TC gateway / exact | vertical gateway | vertical exact |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n${signalRows.join("\n")}\n\n` : "") +
    `## Seeds (${seeds} per scenario; mean ± 95% confidence half-width)\n\n| scenario | policy | seeds | SLO attainment | replica-s | 429s |\n|---|---|---:|---:|---:|---:|\n${seedRows.join("\n")}\n\n` +
    `## Checks\n\n| scenario | criterion | result | figure |\n|---|---|---|---|\n${checkRows.join("\n")}\n\n${perf}\n## Scenarios\n\n` +
    reports.map((r) => {
      const sc = r.run.scenario;
      const att = r.run.plan.attributions.map((a) => `\nData: ${a}.`).join("");
      return `### ${sc.name}\n\n${sc.description ?? ""}${att}\n\n\`controller/scenarios/${r.file}\`: ${r.run.plan.totalRequests} requests over ${sc.durationS} s; load-tested capacity ${r.run.optimum.capacity} per pod, optimum ${r.run.optimum.concurrency}; every policy starts from ${r.run.initialReplicas} ready replica(s) (static and the oracles from their own size). Bounds: replica-seconds ≥ ${r.bounds.replicaSecondsLowerBound}; reactive rejection floor ${r.bounds.reactiveRejectionFloor}.\n\n${mdTable(r.run.runs.map((x) => x.result))}\n\n${r.sweep.length > 0 ? `Knob sweep:\n\n${frontierSection(r)}\n![${sc.name} frontier](autoscaler-${basename(r.file, ".json")}-frontier.svg)\n\n` : ""}![${sc.name}](autoscaler-${basename(r.file, ".json")}.svg)\n`;
    }).join("\n");
  console.log("\nchecks:");
  for (const c of checks) console.log(`  ${c.pass ? "met    " : "NOT MET"}  ${c.id}  ${c.what}: ${c.figure}`);
  if (!opts.writeDocs) {
    console.log("\n(printed only; --write-docs writes docs/benchmarks/autoscaler.md, .json and the charts)");
    return;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  for (const r of reports) {
    const name = basename(r.file, ".json");
    writeFileSync(join(OUT_DIR, `autoscaler-${name}.svg`), renderChart(r.run));
    if (r.sweep.length > 0) {
      const a = r.run.runs.find((x) => x.result.policy === "apa")!.result;
      writeFileSync(join(OUT_DIR, `autoscaler-${name}-frontier.svg`), renderFrontier(r.run.scenario.name, r.sweep.map((s) => ({ label: s.policy, family: s.family, replicaSeconds: s.replicaSeconds, sloAttainment: s.sloAttainment })), { label: "apa", family: "apa", replicaSeconds: a.replicaSeconds, sloAttainment: a.sloAttainment }, r.bounds.replicaSecondsLowerBound));
    }
  }
  writeFileSync(join(OUT_DIR, "autoscaler.md"), md);
  const json = {
    generatedAt: started,
    engineConfigDigest: digest,
    frozen,
    checks,
    scenarios: reports.map((r) => ({
      name: r.run.scenario.name,
      capacity: r.run.optimum.capacity,
      optimalConcurrency: r.run.optimum.concurrency,
      bounds: r.bounds,
      results: r.run.runs.map((x) => x.result),
      sweep: r.sweep,
      dominance: r.dominance ? { by: r.dominance.by?.label ?? null, replicaSecondsSaved: r.dominance.replicaSecondsSaved, sloGainPp: r.dominance.sloGainPp } : null,
      seeds: r.seeds,
      exactSignals: r.exactSignals ? r.exactSignals.runs[0]!.result : null,
      bySeed: Object.fromEntries([...r.bySeed].map(([k, v]) => [k, v.map((x) => ({ sloAttainment: x.sloAttainment, replicaSeconds: x.replicaSeconds, rejected: x.rejected }))])),
    })),
  };
  writeFileSync(join(OUT_DIR, "autoscaler.json"), `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nwrote ${join(OUT_DIR, "autoscaler.md")}`);
}

new Command()
  .name("bench:autoscaler")
  .option("--scenarios <list>", "only these scenarios (file names without .json)")
  .option("--seeds <n>", "seeds per scenario for APA and the competent baselines", "5")
  .option("--signals <mode>", "override every scenario's signal mode: gateway (production's) or exact (the simulator's own accumulators)")
  .option("--skip-sweeps", "skip the baselines' knob sweeps (no frontier)")
  .option("--skip-perf", "skip the 1 h × 10K QPS speed run")
  .option("--write-docs", "write docs/benchmarks/autoscaler.{md,json} and the SVG charts (default: print only)")
  .action(main)
  .parse();
