/**
 * CPU per request of a proxy process, the measure noise on a shared machine does not move the way it moves
 * latency: the CPU time its threads ran (from /proc) over a fixed-rate run, divided by the requests answered.
 * Also the minimal HTTP passthrough HAProxy (the reference our rules are priced against).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { processTree } from "./bench-processes.ts";

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

export interface HaproxyArm {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The reference arm: HAProxy 2.6 in `mode http` passing every request to `targetPort` — HTTP parsing, keep-alive
 * on both sides and connection reuse as the gateway has them, and nothing else (no routing, auth, limits, logs).
 */
export async function startHttpPassthrough(dir: string, targetPort: number, threads: number): Promise<HaproxyArm> {
  const port = await freePort();
  const cfg = join(dir, "http-passthrough.cfg");
  await writeFile(
    cfg,
    [
      `global`,
      `    nbthread ${threads}`,
      `defaults`,
      `    mode http`,
      `    timeout connect 2s`,
      `    timeout client 30s`,
      `    timeout server 30s`,
      `    option http-keep-alive`,
      `    http-reuse safe`,
      `listen http_passthrough`,
      `    bind 127.0.0.1:${port}`,
      `    server model 127.0.0.1:${targetPort}`,
      ``,
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/haproxy", ["-f", cfg], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 5000;
  while (!(await listening(port))) {
    if (child.exitCode !== null) throw new Error(`http passthrough (haproxy -f ${cfg}) exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`http passthrough did not listen on 127.0.0.1:${port} within 5 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

async function listening(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
