/**
 * Test tools built from published Go modules into `.tools/go-tools/bin` (git-ignored; `AUTOPILOT_TOOLS_DIR` moves
 * `.tools`). Nothing prebuilt is downloaded:
 * - `fake-gcs-server` (github.com/fsouza/fake-gcs-server): a GCS JSON-API server the GCS payload sink is tested
 *   against;
 * - `otelcol-autopilot`: an OpenTelemetry Collector built by the collector's own builder
 *   (go.opentelemetry.io/collector/cmd/builder) from `otelcol-builder.yaml`, with exactly the components the
 *   platform's collector config uses, so the tests run `otelcol validate` on the rendered config.
 * A stamp per tool holds its version (and the manifest's SHA-256); a build runs only when that changes.
 *
 *   node tools/go-tools/build.ts            build what is stale, print the bin directory
 *   node tools/go-tools/build.ts --check    exit 1 (with the command to run) when a tool is missing or stale
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TOOLS_DIR = process.env["AUTOPILOT_TOOLS_DIR"] ?? join(REPO_ROOT, ".tools");
export const GO_TOOLS_BIN = join(TOOLS_DIR, "go-tools", "bin");
const MANIFEST = fileURLToPath(new URL("./otelcol-builder.yaml", import.meta.url));

export const FAKE_GCS_SERVER = { module: "github.com/fsouza/fake-gcs-server", version: "v1.56.1" } as const;
export const OTELCOL_BUILDER = { module: "go.opentelemetry.io/collector/cmd/builder", version: "v0.136.0" } as const;

export type GoTool = "fake-gcs-server" | "otelcol-autopilot";

function stampOf(tool: GoTool): string {
  if (tool === "fake-gcs-server") return `${FAKE_GCS_SERVER.module}@${FAKE_GCS_SERVER.version}`;
  return `${OTELCOL_BUILDER.module}@${OTELCOL_BUILDER.version} ${createHash("sha256").update(readFileSync(MANIFEST)).digest("hex")}`;
}
const stampFile = (tool: GoTool) => join(GO_TOOLS_BIN, `.${tool}.stamp`);

export function goToolIsCurrent(tool: GoTool): boolean {
  return existsSync(join(GO_TOOLS_BIN, tool)) && existsSync(stampFile(tool)) && readFileSync(stampFile(tool), "utf8").trim() === stampOf(tool);
}

/** Path of a built tool, or an error naming the command that builds it. For tests. */
export function requireGoTool(tool: GoTool): string {
  if (!goToolIsCurrent(tool)) throw new Error(`${join(GO_TOOLS_BIN, tool)} is missing or stale: run \`node tools/setup.ts\` (npm test runs it first)`);
  return join(GO_TOOLS_BIN, tool);
}

/** Builds what is stale; returns the bin directory. */
export function ensureGoTools(log: (line: string) => void = () => {}): string {
  mkdirSync(GO_TOOLS_BIN, { recursive: true });
  const env = { ...process.env, GOBIN: GO_TOOLS_BIN, GOFLAGS: [process.env["GOFLAGS"] ?? "", "-trimpath", "-buildvcs=false"].join(" ").trim() };
  if (!goToolIsCurrent("fake-gcs-server")) {
    log(`go-tools: building fake-gcs-server ${FAKE_GCS_SERVER.version} into ${GO_TOOLS_BIN}`);
    execFileSync("go", ["install", `${FAKE_GCS_SERVER.module}@${FAKE_GCS_SERVER.version}`], { stdio: "inherit", env });
    writeFileSync(stampFile("fake-gcs-server"), `${stampOf("fake-gcs-server")}\n`);
  }
  if (!goToolIsCurrent("otelcol-autopilot")) {
    log(`go-tools: building the OpenTelemetry Collector of ${MANIFEST} with the builder ${OTELCOL_BUILDER.version} (minutes on 2 cores)`);
    execFileSync("go", ["install", `${OTELCOL_BUILDER.module}@${OTELCOL_BUILDER.version}`], { stdio: "inherit", env });
    const work = mkdtempSync(join(tmpdir(), "otelcol-build-"));
    try {
      const manifest = parse(readFileSync(MANIFEST, "utf8")) as { dist: Record<string, unknown> };
      manifest.dist["output_path"] = work;
      writeFileSync(join(work, "builder.yaml"), stringify(manifest));
      execFileSync(join(GO_TOOLS_BIN, "builder"), ["--config", join(work, "builder.yaml")], { stdio: "inherit", env });
      execFileSync("cp", [join(work, "otelcol-autopilot"), join(GO_TOOLS_BIN, "otelcol-autopilot")]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    writeFileSync(stampFile("otelcol-autopilot"), `${stampOf("otelcol-autopilot")}\n`);
  }
  return GO_TOOLS_BIN;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    const stale = (["fake-gcs-server", "otelcol-autopilot"] as const).filter((t) => !goToolIsCurrent(t));
    if (stale.length > 0) {
      console.error(`${stale.join(", ")} in ${GO_TOOLS_BIN}: missing or stale; run node tools/setup.ts`);
      process.exit(1);
    }
    console.log(GO_TOOLS_BIN);
  } else {
    console.log(ensureGoTools((l) => console.error(l)));
  }
}
