/**
 * Builds the Kubernetes control plane the tests run against from published Go modules (this folder's go.mod:
 * `k8s.io/kubernetes` with its staging modules pinned, `sigs.k8s.io/kwok`): kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok, into `.tools/control-plane/bin` (git-ignored). Nothing
 * prebuilt is downloaded. A stamp file holds the SHA-256 of the module files, the Go version and the link flags;
 * the build runs only when that changes (Go's build cache makes a re-run after a change quick).
 *
 *   node tools/control-plane/build.ts            build when stale, print the bin directory
 *   node tools/control-plane/build.ts --check    exit 1 (with the command to run) when missing or stale
 *
 * Environment: `AUTOPILOT_TOOLS_DIR` moves `.tools`; `GOFLAGS`, `GOCACHE`, `GOMODCACHE` are Go's own;
 * `AUTOPILOT_GO_PARALLEL` is `go build -p` (default 2: the machines this runs on have 2 cores).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The Go module. */
export const MODULE_DIR = fileURLToPath(new URL("./", import.meta.url));
/** `.tools` (or `AUTOPILOT_TOOLS_DIR`): where built tools live. */
export const TOOLS_DIR = process.env["AUTOPILOT_TOOLS_DIR"] ?? join(REPO_ROOT, ".tools");
export const BIN_DIR = join(TOOLS_DIR, "control-plane", "bin");
const STAMP_FILE = join(TOOLS_DIR, "control-plane", ".build.sha256");

/** The commands built (one `main` package each under cmd/). */
export const COMMANDS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;
export type Command = (typeof COMMANDS)[number];

/** The Kubernetes version of go.mod's k8s.io/kubernetes requirement (e.g. "v1.36.1"). */
export function kubernetesVersion(): string {
  const m = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)\s*$/m.exec(readFileSync(join(MODULE_DIR, "go.mod"), "utf8"));
  if (m === null) throw new Error(`${join(MODULE_DIR, "go.mod")}: no k8s.io/kubernetes requirement`);
  return m[1]!;
}

/**
 * Link flags: the version the binaries report (`/version`, what clients such as kubectl and the Pulumi
 * provider read). Without them an upstream build from the module reports v0.0.0-master.
 */
export function linkFlags(): string {
  const version = kubernetesVersion();
  const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version)!;
  const vars = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
  return ["-s", "-w", ...vars].join(" ");
}

function goVersion(): string {
  const probe = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error("Go is needed to build the control plane (go.dev toolchain ≥ 1.26, or Debian's golang from backports); `go` was not found");
  return probe.stdout.trim();
}

function sourceDigest(): string {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum"]) h.update(f).update(readFileSync(join(MODULE_DIR, f)));
  for (const cmd of COMMANDS) {
    const dir = join(MODULE_DIR, "cmd", cmd);
    for (const f of readdirSync(dir).sort()) h.update(`${cmd}/${f}`).update(readFileSync(join(dir, f)));
  }
  return h.update(goVersion()).update(linkFlags()).digest("hex");
}

/** Path of a built command. */
export function binary(cmd: Command): string {
  return join(BIN_DIR, cmd);
}

export function controlPlaneIsCurrent(): boolean {
  return COMMANDS.every((c) => existsSync(binary(c))) && existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, "utf8").trim() === sourceDigest();
}

/** The bin directory, or an error naming the command that builds it. For tests. */
export function requireControlPlane(): string {
  if (!controlPlaneIsCurrent()) throw new Error(`the control plane in ${BIN_DIR} is missing or older than ${MODULE_DIR}: run \`node tools/setup.ts\` (npm test runs it first)`);
  return BIN_DIR;
}

/** Builds when stale; logs progress with `log`. Returns the bin directory. */
export function ensureControlPlane(log: (line: string) => void = () => {}): string {
  if (controlPlaneIsCurrent()) return BIN_DIR;
  const started = performance.now();
  mkdirSync(BIN_DIR, { recursive: true });
  const parallel = process.env["AUTOPILOT_GO_PARALLEL"] ?? "2";
  log(`control-plane: building ${COMMANDS.join(", ")} ${kubernetesVersion()} from Go modules into ${BIN_DIR} (go build -p ${parallel}; a cold Go cache takes tens of minutes on 2 cores)`);
  const goflags = [process.env["GOFLAGS"] ?? "", "-trimpath", "-buildvcs=false"].join(" ").trim();
  execFileSync("go", ["build", "-p", parallel, "-ldflags", linkFlags(), "-o", `${BIN_DIR}/`, ...COMMANDS.map((c) => `./cmd/${c}`)], {
    cwd: MODULE_DIR,
    stdio: "inherit",
    env: { ...process.env, GOFLAGS: goflags },
  });
  writeFileSync(STAMP_FILE, `${sourceDigest()}\n`);
  log(`control-plane: built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return BIN_DIR;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--help")) {
    console.log("usage: node tools/control-plane/build.ts [--check]\n  builds kube-apiserver, kube-controller-manager, kube-scheduler and kwok from Go modules; --check only reports whether they are current");
  } else if (process.argv.includes("--check")) {
    if (!controlPlaneIsCurrent()) {
      console.error(`${BIN_DIR} is missing or stale: run node tools/setup.ts`);
      process.exit(1);
    }
    console.log(BIN_DIR);
  } else {
    console.log(ensureControlPlane((l) => console.error(l)));
  }
}
