/**
 * The processes `bench:gateway` drives: wrk (closed loop), the open-loop generator (`load-generator-cli.ts`, one
 * child process per run), a trivial TCP proxy (a second HAProxy in `mode tcp`, the control arm) and CPU
 * placement with `taskset` (util-linux).
 */
import autocannon from "autocannon";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { freePort, startLocalGateway } from "../../controller/src/local/local-gateway.ts";
import type { ArmResult } from "./bench-rounds.ts";
import type { OpenLoopSummary } from "./load-stats.ts";

const GENERATOR_CLI = fileURLToPath(new URL("./load-generator-cli.ts", import.meta.url));

/** The wrk Lua script: POST `body`, optional bearer key, µs-precision percentiles printed as one JSON line. */
export function wrkScript(body: string, bearerKey?: string): string {
  return [
    `wrk.method = "POST"`,
    `wrk.body = '${body}'`,
    `wrk.headers["Content-Type"] = "application/json"`,
    bearerKey ? `wrk.headers["Authorization"] = "Bearer ${bearerKey}"` : "",
    `done = function(summary, latency, requests)`,
    `  local e = summary.errors`,
    `  io.write(string.format('RESULT {"requests":%.0f,"duration_us":%.0f,"errors":%.0f,"non2xx":%.0f,"p50":%.0f,"p99":%.0f}\\n',`,
    `    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))`,
    `end`,
  ].join("\n");
}

/** A closed-loop wrk run (`connections` keep-alive connections, back to back). */
export function runWrk(url: string, scriptPath: string, connections: number, durationS: number): Promise<ArmResult> {
  const threads = connections === 1 ? 1 : 2;
  return new Promise((resolve, reject) => {
    execFile("wrk", ["-t", `${threads}`, "-c", `${connections}`, "-d", `${durationS}s`, "--timeout", "10s", "-s", scriptPath, url], (err, stdout, stderr) => {
      const m = /RESULT (\{.*\})/.exec(stdout);
      if (err || !m) return reject(new Error(`wrk failed: ${stderr || stdout || err?.message}`));
      const r = JSON.parse(m[1] as string);
      resolve({ rps: r.requests / (r.duration_us / 1e6), p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

export interface OpenLoopRun {
  readonly url: string;
  readonly ratePerS: number;
  readonly durationS: number;
  readonly body: string;
  readonly bearerKey?: string;
  /** `taskset -c` CPU list for the generator process; absent = not pinned. */
  readonly cpus?: string;
}

/** One open-loop run in its own process (`load-generator-cli.ts`), optionally pinned. */
export function runOpenLoopProcess(r: OpenLoopRun): Promise<ArmResult & { summary: OpenLoopSummary }> {
  const args = [GENERATOR_CLI, "--url", r.url, "--rate", `${r.ratePerS}`, "--duration", `${r.durationS}`, "--body", r.body];
  if (r.bearerKey) args.push("--header", `authorization: Bearer ${r.bearerKey}`);
  const [cmd, argv] = r.cpus === undefined ? [process.execPath, args] : ["taskset", ["-c", r.cpus, process.execPath, ...args]];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const m = /RESULT (\{.*\})/.exec(stdout);
      if (err || !m) return reject(new Error(`load generator failed: ${stderr || stdout || err?.message}`));
      const s = JSON.parse(m[1] as string) as OpenLoopSummary;
      resolve({ rps: s.rps, p50Ms: s.p50Ms, p99Ms: s.p99Ms, errors: s.errors, non2xx: s.non2xx, sendLagP99Ms: s.sendLagP99Ms, summary: s });
    });
  });
}

/**
 * The rate-budget method, an opt-in diagnostic arm: autocannon in this process with `overallRate`. Its rate
 * limit is a per-connection budget per second (autocannon lib/httpClient.js: `reqsMadeThisSecond`, reset by a 1 s
 * `setInterval`), so each connection sends back to back until its budget is spent, then idles until the next tick.
 * `firstHalfShare` = the share of responses that arrived in the first half of each second (≈ 0.5 for an even rate).
 */
export async function runAutocannon(url: string, ratePerS: number, durationS: number, body: string, bearerKey?: string): Promise<ArmResult> {
  const times: number[] = [];
  let inFirstHalf = 0;
  let non2xx = 0;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (bearerKey) headers.authorization = `Bearer ${bearerKey}`;
  const opts = { url, method: "POST" as const, headers, body, connections: Math.max(8, Math.ceil(ratePerS / 80)), overallRate: ratePerS, duration: durationS };
  let inst: autocannon.Instance | undefined;
  const t0 = performance.now();
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
  (inst as autocannon.Instance).on("response", (_c: unknown, status: number, _b: number, ms: number) => {
    if ((performance.now() - t0) % 1000 < 500) inFirstHalf++;
    if (status >= 200 && status < 300) times.push(ms);
    else non2xx++;
  });
  const r = await done;
  times.sort((a, b) => a - b);
  const pct = (p: number): number => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? NaN;
  return { rps: times.length / durationS, p50Ms: pct(50), p99Ms: pct(99), errors: r.errors + r.timeouts, non2xx, firstHalfShare: inFirstHalf / Math.max(1, times.length + non2xx) };
}

export interface HaproxyArm {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A reference HAProxy 2.6 (`haproxy -f <dir>/<name>.cfg`, one `listen <name>` on a free port forwarding to
 * `targetPort`) in `mode`, with `extraDefaults` after the timeouts; resolves once it accepts connections.
 */
export async function startHaproxyArm(
  dir: string, name: string, label: string, mode: "tcp" | "http", extraDefaults: readonly string[], targetPort: number, threads: number,
): Promise<HaproxyArm> {
  const port = await freePort();
  const cfg = join(dir, `${name.replaceAll("_", "-")}.cfg`);
  await writeFile(
    cfg,
    [
      `global`,
      `    nbthread ${threads}`,
      `defaults`,
      `    mode ${mode}`,
      `    timeout connect 2s`,
      `    timeout client 30s`,
      `    timeout server 30s`,
      ...extraDefaults.map((l) => `    ${l}`),
      `listen ${name}`,
      `    bind 127.0.0.1:${port}`,
      `    server model 127.0.0.1:${targetPort}`,
      ``,
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/haproxy", ["-f", cfg], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} (haproxy -f ${cfg}) exited with ${child.exitCode}`);
    if (await canConnect(port)) break;
    if (Date.now() > deadline) throw new Error(`${label} did not listen on 127.0.0.1:${port} within 5 s`);
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

/**
 * The control arm: HAProxy 2.6 in `mode tcp` forwarding bytes to `targetPort`, no HTTP processing, no auth. It
 * costs what any extra process on the path costs (two more socket hops, one more process to schedule).
 */
export function startTcpProxy(dir: string, targetPort: number, threads: number): Promise<HaproxyArm> {
  return startHaproxyArm(dir, "tcp_proxy", "tcp proxy", "tcp", [], targetPort, threads);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Whether `taskset` can be run here. */
export function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-p", `${process.pid}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `pid` and its descendants (from /proc/<pid>/task/<tid>/children), e.g. an HAProxy master and its worker. */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    const tids = readdirSync(`/proc/${pid}/task`);
    for (const tid of tids) {
      const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
      for (const k of kids) out.push(...processTree(k));
    }
  } catch {
    // The process went away; what we have is all there is.
  }
  return out;
}

/** Sets the CPU affinity of every thread of each pid (`taskset -a -p -c <cpus> <pid>`). */
export function pin(pids: readonly number[], cpus: string): void {
  for (const pid of pids) execFileSync("taskset", ["-a", "-p", "-c", cpus, `${pid}`], { stdio: "ignore" });
}

/**
 * The gateway arm of the gateway benchmarks: our rendered config on real HAProxy serving the endpoints `latency`
 * and `cpu` (target 64, two slots each), API-key auth with one key whose in-flight cap is out of the way (an open
 * loop may hold many requests), one log line per request to the agent's reader.
 */
export function startBenchGateway(bearerKey: string, settings: { readonly threads: number; readonly lowLatency: boolean }): ReturnType<typeof startLocalGateway> {
  const ep = (name: string) => ({
    name, runtime: "mlflow" as const, auth: { apiKeys: true, jwt: false }, targetConcurrency: 64, slots: 2,
    queueTimeoutMs: 10_000, maxQueue: 10_000, maxBodyBytes: 1_048_576, modelTimeoutMs: 30_000,
  });
  return startLocalGateway({
    endpoints: [ep("latency"), ep("cpu")],
    apiKeys: [{ id: "bench", sha256: hashApiKey(bearerKey), endpoints: ["latency", "cpu"], maxInFlight: 1_000_000 }],
    settings,
  });
}
