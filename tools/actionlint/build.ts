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
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCommand, ensureBuilt, isCurrent, requireBuilt, TOOLS_DIR, type StampedGoBuild } from "../go-build.ts";

/** The Go module. */
export const MODULE_DIR = fileURLToPath(new URL("./", import.meta.url));
export { TOOLS_DIR } from "../go-build.ts";
export const ACTIONLINT_BIN = join(TOOLS_DIR, "actionlint", "bin", "actionlint");
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

const BUILD: StampedGoBuild = {
  what: "actionlint",
  logPrefix: "actionlint",
  moduleDir: MODULE_DIR,
  goNeeded: "go.dev toolchain ≥ 1.25",
  output: ACTIONLINT_BIN,
  outputFiles: () => [ACTIONLINT_BIN],
  binDir: join(TOOLS_DIR, "actionlint", "bin"),
  stampFile: join(TOOLS_DIR, "actionlint", ".build.sha256"),
  linkFlags,
  buildArgs: ["-o", ACTIONLINT_BIN, PACKAGE],
  startLine: () => `actionlint: building ${actionlintVersion()} from its Go module into ${ACTIONLINT_BIN} (about 30 s of CPU with a cold Go cache)`,
};

export function actionlintIsCurrent(): boolean {
  return isCurrent(BUILD);
}

/** The binary's path, or an error naming the command that builds it. For tests. */
export function requireActionlint(): string {
  return requireBuilt(BUILD);
}

/** Builds when stale; logs progress with `log`. Returns the binary's path. */
export function ensureActionlint(log: (line: string) => void = () => {}): string {
  return ensureBuilt(BUILD, log);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildCommand(BUILD, "usage: node tools/actionlint/build.ts [--check]\n  builds actionlint from its Go module; --check only reports whether it is current", ensureActionlint);
}
