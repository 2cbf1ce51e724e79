/**
 * CPU use of local processes from /proc/<pid>/stat (Linux), as the fraction of one core used since the last
 * reading: the local stand-in for a pod's CPU utilisation against a 1-core limit (a Node model server runs its
 * requests on one core).
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc times (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** utime + stime of a process in seconds, or undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

export class CpuMeter {
  private readonly last = new Map<number, { atMs: number; cpuS: number }>();

  /** Fraction of one core `pid` used since the previous call for it (undefined on the first call). */
  read(pid: number, nowMs: number): number | undefined {
    const cpuS = processCpuSeconds(pid);
    if (cpuS === undefined) {
      this.last.delete(pid);
      return undefined;
    }
    const prev = this.last.get(pid);
    this.last.set(pid, { atMs: nowMs, cpuS });
    if (prev === undefined || nowMs <= prev.atMs) return undefined;
    return Math.max(0, (cpuS - prev.cpuS) / ((nowMs - prev.atMs) / 1000));
  }
}
