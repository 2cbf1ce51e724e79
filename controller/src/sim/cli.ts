/**
 * `npm run simulate -- <scenario.json> [--policies apa,kpa,hpa,ray,static,oracle] [--json] [--chart out.svg]`
 * Replays a scenario under each policy and prints a comparison table (or JSON).
 */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { renderChart } from "./chart.ts";
import { DEFAULT_POLICIES, parsePolicies, POLICY_NAMES } from "./policies/index.ts";
import { formatTable } from "./report.ts";
import { runScenario } from "./run.ts";
import { loadScenario, ScenarioError } from "./scenario.ts";

const program = new Command()
  .name("simulate")
  .description("Replay a traffic scenario through the APA engine and the baseline autoscalers")
  .argument("<scenario>", "scenario JSON file (schema: controller/src/sim/scenario.schema.json)")
  .option("--policies <list>", `comma-separated policies: ${POLICY_NAMES.join(",")}`, DEFAULT_POLICIES.join(","))
  .option("--json", "print {scenario, results} as JSON instead of a table")
  .option("--seed <n>", "override the scenario's seed (an integer)")
  .option("--chart <file>", "write an SVG chart of every policy over time")
  .action((file: string, opts: { policies: string; json?: boolean; chart?: string; seed?: string }) => {
    try {
      const policies = parsePolicies(opts.policies);
      if (opts.seed !== undefined && !/^-?\d+$/.test(opts.seed)) throw new Error(`--seed: must be an integer, got "${opts.seed}"`);
      const loaded = loadScenario(file);
      const scenario = opts.seed === undefined ? loaded : { ...loaded, seed: Number(opts.seed) };
      const run = runScenario(scenario, policies);
      const results = run.runs.map((r) => r.result);
      const attributions = run.plan.attributions;
      if (opts.json) {
        console.log(JSON.stringify({ scenario: scenario.name, optimalConcurrency: run.optimum.concurrency, attributions, results }, null, 2));
      } else {
        console.log(`scenario ${scenario.name}: ${run.plan.totalRequests} requests over ${scenario.durationS} s; ` +
          `optimal concurrency ${run.optimum.concurrency} (${run.optimum.throughputRps.toFixed(1)} req/s per pod); ` +
          `start ${run.initialReplicas} ready replicas`);
        console.log(formatTable(results));
        for (const a of attributions) console.log(`data: ${a}`);
      }
      if (opts.chart) {
        writeFileSync(opts.chart, renderChart(run));
        if (!opts.json) console.log(`chart written to ${opts.chart}`);
      }
    } catch (e) {
      if (e instanceof ScenarioError || e instanceof Error) {
        console.error(e.message);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  });

program.parse();
