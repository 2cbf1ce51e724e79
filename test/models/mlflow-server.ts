/**
 * A real MLflow tracking server + Model Registry on 127.0.0.1 for tests: `mlflow server` from the repository's
 * virtualenv (sqlite backend, artifacts served through the server), on a free port, stopped by `stop()` (and
 * killed with its process group). `python(script, ...args)` runs the virtualenv's Python with the real `mlflow`
 * package pointed at the server.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requirePythonEnv } from "../../controller/src/local/python-env.ts";

export interface MlflowServerHandle {
  readonly uri: string;
  readonly work: string;
  python(script: string, ...args: string[]): string;
  stop(): void;
}

export async function startMlflowServer(timeoutMs = 180_000): Promise<MlflowServerHandle> {
  const env = requirePythonEnv();
  const work = mkdtempSync(join(tmpdir(), "mlflow-server-"));
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const pathEnv = { ...process.env, PATH: `${env.dir}/bin:${process.env["PATH"] ?? ""}`, MLFLOW_TRACKING_URI: uri, GIT_PYTHON_REFRESH: "quiet" };
  const server: ChildProcess = spawn(env.bin("mlflow"), ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
    "--backend-store-uri", `sqlite:///${join(work, "mlflow.db")}`, "--artifacts-destination", join(work, "artifacts")], {
    stdio: "ignore", detached: true, env: pathEnv,
  });
  const stop = () => {
    if (server.pid !== undefined && server.exitCode === null) {
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    rmSync(work, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch { /* not up yet */ }
    if (server.exitCode !== null || Date.now() > deadline) {
      stop();
      throw new Error(`mlflow server did not answer ${uri}/health within ${timeoutMs / 1000} s (exit ${server.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    uri, work, stop,
    python: (script, ...args) => execFileSync(env.python, ["-c", script, ...args], { encoding: "utf8", env: pathEnv, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 }),
  };
}
