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
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCommand, ensureBuilt, isCurrent, requireBuilt, TOOLS_DIR, type StampedGoBuild } from "../go-build.ts";

/** The Go module. */
export const MODULE_DIR = fileURLToPath(new URL("./", import.meta.url));
export { TOOLS_DIR } from "../go-build.ts";
export const BIN_DIR = join(TOOLS_DIR, "control-plane", "bin");

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

/** Path of a built command. */
export function binary(cmd: Command): string {
  return join(BIN_DIR, cmd);
}

const BUILD: StampedGoBuild = {
  what: "the control plane",
  logPrefix: "control-plane",
  moduleDir: MODULE_DIR,
  goNeeded: "go.dev toolchain ≥ 1.26, or Debian's golang from backports",
  output: BIN_DIR,
  outputFiles: () => COMMANDS.map(binary),
  binDir: BIN_DIR,
  stampFile: join(TOOLS_DIR, "control-plane", ".build.sha256"),
  extraSources: () => COMMANDS.flatMap((cmd) => {
    const dir = join(MODULE_DIR, "cmd", cmd);
    return readdirSync(dir).sort().map((f) => [`${cmd}/${f}`, join(dir, f)] as const);
  }),
  linkFlags,
  buildArgs: ["-o", `${BIN_DIR}/`, ...COMMANDS.map((c) => `./cmd/${c}`)],
  startLine: (parallel) => `control-plane: building ${COMMANDS.join(", ")} ${kubernetesVersion()} from Go modules into ${BIN_DIR} (go build -p ${parallel}; a cold Go cache takes tens of minutes on 2 cores)`,
};

export function controlPlaneIsCurrent(): boolean {
  return isCurrent(BUILD);
}

/** The bin directory, or an error naming the command that builds it. For tests. */
export function requireControlPlane(): string {
  return requireBuilt(BUILD);
}

/** Builds when stale; logs progress with `log`. Returns the bin directory. */
export function ensureControlPlane(log: (line: string) => void = () => {}): string {
  return ensureBuilt(BUILD, log);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildCommand(BUILD, "usage: node tools/control-plane/build.ts [--check]\n  builds kube-apiserver, kube-controller-manager, kube-scheduler and kwok from Go modules; --check only reports whether they are current", ensureControlPlane);
}
