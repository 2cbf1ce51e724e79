/**
 * `npm run check -- --stack <name> [--set key=value ...] [--fixture <file>] [--config <file>] [--json] [--preview]`
 *
 * OFFLINE policy check: evaluates the Pulumi program for an example stack under Pulumi's mocks, runs the whole
 * policy pack on what it registered (as the policy server would), prints violations grouped by resource with
 * their remediation, and exits 1 on any mandatory violation, 2 on a usage error or bad input (an unknown stack, a bad
 * config value or endpoint declaration: the code `npm run plan` gives for the same error). It is not a
 * `pulumi preview`: no provider, cloud or cluster is involved.
 */
import { existsSync, readFileSync } from "node:fs";
import { Command } from "commander";
import { definitions, pulumiPolicies } from "./pack.ts";
import { makeUrn, runPack, type OfflineResource, type PackConfig } from "./offline/run-pack.ts";
import { loadPackConfig } from "./offline/pack-config.ts";
import { formatReport, summarize } from "./offline/report.ts";
import { evaluateProgram } from "./offline/evaluate-program.ts";

interface Options {
  stack: string;
  fixture?: string[];
  config?: string;
  inventory?: string;
  json?: boolean;
  preview?: boolean;
  set: string[];
}

/** Reads a fixture: a JSON array of `{ type, name, props }` resources appended to the evaluated stack. */
export function loadFixture(path: string, stack: string): OfflineResource[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`--fixture ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new Error(`--fixture ${path}: expected a JSON array of resources, got ${typeof raw}`);
  return raw.map((r: unknown, i: number) => {
    const o = r as Partial<OfflineResource>;
    if (typeof o?.type !== "string" || typeof o.name !== "string" || typeof o.props !== "object" || o.props === null) {
      throw new Error(`--fixture ${path}: item [${i}] needs string "type", string "name" and object "props"`);
    }
    return { ...(o as OfflineResource), urn: o.urn ?? makeUrn(o.type, o.name, stack) };
  });
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("npm run check --")
    .description("OFFLINE policy check: the program under Pulumi mocks + the whole policy pack (not a real pulumi preview)")
    .requiredOption("--stack <name>", "example stack to evaluate (local, staging-aws, prod-gcp)")
    .option("--fixture <file...>", "JSON array of extra resources to add (e.g. policies/fixtures/broken-endpoint.json)")
    .option("--config <file>", "policy pack config (default: policies/config/<stack>.json when it exists)")
    .option("--inventory <file>", "check this JSON resource list instead of evaluating the program")
    .option("--json", "print diagnostics as JSON")
    .option("--preview", "run the program in preview mode (pulumi.runtime.isDryRun() true)")
    .option("--set <key=value...>", "override config values (as npm run plan -- --set)", [])
    .exitOverride();
  let opts: Options;
  try {
    opts = program.parse(argv, { from: "user" }).opts<Options>();
  } catch (e) {
    return (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  try {
    const defaultConfig = new URL(`./config/${opts.stack}.json`, import.meta.url).pathname;
    const configPath = opts.config ?? (existsSync(defaultConfig) ? defaultConfig : undefined);
    const config: PackConfig = configPath !== undefined ? loadPackConfig(configPath, definitions) : {};
    const overrides: Record<string, string> = {};
    for (const kv of opts.set) {
      const at = kv.indexOf("=");
      if (at < 1) throw new Error(`--set "${kv}": expected key=value`);
      overrides[kv.slice(0, at)] = kv.slice(at + 1);
    }
    const evaluated = opts.inventory !== undefined ? loadFixture(opts.inventory, opts.stack) : await evaluateProgram(opts.stack, opts.preview ?? false, overrides);
    const resources = [...evaluated, ...(opts.fixture ?? []).flatMap((f) => loadFixture(f, opts.stack))];
    const diagnostics = await runPack(pulumiPolicies(), resources, config);
    const s = summarize(diagnostics);
    if (opts.json) {
      console.log(JSON.stringify({ offline: true, stack: opts.stack, resources: resources.length, summary: s, diagnostics }, null, 2));
    } else {
      console.log(formatReport({ stack: opts.stack, resources, policyCount: definitions.length, configSource: configPath ?? "(defaults)", diagnostics }));
    }
    return s.mandatory > 0 ? 1 : 0;
  } catch (e) {
    console.error(`policy check error: ${(e as Error).message}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
