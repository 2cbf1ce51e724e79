/**
 * The local scaler: one model-server process per replica of an endpoint (the launcher says which: the example
 * server, `mlflow models serve`, the ONNX or the OpenAI-compatible server), registered as pods in the local
 * desired-state source (the gateway agent puts them into slots).
 *
 * - scale up: spawn on a free port in its own process group, probe the launcher's health path, then mark the pod
 *   ready (a replica that exits or is not healthy within the launcher's start timeout is reported with the end
 *   of its output);
 * - scale down: mark the newest pod terminating, wait until the gateway drained it, then SIGTERM it;
 * - a process that dies on its own is removed at once (the agent drains its slot) and, while it is below the
 *   desired count, the pool starts a replacement.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import type { ReplicaState } from "../engine/types.ts";
import { freePort } from "./local-gateway.ts";
import type { LocalDesiredStateSource } from "./local-source.ts";
import { exampleModelLauncher, type ReplicaLauncher } from "./replica-launchers.ts";

export interface ProcessPoolOptions {
  readonly endpoint: string;
  readonly source: LocalDesiredStateSource;
  /** What each replica runs. @default the example model server with `serverArgs` */
  readonly launcher?: ReplicaLauncher;
  /** Example model-server CLI arguments (e.g. `["--cpu-ms", "5"]`), when there is no launcher. */
  readonly serverArgs?: readonly string[];
  /** True once the gateway has drained the pod (agent.podDrained). */
  readonly drained: (podId: string) => boolean;
  /** Longest wait for a drain before the process is stopped anyway. @default 30000 */
  readonly drainTimeoutMs?: number;
  readonly log?: (m: string) => void;
}

interface Replica {
  readonly id: string;
  child: ChildProcess | undefined;
  port: number;
  state: "starting" | "ready" | "terminating" | "gone";
  readonly startedAtMs: number;
  /** The last lines the process wrote (stdout and stderr), for a failure report. */
  readonly output: string[];
}

function ping(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** One replica's start: when it was created and how long until it was serving (healthy and handed to the gateway). */
export interface ReplicaStart {
  readonly id: string;
  readonly startedAtMs: number;
  readonly readyAfterMs: number;
}

export class ProcessPool {
  private readonly opts: ProcessPoolOptions;
  private readonly launcher: ReplicaLauncher;
  private readonly replicas = new Map<string, Replica>();
  private desired = 0;
  private seq = 0;
  private closed = false;
  /** Replicas that died on their own (not stopped by the pool). */
  crashes = 0;
  /** Consecutive replicas that died before they were healthy (backs off restarts). */
  private startFailures = 0;
  /** Every replica that became ready, in the order they did (the start law a run actually had). */
  readonly starts: ReplicaStart[] = [];

  constructor(opts: ProcessPoolOptions) {
    this.opts = opts;
    this.launcher = opts.launcher ?? exampleModelLauncher(opts.serverArgs ?? []);
  }

  /** Replica counts in the engine's terms. */
  state(targetConcurrency: number): ReplicaState {
    const live = [...this.replicas.values()];
    return {
      desiredReplicas: this.desired,
      readyReplicas: live.filter((r) => r.state === "ready").length,
      startingReplicas: live.filter((r) => r.state === "starting").length,
      unschedulableReplicas: 0,
      targetConcurrency,
    };
  }

  /** Live replicas (pid, port, state), for display and fault demos. */
  list(): Array<{ id: string; pid: number | undefined; port: number; state: string }> {
    return [...this.replicas.values()].map((r) => ({ id: r.id, pid: r.child?.pid, port: r.port, state: r.state }));
  }

  /** Sets the desired replica count and starts or drains processes to reach it. */
  scaleTo(n: number): void {
    if (this.closed) return;
    this.desired = Math.max(0, Math.floor(n));
    const active = [...this.replicas.values()].filter((r) => r.state === "starting" || r.state === "ready");
    for (let i = active.length; i < this.desired; i++) this.startOne();
    // Remove the newest first: starting ones cost nothing to stop.
    const surplus = active.sort((a, b) => b.startedAtMs - a.startedAtMs).slice(0, Math.max(0, active.length - this.desired));
    for (const r of surplus) void this.retire(r);
  }

  private startOne(): void {
    const id = `${this.opts.endpoint}-${++this.seq}`;
    const r: Replica = { id, child: undefined, port: 0, state: "starting", startedAtMs: Date.now(), output: [] };
    this.replicas.set(id, r);
    void freePort().then((port) => this.spawnReplica(r, port), (e: unknown) => this.failStart(r, `no free port: ${(e as Error).message}`));
  }

  private spawnReplica(r: Replica, port: number): void {
    if (r.state !== "starting" || this.closed) {
      this.replicas.delete(r.id);
      return;
    }
    const cmd = this.launcher.command(port);
    // Its own process group, so a stop reaches the server's children too (mlflow models serve runs uvicorn).
    const child = spawn(cmd.file, [...cmd.args], { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, ...cmd.env } });
    r.child = child;
    r.port = port;
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") r.output.push(line);
      if (r.output.length > 40) r.output.splice(0, r.output.length - 40);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", (e) => keep(Buffer.from(`spawn failed: ${e.message}`)));
    child.on("exit", (code, signal) => {
      const was = r.state;
      r.state = "gone";
      this.replicas.delete(r.id);
      this.opts.source.removePod(this.opts.endpoint, r.id);
      if (was !== "terminating" && !this.closed) {
        this.crashes++;
        const tail = was === "starting" ? `; its last output:\n    ${r.output.slice(-8).join("\n    ")}` : "";
        this.opts.log?.(`replica ${r.id} (pid ${child.pid}, ${this.launcher.label}) exited unexpectedly (${signal ?? code})${tail}; replacing it`);
        if (was === "starting") this.startFailures++;
        // A replica that cannot start is not restarted in a tight loop.
        setTimeout(() => this.scaleTo(this.desired), was === "starting" ? Math.min(30_000, 1000 * 2 ** Math.min(this.startFailures, 5)) : 0).unref();
      }
    });
    void this.whenHealthy(r);
  }

  private failStart(r: Replica, why: string): void {
    this.opts.log?.(`replica ${r.id} (${this.launcher.label}) did not start: ${why}`);
    this.signal(r, "SIGKILL");
  }

  /** Sends `sig` to the replica's process group (the server and its children). */
  private signal(r: Replica, sig: NodeJS.Signals): void {
    const pid = r.child?.pid;
    if (pid === undefined || r.child?.exitCode !== null || r.child?.signalCode !== null) return;
    try {
      process.kill(-pid, sig);
    } catch {
      r.child?.kill(sig);
    }
  }

  private async whenHealthy(r: Replica): Promise<void> {
    const end = r.startedAtMs + this.launcher.startTimeoutMs;
    while (r.state === "starting" && Date.now() < end) {
      if (await ping(r.port, this.launcher.healthPath)) {
        if (r.state !== "starting") return;
        r.state = "ready";
        this.startFailures = 0;
        this.starts.push({ id: r.id, startedAtMs: r.startedAtMs, readyAfterMs: Date.now() - r.startedAtMs });
        this.opts.source.upsertPod(this.opts.endpoint, { id: r.id, addr: "127.0.0.1", port: r.port, ready: true, terminating: false });
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    if (r.state === "starting") this.failStart(r, `not healthy on ${this.launcher.healthPath} within ${this.launcher.startTimeoutMs} ms; its last output:\n    ${r.output.slice(-8).join("\n    ")}`);
  }

  private async retire(r: Replica): Promise<void> {
    const wasReady = r.state === "ready";
    r.state = "terminating";
    if (wasReady) {
      this.opts.source.upsertPod(this.opts.endpoint, { id: r.id, addr: "127.0.0.1", port: r.port, ready: true, terminating: true });
      const end = Date.now() + (this.opts.drainTimeoutMs ?? 30_000);
      // Wait one agent cycle at least, then until the gateway reports the slot idle and out of service.
      await new Promise((res) => setTimeout(res, 100));
      while (Date.now() < end && !this.opts.drained(r.id)) await new Promise((res) => setTimeout(res, 50));
    }
    this.signal(r, "SIGTERM");
  }

  /** Kills replica `id` with SIGKILL (fault injection); false when there is no such replica. */
  kill(id: string): boolean {
    const r = this.replicas.get(id);
    if (r !== undefined) this.signal(r, "SIGKILL");
    return r !== undefined;
  }

  /** Kills one ready replica with SIGKILL (fault injection); returns its id. */
  killOne(): string | undefined {
    const r = [...this.replicas.values()].find((x) => x.state === "ready");
    if (r !== undefined) this.signal(r, "SIGKILL");
    return r?.id;
  }

  /** Stops every process (SIGTERM, then SIGKILL after `graceMs`) and waits for them. */
  async close(graceMs = 3000): Promise<void> {
    this.closed = true;
    const all = [...this.replicas.values()];
    await Promise.all(
      all.map(
        (r) =>
          new Promise<void>((resolve) => {
            const child = r.child;
            r.state = "terminating";
            if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            this.signal(r, "SIGTERM");
            setTimeout(() => this.signal(r, "SIGKILL"), graceMs).unref();
          }),
      ),
    );
  }
}
