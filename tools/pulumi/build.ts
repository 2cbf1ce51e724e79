/**
 * Builds the real Pulumi engine from Go modules into `.tools/pulumi/bin` (git-ignored; nothing prebuilt is
 * downloaded): the Pulumi CLI from `github.com/pulumi/pulumi/pkg/v3` at the version of our `@pulumi/pulumi` npm
 * package (tools/pulumi/cli), and the Kubernetes provider `pulumi-resource-kubernetes` from
 * `github.com/pulumi/pulumi-kubernetes/provider/v4` (tools/pulumi/kubernetes-provider: the one version the
 * module proxy serves). The Node.js language host's module is not served, so the program runs as an
 * Automation API inline program: the Node process itself is the language runtime the engine talks to. Beside
 * them goes `pulumi-resource-pulumi-nodejs`, the dynamic-provider host script the Pulumi distribution ships next
 * to the CLI (copied from our `@pulumi/pulumi` npm package; it runs the package's `cmd/dynamic-provider`).
 *
 * Heavy (tens of minutes cold on 2 cores), so `npm test` builds it only when `AUTOPILOT_PULUMI=1`.
 *
 *   node tools/pulumi/build.ts [--check]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TOOLS_DIR } from "../control-plane/build.ts";

const HERE = fileURLToPath(new URL("./", import.meta.url));
/** The Automation API's `PulumiCommand.get({ root })` wants `<root>/bin/pulumi`. */
export const PULUMI_ROOT = join(TOOLS_DIR, "pulumi");
export const PULUMI_BIN_DIR = join(PULUMI_ROOT, "bin");
const STAMP_FILE = join(PULUMI_ROOT, ".build.sha256");
const PROVIDER_CMD = join(HERE, "kubernetes-provider", "cmd", "pulumi-resource-kubernetes");

interface Target {
  readonly moduleDir: string;
  /** Package to build (a path in the module or an import path of a dependency's main package). */
  readonly pkg: string;
  readonly binary: string;
  readonly ldflags: string;
}

function requiredVersion(moduleDir: string, path: string): string {
  const m = new RegExp(`^\\s*(?:require\\s+)?${path.replaceAll(".", "\\.")} (v\\S+)`, "m").exec(readFileSync(join(moduleDir, "go.mod"), "utf8"));
  if (m === null) throw new Error(`${moduleDir}/go.mod: no ${path} requirement`);
  return m[1]!;
}

function targets(): Target[] {
  const cli = join(HERE, "cli");
  const prov = join(HERE, "kubernetes-provider");
  const providerVersion = requiredVersion(prov, "github.com/pulumi/pulumi-kubernetes/provider/v4").replace(/^v/, "");
  return [
    {
      moduleDir: prov,
      pkg: "./cmd/pulumi-resource-kubernetes",
      binary: "pulumi-resource-kubernetes",
      ldflags: `-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${providerVersion}`,
    },
    {
      moduleDir: cli,
      pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
      binary: "pulumi",
      ldflags: `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${requiredVersion(cli, "github.com/pulumi/pulumi/pkg/v3")}`,
    },
  ];
}

function digest(): string {
  const h = createHash("sha256");
  for (const t of targets()) {
    for (const f of ["go.mod", "go.sum"]) h.update(readFileSync(join(t.moduleDir, f)));
    h.update(t.ldflags);
  }
  for (const f of readdirSync(PROVIDER_CMD).filter((x) => x.endsWith(".go")).sort()) h.update(readFileSync(join(PROVIDER_CMD, f)));
  return h.update(spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" }).stdout).digest("hex");
}

export function pulumiIsCurrent(): boolean {
  return targets().every((t) => existsSync(join(PULUMI_BIN_DIR, t.binary))) && existsSync(join(PULUMI_BIN_DIR, DYNAMIC_PROVIDER_HOST)) && existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, "utf8").trim() === digest();
}

/**
 * What upstream's `go generate` does for the provider: schema-embed.json (schema.json with the version set)
 * and terraform-mapping-embed.json, from the provider module's own files, beside our main.go (git-ignored).
 */
function generateProviderEmbeds(): void {
  const prov = join(HERE, "kubernetes-provider");
  const dir = execFileSync("go", ["list", "-m", "-f", "{{.Dir}}", "github.com/pulumi/pulumi-kubernetes/provider/v4"], { cwd: prov, encoding: "utf8" }).trim();
  const upstream = join(dir, "cmd", "pulumi-resource-kubernetes");
  const schema = JSON.parse(readFileSync(join(upstream, "schema.json"), "utf8")) as Record<string, unknown>;
  schema["version"] = requiredVersion(prov, "github.com/pulumi/pulumi-kubernetes/provider/v4").replace(/^v/, "");
  writeFileSync(join(PROVIDER_CMD, "schema-embed.json"), JSON.stringify(schema));
  writeFileSync(join(PROVIDER_CMD, "terraform-mapping-embed.json"), JSON.stringify(JSON.parse(readFileSync(join(upstream, "terraform-mapping.json"), "utf8"))));
}

/** The dynamic-provider host (`pulumi:providers:pulumi-nodejs`), as the Pulumi distribution ships it beside the CLI. */
export const DYNAMIC_PROVIDER_HOST = "pulumi-resource-pulumi-nodejs";

function installDynamicProviderHost(): void {
  const from = join(HERE, "..", "..", "node_modules", "@pulumi", "pulumi", DYNAMIC_PROVIDER_HOST);
  copyFileSync(from, join(PULUMI_BIN_DIR, DYNAMIC_PROVIDER_HOST));
  chmodSync(join(PULUMI_BIN_DIR, DYNAMIC_PROVIDER_HOST), 0o755);
}

export function ensurePulumi(log: (line: string) => void = () => {}): string {
  mkdirSync(PULUMI_BIN_DIR, { recursive: true });
  installDynamicProviderHost();
  if (pulumiIsCurrent()) return PULUMI_BIN_DIR;
  const parallel = process.env["AUTOPILOT_GO_PARALLEL"] ?? "2";
  const goflags = [process.env["GOFLAGS"] ?? "", "-trimpath", "-buildvcs=false"].join(" ").trim();
  execFileSync("go", ["mod", "download"], { cwd: join(HERE, "kubernetes-provider"), stdio: "inherit" });
  generateProviderEmbeds();
  for (const t of targets()) {
    const started = performance.now();
    log(`pulumi: building ${t.binary} from Go modules into ${PULUMI_BIN_DIR} (go build -p ${parallel})`);
    execFileSync("go", ["build", "-p", parallel, "-ldflags", t.ldflags, "-o", `${PULUMI_BIN_DIR}/`, t.pkg], {
      cwd: t.moduleDir,
      stdio: "inherit",
      env: { ...process.env, GOFLAGS: goflags },
    });
    log(`pulumi: ${t.binary} built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  writeFileSync(STAMP_FILE, `${digest()}\n`);
  return PULUMI_BIN_DIR;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--help")) {
    console.log("usage: node tools/pulumi/build.ts [--check]\n  builds the Pulumi CLI and the Kubernetes provider from Go modules into .tools/pulumi/bin");
  } else if (process.argv.includes("--check")) {
    if (!pulumiIsCurrent()) {
      console.error(`${PULUMI_BIN_DIR} is missing or stale: run node tools/pulumi/build.ts (or AUTOPILOT_PULUMI=1 node tools/setup.ts)`);
      process.exit(1);
    }
    console.log(PULUMI_BIN_DIR);
  } else {
    console.log(ensurePulumi((l) => console.error(l)));
  }
}
