/**
 * CPU per request of a proxy process, the measure noise on a shared machine does not move the way it moves
 * latency: the CPU time its threads ran (from /proc) over a fixed-rate run, divided by the requests answered.
 * Also the minimal HTTP passthrough HAProxy (the reference our rules are priced against).
 */
import { readdirSync, readFileSync } from "node:fs";
import { processTree, startHaproxyArm, type HaproxyArm } from "./bench-processes.ts";

/**
 * CPU time of `pids` and their descendants, ns: the sum over every thread of `/proc/<pid>/task/<tid>/schedstat`'s
 * first field (time on CPU, ns). `/proc/<pid>/stat`'s utime + stime count the same time in clock ticks (10 ms
 * here): too coarse for a 2 s run of a few hundred ms of CPU, so the nanosecond counter is read.
 */
export function cpuNs(pids: readonly number[]): number {
  let total = 0;
  for (const root of pids) {
    for (const pid of processTree(root)) {
      let tids: string[] = [];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        try {
          total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        } catch {
          // The thread ended between the listing and the read.
        }
      }
    }
  }
  return total;
}

/** CPU µs per answered request of `pids` while `run` runs. */
export async function cpuPerRequest<T extends { readonly rps: number }>(pids: readonly number[], durationS: number, run: () => Promise<T>): Promise<T & { cpuUsPerRequest: number }> {
  const before = cpuNs(pids);
  const res = await run();
  const used = cpuNs(pids) - before;
  const requests = Math.max(1, res.rps * durationS);
  return { ...res, cpuUsPerRequest: used / 1000 / requests };
}

/**
 * The reference arm: HAProxy 2.6 in `mode http` passing every request to `targetPort` — HTTP parsing, keep-alive
 * on both sides and connection reuse as the gateway has them, and nothing else (no routing, auth, limits, logs).
 */
export function startHttpPassthrough(dir: string, targetPort: number, threads: number): Promise<HaproxyArm> {
  return startHaproxyArm(dir, "http_passthrough", "http passthrough", "http", ["option http-keep-alive", "http-reuse safe"], targetPort, threads);
}
