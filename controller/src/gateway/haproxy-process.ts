/**
 * Runs HAProxy in master-worker mode as a child process and reloads it hitlessly (SIGUSR2 to the master:
 * the new worker takes over the listening sockets, the old one finishes its in-flight requests).
 * Also provides the file-writing `AgentIo` pieces for a local gateway.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { rename, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { AgentIo } from "./agent.ts";
import { parseInfoPid, type RuntimeApi } from "./runtime-api.ts";

export interface HaproxyProcessOptions {
  /** @default "/usr/sbin/haproxy" */
  readonly binary?: string;
  readonly configPath: string;
  readonly apiKeyMapPath: string;
  readonly api: RuntimeApi;
  /** Receives every line HAProxy writes (access log on stdout, notices on stderr). */
  readonly onLine?: (line: string) => void;
  /** Called when the master exits (code or signal). */
  readonly onExit?: (code: number | null, signal: string | null) => void;
}

function run(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`${binary} ${args.join(" ")} failed:\n${stderr || stdout || err.message}`));
      else resolve(stdout + stderr);
    });
  });
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export class HaproxyProcess {
  private readonly opts: HaproxyProcessOptions;
  private child: ChildProcess | undefined;
  private readonly binary: string;
  /** HAProxy's last lines, for the reason when it exits at start. */
  private readonly recentLines: string[] = [];

  constructor(opts: HaproxyProcessOptions) {
    this.opts = opts;
    this.binary = opts.binary ?? "/usr/sbin/haproxy";
  }

  /** The master's pid, while it runs. */
  get masterPid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Checks the config file (`haproxy -c`); throws with HAProxy's own message when invalid. */
  async check(): Promise<void> {
    await run(this.binary, ["-c", "-f", this.opts.configPath]);
  }

  /** Starts the master and waits until the worker answers on the stats socket. */
  async start(timeoutMs = 10_000): Promise<number> {
    await this.check();
    const child = spawn(this.binary, ["-W", "-f", this.opts.configPath], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) {
        createInterface({ input: stream }).on("line", (l) => {
          this.recentLines.push(l);
          if (this.recentLines.length > 20) this.recentLines.shift();
          this.opts.onLine?.(l);
        });
      }
    }
    child.on("exit", (code, signal) => this.opts.onExit?.(code, signal));
    return this.waitForWorker(0, timeoutMs);
  }

  /**
   * Waits until a worker other than `oldPid` answers `show info` three times in a row; returns its pid. Once
   * is not enough: for a moment after a reload the old worker can still take a runtime-socket connection
   * (seen on 2.6.12), and a runtime command sent to it would be lost with it.
   */
  async waitForWorker(oldPid: number, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let lastErr = "";
    let streak = 0;
    let seen: number | undefined;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) {
        // The reason is in HAProxy's own lines (e.g. "[ALERT] … cannot bind socket (Address already in use)"); they
        // may still be on their way when the exit is seen.
        await new Promise((r) => setTimeout(r, 50));
        const alerts = this.recentLines.filter((l) => /\[(ALERT|EMERG)\]/.test(l));
        throw new Error(`haproxy exited with code ${this.child.exitCode}${alerts.length > 0 ? `:\n${alerts.join("\n")}` : ""}`);
      }
      try {
        const pid = parseInfoPid(await this.opts.api.send("show info"));
        streak = pid !== oldPid && (seen === undefined || pid === seen) ? streak + 1 : 0;
        seen = pid !== oldPid ? pid : undefined;
        if (streak >= 3 && seen !== undefined) return seen;
        if (streak > 0) continue;
      } catch (e) {
        lastErr = (e as Error).message;
        streak = 0;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`haproxy worker did not answer within ${timeoutMs} ms (${lastErr})`);
  }

  /** Checks the config, sends SIGUSR2 to the master, waits for the new worker. */
  async reload(): Promise<number> {
    const master = this.masterPid;
    if (master === undefined) throw new Error("haproxy is not running");
    await this.check();
    const old = parseInfoPid(await this.opts.api.send("show info"));
    process.kill(master, "SIGUSR2");
    return this.waitForWorker(old);
  }

  /** Stops the master (SIGTERM: hard stop of workers; use SIGUSR1 for a graceful one) and waits for exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 5000): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** The `AgentIo` edges for this process: files, reload, real timers, a logger. */
  agentIo(log: (m: string) => void): AgentIo {
    return {
      api: this.opts.api,
      writeFiles: async (config, map) => {
        await atomicWrite(this.opts.apiKeyMapPath, map);
        await atomicWrite(this.opts.configPath, config);
      },
      reload: async () => {
        await this.reload();
      },
      setTimer: (fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
      log,
    };
  }
}
