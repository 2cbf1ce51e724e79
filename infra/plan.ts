/**
 * `npm run plan -- --stack <name> [--json] [--dockerfiles <dir>]`: runs the program offline under Pulumi's mocks with
 * `Pulumi.<stack>.yaml` and prints the resource inventory — for reviewing a change without cloud credentials.
 * `--dockerfiles` writes the Dockerfile of every MLflow serving image the stack needs as `<dir>/<tag>.Dockerfile`
 * (for a pipeline that builds them ahead of the deploy and sets `servingImageRepository`; build each with an empty
 * context: `docker build -t <repository>:<tag> -f <dir>/<tag>.Dockerfile <empty dir>`).
 * Exit code 2 with the validation message when the stack, its config or an endpoint declaration is bad (the same
 * code `npm run check` gives for the same error).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { evaluateStack } from "./evaluate.ts";
import { inventory } from "./inventory.ts";

const program = new Command()
  .name("plan")
  .description("Offline mock evaluation of a stack: prints every resource the program would register.")
  .requiredOption("--stack <name>", "stack name (reads Pulumi.<name>.yaml)")
  .option("--json", "print JSON instead of a table", false)
  .option("--set <key=value...>", "override config values", [])
  .option("--dockerfiles <dir>", "write each serving image's Dockerfile as <dir>/<tag>.Dockerfile instead of printing the inventory")
  .parse();

const opts = program.opts<{ stack: string; json: boolean; set: string[]; dockerfiles?: string }>();
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
  // The images are registered only when the program builds them.
  const ev = await evaluateStack(opts.stack, { overrides: opts.dockerfiles !== undefined ? { ...overrides, servingImageRepository: "" } : overrides });
  const inv = inventory(ev);
  if (opts.dockerfiles !== undefined) {
    mkdirSync(opts.dockerfiles, { recursive: true });
    // ServingImages names each image `<component>-<tag>` (components/model/serving-images.ts).
    const images = ev.resources.flatMap((r) => {
      const tag = r.type === "docker-build:index:Image" ? /-(py\d+\.\d+-[0-9a-f]{16})$/.exec(r.name)?.[1] : undefined;
      return tag !== undefined ? [{ r, tag }] : [];
    });
    for (const { r, tag } of images) {
      writeFileSync(join(opts.dockerfiles, `${tag}.Dockerfile`), String((r.inputs.dockerfile as { inline?: string } | undefined)?.inline ?? ""));
      process.stdout.write(`${tag}\t${join(opts.dockerfiles, `${tag}.Dockerfile`)}\n`);
    }
    process.stdout.write(`${images.length} serving image Dockerfile(s) written to ${opts.dockerfiles}\n`);
  } else if (opts.json) {
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
