/**
 * How busy the rest of the machine was while a benchmark ran: the CPU every other process used (from
 * /proc/stat's busy jiffies, less this process tree's own CPU), in cores, and the load average. A figure taken
 * while other processes use more than `QUIET_OTHER_CORES` is flagged as noisy. Linux only; elsewhere unknown.
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** Other processes using more than this many cores make a timing run noisy (the fidelity benchmark's quiet-machine rule). */
export const QUIET_OTHER_CORES = 0.2;

const CLOCK_TICKS_PER_S = 100;

function busyJiffies(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return total - (f[3] ?? 0) - (f[4] ?? 0);
  } catch {
    return undefined;
  }
}

/** utime, stime, cutime, cstime (clock ticks) and the parent of one process from /proc/<pid>/stat; undefined when gone. */
function procStat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // the command name (field 2) is in parentheses and may hold spaces: the fields after its last ")"
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU used so far by process `rootPid` and all its descendants, ms: each live process's own and its reaped
 * children's time (`/proc/<pid>/stat` utime + stime + cutime + cstime). A benchmark's model servers and HAProxy
 * are its own work, not the machine's other load. Linux only; undefined elsewhere.
 */
export function processTreeCpuMs(rootPid: number = process.pid): number | undefined {
  let pids: number[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return undefined;
  }
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const pid of pids) {
    const s = procStat(pid);
    if (s !== undefined) stats.set(pid, s);
  }
  if (!stats.has(rootPid)) return undefined;
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let ticks = 0;
  const todo = [rootPid];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    ticks += stats.get(pid)?.ticks ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return (ticks / CLOCK_TICKS_PER_S) * 1000;
}

export interface MachineLoad {
  /** Cores used by everything but `ownCpuMs` over the interval; undefined when unknown. */
  readonly otherCores: number | undefined;
  readonly loadAverage1m: number;
  readonly quiet: boolean | undefined;
  /** e.g. "other processes 0.06 cores, load average 0.4 (quiet)". */
  readonly text: string;
}

/** Start measuring; `stop(ownCpuMs)` gives the load of everything else (pass the CPU the benchmarked work used). */
export function startMachineLoad(): { stop(ownCpuMs: number): MachineLoad } {
  const j0 = busyJiffies();
  const t0 = performance.now();
  return {
    stop(ownCpuMs: number): MachineLoad {
      const j1 = busyJiffies();
      const wallS = (performance.now() - t0) / 1000;
      const busyS = j0 !== undefined && j1 !== undefined ? (j1 - j0) / CLOCK_TICKS_PER_S : undefined;
      const otherCores = busyS !== undefined && wallS > 0 ? Math.max(0, (busyS - ownCpuMs / 1000) / wallS) : undefined;
      const quiet = otherCores === undefined ? undefined : otherCores <= QUIET_OTHER_CORES;
      const la = loadavg()[0] ?? 0;
      const flag = quiet === undefined ? "unknown" : quiet ? "quiet" : `NOT quiet: above ${QUIET_OTHER_CORES} cores, figures noisy`;
      return { otherCores, loadAverage1m: la, quiet, text: `other processes ${otherCores === undefined ? "?" : otherCores.toFixed(2)} cores, load average ${la.toFixed(1)} (${flag})` };
    },
  };
}
