/**
 * Builds actionlint, the GitHub Actions workflow linter `test/workflows/` runs, from its published Go module
 * (this folder's go.mod: `github.com/rhysd/actionlint`, a `tool` requirement pinned with go.sum) into
 * `.tools/actionlint/bin/actionlint` (git-ignored). Nothing prebuilt is downloaded. A stamp file holds the SHA-256
 * of the module files, the Go version and the link flags; the build runs only when that changes. A cold build
 * (empty Go build cache, modules already downloaded) takes about 30 s of CPU; with the cache warm, a few seconds.
 *
 *   node tools/actionlint/build.ts            build when stale, print the binary's path
 *   node tools/actionlint/build.ts --check    exit 1 (with the command to run) when missing or stale
 *
 * Environment: `AUTOPILOT_TOOLS_DIR` moves `.tools`; `GOFLAGS`, `GOCACHE`, `GOMODCACHE` are Go's own;
 * `AUTOPILOT_GO_PARALLEL` is `go build -p` (default 2).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The Go module. */
export const MODULE_DIR = fileURLToPath(new URL("./", import.meta.url));
/** `.tools` (or `AUTOPILOT_TOOLS_DIR`). */
export const TOOLS_DIR = process.env["AUTOPILOT_TOOLS_DIR"] ?? join(REPO_ROOT, ".tools");
export const ACTIONLINT_BIN = join(TOOLS_DIR, "actionlint", "bin", "actionlint");
const STAMP_FILE = join(TOOLS_DIR, "actionlint", ".build.sha256");
const PACKAGE = "github.com/rhysd/actionlint/cmd/actionlint";

/** The actionlint version go.mod requires (e.g. "v1.7.12"). */
export function actionlintVersion(): string {
  const m = /^\s*github\.com\/rhysd\/actionlint (v\d+\.\d+\.\d+)\b/m.exec(readFileSync(join(MODULE_DIR, "go.mod"), "utf8"));
  if (m === null) throw new Error(`${join(MODULE_DIR, "go.mod")}: no github.com/rhysd/actionlint requirement`);
  return m[1]!;
}

/** Link flags: strip symbols, and the version `actionlint -version` reports (a dependency build has none of its own). */
export function linkFlags(): string {
  return `-s -w -X github.com/rhysd/actionlint.version=${actionlintVersion()}`;
}

function goVersion(): string {
  const probe = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error("Go is needed to build actionlint (go.dev toolchain ≥ 1.25); `go` was not found");
  return probe.stdout.trim();
}

function sourceDigest(): string {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum"]) h.update(f).update(readFileSync(join(MODULE_DIR, f)));
  return h.update(goVersion()).update(linkFlags()).digest("hex");
}

export function actionlintIsCurrent(): boolean {
  return existsSync(ACTIONLINT_BIN) && existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, "utf8").trim() === sourceDigest();
}

/** The binary's path, or an error naming the command that builds it. For tests. */
export function requireActionlint(): string {
  if (!actionlintIsCurrent()) throw new Error(`actionlint in ${ACTIONLINT_BIN} is missing or older than ${MODULE_DIR}: run \`node tools/setup.ts\` (npm test runs it first)`);
  return ACTIONLINT_BIN;
}

/** Builds when stale; logs progress with `log`. Returns the binary's path. */
export function ensureActionlint(log: (line: string) => void = () => {}): string {
  if (actionlintIsCurrent()) return ACTIONLINT_BIN;
  const started = performance.now();
  mkdirSync(join(TOOLS_DIR, "actionlint", "bin"), { recursive: true });
  const parallel = process.env["AUTOPILOT_GO_PARALLEL"] ?? "2";
  log(`actionlint: building ${actionlintVersion()} from its Go module into ${ACTIONLINT_BIN} (about 30 s of CPU with a cold Go cache)`);
  const goflags = [process.env["GOFLAGS"] ?? "", "-trimpath", "-buildvcs=false"].join(" ").trim();
  execFileSync("go", ["build", "-p", parallel, "-ldflags", linkFlags(), "-o", ACTIONLINT_BIN, PACKAGE], {
    cwd: MODULE_DIR,
    stdio: "inherit",
    env: { ...process.env, GOFLAGS: goflags },
  });
  writeFileSync(STAMP_FILE, `${sourceDigest()}\n`);
  log(`actionlint: built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return ACTIONLINT_BIN;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--help")) {
    console.log("usage: node tools/actionlint/build.ts [--check]\n  builds actionlint from its Go module; --check only reports whether it is current");
  } else if (process.argv.includes("--check")) {
    if (!actionlintIsCurrent()) {
      console.error(`${ACTIONLINT_BIN} is missing or stale: run node tools/setup.ts`);
      process.exit(1);
    }
    console.log(ACTIONLINT_BIN);
  } else {
    console.log(ensureActionlint((l) => console.error(l)));
  }
}
