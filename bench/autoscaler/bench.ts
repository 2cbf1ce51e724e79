/**
 * `npm run bench:autoscaler [-- --scenarios a,b] [--seeds 5] [--skip-sweeps] [--skip-perf] [--write-docs]`
 * Every library scenario under APA, the competently configured baselines (kpa, hpa, ray), the projects' defaults
 * (kpa-default, hpa-cpu, ray-default), static and the oracles; each baseline's main knob swept (Pareto frontier of
 * replica-seconds vs SLO attainment); bounds (replica-seconds lower bound, reactive rejection floor); APA and the
 * competent baselines again on more seeds (means with 95% confidence intervals); the design's checks; the
 * simulator's speed. Prints the report; writes docs/benchmarks/autoscaler.{md,json} and the SVG charts only with
 * --write-docs. Simulated figures are deterministic per seed; wall and CPU times are not.
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
import type { PolicyName } from "../../controller/src/sim/policies/index.ts";
import type { PolicyResult } from "../../controller/src/sim/report.ts";
import { prepareScenario, runPolicy, runScenario, type ScenarioRun } from "../../controller/src/sim/run.ts";
import { loadScenario } from "../../controller/src/sim/scenario.ts";
import { dominance, meanCi, paretoFrontier, sweepSpecs, type Dominance, type FrontierPoint } from "../../controller/src/sim/sweep.ts";
import { acceptanceChecks, verticalCheck, type Check } from "./bench-checks.ts";
import { engineConfigDigest, FROZEN_ENGINE_CONFIG_SHA256, HELD_OUT_SCENARIOS } from "./frozen.ts";

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

function runOne(file: string, seeds: number, sweeps: boolean): ScenarioReport {
  const sc = loadScenario(join(SCENARIOS, file));
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
  const line = (r: PolicyResult) => `  ${r.policy.padEnd(20)} slo ${pct(r.sloAttainment).padStart(9)}  replica-s ${r.replicaSeconds.toFixed(0).padStart(8)}  429 ${String(r.rejected).padStart(8)}  absorb ${r.timeToAbsorbS ?? "-"}`;
  console.log(`\n== ${sc.name}: capacity ${ctx.optimum.capacity}, optimum ${ctx.optimum.concurrency}; lower bound ${bounds.replicaSecondsLowerBound} replica-s; reactive floor ${bounds.reactiveRejectionFloor} × 429`);
  for (const r of run.runs) console.log(line(r.result));
  for (const r of sweep) console.log(line(r));
  if (d) console.log(d.by ? `  APA DOMINATED by ${d.by.label}: ${pct(d.replicaSecondsSaved, 1)} fewer replica-s, +${d.sloGainPp.toFixed(3)} pp SLO` : "  APA not dominated by any frontier point");
  return { file, run, bounds, sweep, dominance: d, seeds: seedList, bySeed };
}

function frontierSection(r: ScenarioReport): string {
  const a = r.run.runs.find((x) => x.result.policy === "apa")!.result;
  const front = paretoFrontier(r.sweep.map((s) => ({ label: s.policy, family: s.family, replicaSeconds: s.replicaSeconds, sloAttainment: s.sloAttainment })));
  const rows = r.sweep.map((s) => `| ${s.policy} | ${pct(s.sloAttainment)} | ${s.replicaSeconds.toFixed(0)} | ${s.nodeSeconds.toFixed(0)} | ${s.rejected} | ${front.some((f) => f.label === s.policy) ? "yes" : ""} |`);
  return `| point | SLO attainment | replica-s | node-s | 429s | on the frontier |\n|---|---:|---:|---:|---:|---|\n| **apa** | ${pct(a.sloAttainment)} | ${a.replicaSeconds.toFixed(0)} | ${a.nodeSeconds.toFixed(0)} | ${a.rejected} | |\n${rows.join("\n")}\n`;
}

function main(opts: { scenarios?: string; seeds: string; skipSweeps?: boolean; skipPerf?: boolean; writeDocs?: boolean }): void {
  const seeds = Number(opts.seeds);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 11) throw new Error(`--seeds: must be an integer in [1, 11], got ${opts.seeds}`);
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
  const reports = chosen.map((f) => runOne(f, seeds, !opts.skipSweeps));
  const runs = reports.map((r) => r.run);
  const floors = new Map(reports.map((r) => [r.run.scenario.name, r.bounds.reactiveRejectionFloor]));
  const checks: Check[] = acceptanceChecks(runs, floors);
  for (const run of runs.filter((r) => r.scenario.name.startsWith("vertical-") || r.scenario.name === "io-large-pool")) checks.push(verticalCheck(run));
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
  const seedRows = reports.flatMap((r) => SEEDED.map((p) => {
    const xs = r.bySeed.get(p) ?? [];
    return `| ${r.run.scenario.name} | ${p} | ${xs.length} | ${ci(xs.map((x) => x.sloAttainment), 100, 3)} % | ${ci(xs.map((x) => x.replicaSeconds))} | ${ci(xs.map((x) => x.rejected))} |`;
  }));
  const checkRows = checks.map((c) => `| ${c.id} | ${c.what} | ${c.pass ? "met" : "**not met**"} | ${c.figure} |`);
  const md =
    `# Autoscaler benchmark\n\nProduced by \`npm run bench:autoscaler -- ${process.argv.slice(2).join(" ")}\` (bench/autoscaler/bench.ts; \`npm run bench:autoscaler -- --write-docs\` runs every scenario on 5 seeds) at ${started}, code at ${commit}, on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"} ` +
    `(load average at the start ${load0.map((x) => x.toFixed(1)).join(" ")}; simulated figures are deterministic per seed, wall and CPU times are not). ` +
    `Engine constants digest \`${digest.slice(0, 16)}\` (${frozen ? "the frozen set" : "**not** the frozen set"}); held out: ${HELD_OUT_SCENARIOS.join(", ")}. Definitions: docs/simulator.md.\n\n` +
    `## Is APA dominated by a competently configured baseline?\n\nEach baseline's main knob swept (bench/autoscaler, controller/src/sim/sweep.ts); a point dominates APA when it has at least APA's SLO attainment for at most its replica-seconds. Scenario seed only.\n\n| scenario | APA SLO | APA replica-s | replica-s lower bound | verdict |\n|---|---:|---:|---:|---|\n${domRows.join("\n")}\n\n` +
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
  .option("--skip-sweeps", "skip the baselines' knob sweeps (no frontier)")
  .option("--skip-perf", "skip the 1 h × 10K QPS speed run")
  .option("--write-docs", "write docs/benchmarks/autoscaler.{md,json} and the SVG charts (default: print only)")
  .action(main)
  .parse();
