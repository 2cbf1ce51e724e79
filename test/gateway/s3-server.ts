/**
 * An S3-compatible server on loopback for tests: moto's server mode from the repository's virtualenv
 * (tools/python/requirements.txt), on a free port, stopped by `stop()`. Credentials are moto's: any.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { requirePythonEnv } from "../../tools/python/venv.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";

export interface S3Server {
  readonly endpoint: string;
  readonly port: number;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** `env`: moto's settings, e.g. `INITIAL_NO_AUTH_ACTION_COUNT` (IAM policies are enforced after that many calls). */
export async function startS3Server(opts: { env?: Readonly<Record<string, string>> } = {}): Promise<S3Server> {
  const env = requirePythonEnv();
  const port = await freePort();
  const child = spawn(env.bin("moto_server"), ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr?.on("data", (d: Buffer) => { output += d.toString(); });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${output}`);
    try {
      const r = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) });
      if (r.status < 500) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials });
  return {
    endpoint, port, credentials, client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Path of DuckDB's httpfs extension binary shipped in the virtualenv (duckdb-extension-httpfs). */
export function httpfsExtensionPath(): string {
  const env = requirePythonEnv();
  const lib = join(env.dir, "lib");
  for (const py of readdirSync(lib)) {
    const dir = join(lib, py, "site-packages", "duckdb_extension_httpfs", "extensions");
    if (!existsSync(dir)) continue;
    for (const v of readdirSync(dir)) {
      const p = join(dir, v, "httpfs.duckdb_extension");
      if (existsSync(p)) return p;
    }
  }
  throw new Error(`DuckDB's httpfs extension is not in ${env.dir}: run node tools/setup.ts`);
}
