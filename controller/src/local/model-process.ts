/**
 * Starts the example model server as a child process and waits until it listens.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Path of the model server's CLI entry. */
export const MODEL_SERVER_MAIN = fileURLToPath(new URL("../model-server/main.ts", import.meta.url));

export interface ModelProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `model-server/main.ts` with `args` (e.g. `["--sleep-ms", "5"]`); resolves with its port. */
export function startModelProcess(args: readonly string[], timeoutMs = 10_000): Promise<ModelProcess> {
  const child = spawn(process.execPath, [MODEL_SERVER_MAIN, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const stop = (graceMs = 3000): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), graceMs).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(0);
      reject(new Error(`model server did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`model server exited with ${code} before listening`));
    });
    createInterface({ input: child.stdout! }).once("line", (line) => {
      const m = /^listening [\d.]+:(\d+)$/.exec(line);
      clearTimeout(timer);
      if (m) resolve({ port: Number(m[1]), child, stop });
      else reject(new Error(`unexpected model server output: ${line}`));
    });
  });
}
