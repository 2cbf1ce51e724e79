/**
 * A Go module built into `.tools` only when its inputs change: a stamp file holds the SHA-256 of the module's
 * files (go.mod, go.sum and any others named), the Go version and the link flags, and the build runs when that
 * digest differs or an output is missing. tools/actionlint/build.ts and tools/control-plane/build.ts are two.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** `.tools` (or `AUTOPILOT_TOOLS_DIR`): where built tools live. */
export const TOOLS_DIR = process.env["AUTOPILOT_TOOLS_DIR"] ?? join(fileURLToPath(new URL("../", import.meta.url)), ".tools");

export interface StampedGoBuild {
  /** What the messages call it, e.g. "actionlint", "the control plane". */
  readonly what: string;
  /** Prefix of the progress lines, e.g. "actionlint". */
  readonly logPrefix: string;
  /** The Go module's folder (go.mod, go.sum). */
  readonly moduleDir: string;
  /** The Go toolchain it needs, for the error when `go` is missing, e.g. "go.dev toolchain ≥ 1.25". */
  readonly goNeeded: string;
  /** What the build produces (a binary or a bin directory): printed, returned, named in errors. */
  readonly output: string;
  /** Files that must all exist for the build to be current. */
  readonly outputFiles: () => readonly string[];
  /** The folder the binaries go into (made before a build). */
  readonly binDir: string;
  readonly stampFile: string;
  /** Sources hashed after go.mod and go.sum, as [name in the digest, path], in order. */
  readonly extraSources?: () => readonly (readonly [string, string])[];
  /** `go build -ldflags`. */
  readonly linkFlags: () => string;
  /** `go build` arguments after `-p` and `-ldflags`: `-o …` and the packages. */
  readonly buildArgs: readonly string[];
  /** The line logged when a build starts, given `go build -p`. */
  readonly startLine: (parallel: string) => string;
}

function goVersion(b: StampedGoBuild): string {
  const probe = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`Go is needed to build ${b.what} (${b.goNeeded}); \`go\` was not found`);
  return probe.stdout.trim();
}

function sourceDigest(b: StampedGoBuild): string {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum"]) h.update(f).update(readFileSync(join(b.moduleDir, f)));
  for (const [name, path] of b.extraSources?.() ?? []) h.update(name).update(readFileSync(path));
  return h.update(goVersion(b)).update(b.linkFlags()).digest("hex");
}

/** True when every output exists and the stamp matches the current inputs. */
export function isCurrent(b: StampedGoBuild): boolean {
  return b.outputFiles().every((f) => existsSync(f)) && existsSync(b.stampFile) && readFileSync(b.stampFile, "utf8").trim() === sourceDigest(b);
}

/** The output, or an error naming the command that builds it. For tests. */
export function requireBuilt(b: StampedGoBuild): string {
  if (!isCurrent(b)) throw new Error(`${b.what} in ${b.output} is missing or older than ${b.moduleDir}: run \`node tools/setup.ts\` (npm test runs it first)`);
  return b.output;
}

/** Builds when stale; logs progress with `log`. Returns the output. */
export function ensureBuilt(b: StampedGoBuild, log: (line: string) => void = () => {}): string {
  if (isCurrent(b)) return b.output;
  const started = performance.now();
  mkdirSync(b.binDir, { recursive: true });
  const parallel = process.env["AUTOPILOT_GO_PARALLEL"] ?? "2";
  log(b.startLine(parallel));
  const goflags = [process.env["GOFLAGS"] ?? "", "-trimpath", "-buildvcs=false"].join(" ").trim();
  execFileSync("go", ["build", "-p", parallel, "-ldflags", b.linkFlags(), ...b.buildArgs], {
    cwd: b.moduleDir,
    stdio: "inherit",
    env: { ...process.env, GOFLAGS: goflags },
  });
  writeFileSync(b.stampFile, `${sourceDigest(b)}\n`);
  log(`${b.logPrefix}: built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return b.output;
}

/** The build script's command line: `--help`, `--check` (exit 1 when missing or stale), else build when stale. */
export function buildCommand(b: StampedGoBuild, usage: string, ensure: (log: (line: string) => void) => string): void {
  if (process.argv.includes("--help")) {
    console.log(usage);
  } else if (process.argv.includes("--check")) {
    if (!isCurrent(b)) {
      console.error(`${b.output} is missing or stale: run node tools/setup.ts`);
      process.exit(1);
    }
    console.log(b.output);
  } else {
    console.log(ensure((l) => console.error(l)));
  }
}
