/**
 * `npm run plan -- --stack <name> [--json]`: runs the program offline under Pulumi's mocks with
 * `Pulumi.<stack>.yaml` and prints the resource inventory — for reviewing a change without cloud credentials.
 * Exit code 2 with the validation message when the stack, its config or an endpoint declaration is bad (the same
 * code `npm run check` gives for the same error).
 */
import { Command } from "commander";
import { evaluateStack } from "./evaluate.ts";
import { inventory } from "./inventory.ts";

const program = new Command()
  .name("plan")
  .description("Offline mock evaluation of a stack: prints every resource the program would register.")
  .requiredOption("--stack <name>", "stack name (reads Pulumi.<name>.yaml)")
  .option("--json", "print JSON instead of a table", false)
  .option("--set <key=value...>", "override config values", [])
  .parse();

const opts = program.opts<{ stack: string; json: boolean; set: string[] }>();
const overrides: Record<string, string> = {};
for (const kv of opts.set) {
  const at = kv.indexOf("=");
  if (at < 1) {
    console.error(`--set "${kv}": expected key=value`);
    process.exit(2);
  }
  overrides[kv.slice(0, at)] = kv.slice(at + 1);
}

try {
  const ev = await evaluateStack(opts.stack, { overrides });
  const inv = inventory(ev);
  if (opts.json) {
    process.stdout.write(JSON.stringify(inv, null, 2) + "\n");
  } else {
    const out: string[] = [`=== ${inv.label} ===`, `stack ${inv.stack} (cloud ${inv.cloud}): ${inv.resourceCount} resources`, "", "components:"];
    for (const [t, n] of Object.entries(inv.components)) out.push(`  ${t} ×${n}`);
    out.push("", `pod requests after up (initial replicas, charts and operator pods included): ${inv.requests.cpu} CPU, ${inv.requests.memoryGiB} GiB`);
    if (inv.gaps.length > 0) out.push("", "gaps:", ...inv.gaps.map((g) => `  - ${g}`));
    out.push("", "outputs:", ...JSON.stringify(inv.outputs, null, 2).split("\n").map((l) => `  ${l}`), "", "resources (type | name | parent | key properties):");
    for (const r of inv.resources) out.push(`  ${r.type} | ${r.name} | ${r.parent || "-"}${Object.keys(r.key).length > 0 ? ` | ${JSON.stringify(r.key)}` : ""}`);
    out.push("", `=== ${inv.label} ===`);
    process.stdout.write(out.join("\n") + "\n");
  }
} catch (e) {
  console.error(`plan --stack ${opts.stack} failed:\n${(e as Error).message}`);
  process.exit(2);
}
