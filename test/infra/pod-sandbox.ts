/**
 * Runs a container's command from a rendered pod spec as the kubelet would start it — same argv, same env, same
 * user, group and capabilities, no-new-privileges, a read-only root filesystem, and the pod's volumes mounted at
 * their mount paths — in a private mount namespace (`unshare -m`), a chroot whose root is read-only, and
 * `setpriv`. The userland is this machine's (Debian) rather than the image's: the rendered scripts keep to
 * POSIX sh and coreutils, which both have. Optionally inside a network namespace (`ip netns`) holding the
 * servers the container talks to, with /etc/hosts naming them, so rendered URLs are used unchanged.
 * Needs root (CI runs the tests as root); `sandboxSkip` says why when it cannot run.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** Why the sandbox cannot run here, or false. */
export const sandboxSkip: string | false = (() => {
  if (process.getuid?.() !== 0) return "needs root (unshare -m, chroot, setpriv); CI runs the tests as root";
  for (const tool of ["unshare", "setpriv", "chroot", "ip"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool} (util-linux, coreutils, iproute2)`;
  }
  return false;
})();

export interface Mount {
  readonly path: string;
  readonly hostDir: string;
  readonly readOnly?: boolean;
}

export interface ContainerRun {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (the pod's fsGroup). */
  readonly groups?: readonly number[];
  /** Capabilities the container keeps (lowercase, e.g. "chown"); all others dropped. */
  readonly capabilities?: readonly string[];
  readonly readOnlyRoot: boolean;
  readonly mounts: readonly Mount[];
  /** /etc/hosts entries (name → IP) inside the sandbox. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Network namespace to run in. */
  readonly netns?: string;
  /** @default 60000 */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const WRAPPER = `set -eu
root="$SANDBOX_ROOT"
mount -t tmpfs -o mode=0755,size=16m sandbox-root "$root"
# usr and etc as overlays on this machine's (writes land in the sandbox's tmpfs, and mount points for the
# pod's volumes can be made anywhere); the whole root is made read-only below.
mkdir -p "$root/.ovl"
for d in usr etc; do
  mkdir -p "$root/$d" "$root/.ovl/$d-up" "$root/.ovl/$d-work"
  mount -t overlay "sandbox-$d" -o "lowerdir=/$d,upperdir=$root/.ovl/$d-up,workdir=$root/.ovl/$d-work" "$root/$d"
done
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"
  elif [ -d "/$d" ]; then mkdir -p "$root/$d"; mount --rbind "/$d" "$root/$d"; mount -o remount,bind,ro "$root/$d"; fi
done
mkdir -p "$root/dev" "$root/proc" "$root/tmp"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
printf '%s\n' "$SANDBOX_MOUNTS" | while IFS='|' read -r p h mode; do
  [ -n "$p" ] || continue
  mkdir -p "$root$p"; mount --bind "$h" "$root$p"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$p"; fi
done
if [ -n "$SANDBOX_HOSTS" ]; then mount --bind "$SANDBOX_HOSTS" "$root/etc/hosts"; fi
if [ "$SANDBOX_RO" = 1 ]; then
  for d in usr etc; do mount -o remount,ro "$root/$d"; done
  mount -o remount,ro "$root"
fi
exec chroot "$root" /usr/bin/setpriv --reuid="$SANDBOX_UID" --regid="$SANDBOX_GID" $SANDBOX_GROUPS \\
  --inh-caps=-all --ambient-caps=-all --bounding-set="$SANDBOX_CAPS" --no-new-privs /usr/bin/env -i "$@"
`;

function wrapperArgs(run: ContainerRun, scratch: string): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const rootDir = mkdtempSync(path.join(scratch, "root-"));
  let hostsFile = "";
  if (run.hosts !== undefined) {
    hostsFile = path.join(scratch, `hosts-${path.basename(rootDir)}`);
    writeFileSync(hostsFile, ["127.0.0.1 localhost", ...Object.entries(run.hosts).map(([n, ip]) => `${ip} ${n}`), ""].join("\n"));
  }
  const caps = ["-all", ...(run.capabilities ?? []).map((c) => `+${c}`)].join(",");
  const groups = (run.groups ?? []).length > 0 ? `--groups=${run.groups!.join(",")}` : "--clear-groups";
  const envPairs = Object.entries(run.env).map(([k, v]) => `${k}=${v}`);
  const inner = ["unshare", "-m", "--propagation", "private", "sh", "-c", WRAPPER, "sandbox", ...envPairs, ...run.argv];
  const full = run.netns !== undefined ? ["ip", "netns", "exec", run.netns, ...inner] : inner;
  return {
    cmd: full[0]!, args: full.slice(1),
    env: {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin", SANDBOX_ROOT: rootDir, SANDBOX_HOSTS: hostsFile, SANDBOX_RO: run.readOnlyRoot ? "1" : "0",
      SANDBOX_UID: String(run.uid), SANDBOX_GID: String(run.gid), SANDBOX_GROUPS: groups, SANDBOX_CAPS: caps,
      SANDBOX_MOUNTS: run.mounts.map((m) => `${m.path}|${m.hostDir}|${m.readOnly === true ? "ro" : "rw"}`).join("\n"),
    },
  };
}

/** Runs the container command to completion. */
export function runContainer(run: ContainerRun, scratch: string): RunResult {
  const w = wrapperArgs(run, scratch);
  const r = spawnSync(w.cmd, w.args, { env: w.env, encoding: "utf8", timeout: run.timeoutMs ?? 60_000 });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Starts a long-running container command; resolves when `ready` appears in its output, kill() ends it. */
export function startContainer(run: ContainerRun, scratch: string, ready: RegExp): Promise<{ output: () => string; kill: () => Promise<void> }> {
  const w = wrapperArgs(run, scratch);
  const child = spawn(w.cmd, w.args, { env: w.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { process.kill(-child.pid!, "SIGKILL"); reject(new Error(`not ready within ${run.timeoutMs ?? 60_000} ms:\n${out}`)); }, run.timeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({
          output: () => out,
          kill: () => new Promise<void>((done) => {
            // The whole process group: the container's own children (a preparer's `sleep`) die with it.
            child.once("exit", () => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ } done(); });
            process.kill(-child.pid!, "SIGTERM");
          }),
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => { clearTimeout(timer); if (!ready.test(out)) reject(new Error(`exited ${code} before ready:\n${out}`)); });
  });
}

/** A network namespace with loopback up (and extra addresses on lo). */
export class NetNs {
  readonly name = `apsb-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  constructor(addresses: readonly string[] = []) {
    execFileSync("ip", ["netns", "add", this.name]);
    execFileSync("ip", ["netns", "exec", this.name, "ip", "link", "set", "lo", "up"]);
    for (const a of addresses) execFileSync("ip", ["netns", "exec", this.name, "ip", "addr", "add", `${a}/32`, "dev", "lo"]);
  }
  /** Spawns a long-running process inside the namespace (as root, this machine's filesystem). */
  spawn(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ReturnType<typeof spawn> {
    return spawn("ip", ["netns", "exec", this.name, ...argv], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  }
  /** Runs a command inside the namespace and returns stdout (throws on failure). */
  exec(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
    return execFileSync("ip", ["netns", "exec", this.name, ...argv], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }
  close(): void {
    spawnSync("ip", ["netns", "del", this.name]);
  }
}

/** A host directory standing for a volume, owned and moded as the kubelet creates it. */
export function volumeDir(scratch: string, kind: "emptyDir" | "hostPathCreate" | "secret", fsGroup?: number, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(scratch, `${kind}-`));
  if (kind === "emptyDir") {
    // The kubelet creates emptyDirs 0777; with fsGroup, group-owned and setgid.
    chmodSync(dir, 0o777);
    if (fsGroup !== undefined) { chownSync(dir, 0, fsGroup); chmodSync(dir, 0o2777); }
  } else if (kind === "hostPathCreate") {
    // DirectoryOrCreate: root-owned 0755.
    chmodSync(dir, 0o755);
  } else {
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), content);
      chmodSync(path.join(dir, name), 0o644);
      if (fsGroup !== undefined) chownSync(path.join(dir, name), 0, fsGroup);
    }
    chmodSync(dir, 0o755);
  }
  return dir;
}

/** A scratch directory for one test file (remove with cleanup). */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  chmodSync(dir, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export { mkdirSync };
