/**
 * The local scaler: one example model-server process per replica of an endpoint, registered as pods in the
 * local desired-state source (the gateway agent puts them into slots).
 *
 * - scale up: spawn, wait for `listening`, probe `/ping`, then mark the pod ready;
 * - scale down: mark the newest pod terminating, wait until the gateway drained it, then SIGTERM it;
 * - a process that dies on its own is removed at once (the agent drains its slot) and, while it is below the
 *   desired count, the pool starts a replacement.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { createInterface } from "node:readline";
import type { ReplicaState } from "../engine/types.ts";
import type { LocalDesiredStateSource } from "./local-source.ts";
import { MODEL_SERVER_MAIN } from "./model-process.ts";

export interface ProcessPoolOptions {
  readonly endpoint: string;
  readonly source: LocalDesiredStateSource;
  /** Model-server CLI arguments (e.g. `["--cpu-ms", "5"]`). */
  readonly serverArgs: readonly string[];
  /** True once the gateway has drained the pod (agent.podDrained). */
  readonly drained: (podId: string) => boolean;
  /** Longest wait for a drain before the process is stopped anyway. @default 30000 */
  readonly drainTimeoutMs?: number;
  /** Node binary. @default process.execPath */
  readonly node?: string;
  readonly log?: (m: string) => void;
}

interface Replica {
  readonly id: string;
  readonly child: ChildProcess;
  port: number;
  state: "starting" | "ready" | "terminating" | "gone";
  readonly startedAtMs: number;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export class ProcessPool {
  private readonly opts: ProcessPoolOptions;
  private readonly replicas = new Map<string, Replica>();
  private desired = 0;
  private seq = 0;
  private closed = false;
  /** Replicas that died on their own (not stopped by the pool). */
  crashes = 0;

  constructor(opts: ProcessPoolOptions) {
    this.opts = opts;
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
    return [...this.replicas.values()].map((r) => ({ id: r.id, pid: r.child.pid, port: r.port, state: r.state }));
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
    const child = spawn(this.opts.node ?? process.execPath, [MODEL_SERVER_MAIN, ...this.opts.serverArgs], { stdio: ["ignore", "pipe", "inherit"] });
    const r: Replica = { id, child, port: 0, state: "starting", startedAtMs: Date.now() };
    this.replicas.set(id, r);
    child.on("exit", (code, signal) => {
      const was = r.state;
      r.state = "gone";
      this.replicas.delete(id);
      this.opts.source.removePod(this.opts.endpoint, id);
      if (was !== "terminating" && !this.closed) {
        this.crashes++;
        this.opts.log?.(`replica ${id} (pid ${child.pid}) exited unexpectedly (${signal ?? code}); replacing it`);
        this.scaleTo(this.desired);
      }
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^listening [\d.]+:(\d+)$/.exec(line);
      if (m && r.state === "starting") {
        r.port = Number(m[1]);
        void this.whenHealthy(r);
      }
    });
  }

  private async whenHealthy(r: Replica): Promise<void> {
    for (let i = 0; i < 100 && r.state === "starting"; i++) {
      if (await ping(r.port)) {
        if (r.state !== "starting") return;
        r.state = "ready";
        this.opts.source.upsertPod(this.opts.endpoint, { id: r.id, addr: "127.0.0.1", port: r.port, ready: true, terminating: false });
        return;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
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
    r.child.kill("SIGTERM");
  }

  /** Kills replica `id` with SIGKILL (fault injection); false when there is no such replica. */
  kill(id: string): boolean {
    const r = this.replicas.get(id);
    r?.child.kill("SIGKILL");
    return r !== undefined;
  }

  /** Kills one ready replica with SIGKILL (fault injection); returns its id. */
  killOne(): string | undefined {
    const r = [...this.replicas.values()].find((x) => x.state === "ready");
    r?.child.kill("SIGKILL");
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
            if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
            r.child.once("exit", () => resolve());
            r.state = "terminating";
            r.child.kill("SIGTERM");
            setTimeout(() => r.child.kill("SIGKILL"), graceMs).unref();
          }),
      ),
    );
  }
}
