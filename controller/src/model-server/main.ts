/**
 * CLI of the example model server: `node controller/src/model-server/main.ts --port 0 --cpu-ms 5`.
 * Prints one line `listening <host>:<port>` on stdout once it serves; exits on SIGTERM/SIGINT after
 * finishing in-flight requests (at most `--grace-ms`).
 */
import { Command, InvalidArgumentError } from "commander";
import { startModelServer } from "./server.ts";

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name}: ${JSON.stringify(v)} must be a number ≥ 0`);
    return n;
  };
}

const program = new Command()
  .name("model-server")
  .description("Example MLflow-protocol model server with a configurable CPU cost per request")
  .option("--host <addr>", "address to listen on", "127.0.0.1")
  .option("--port <n>", "port (0 = any free port)", nonNegative("--port"), 0)
  .option("--cpu-ms <ms>", "CPU time burnt per request", nonNegative("--cpu-ms"), 5)
  .option("--sleep-ms <ms>", "wait per request without CPU (I/O-like latency)", nonNegative("--sleep-ms"), 0)
  .option("--cpu-ms-per-row <ms>", "extra CPU time per input row", nonNegative("--cpu-ms-per-row"), 0)
  .option("--test-hooks", "honour params.sleep_ms and params.status (tests, fault demos)", false)
  .option("--grace-ms <ms>", "longest wait for in-flight requests on SIGTERM", nonNegative("--grace-ms"), 10_000)
  .parse();

const o = program.opts<{ host: string; port: number; cpuMs: number; cpuMsPerRow: number; sleepMs: number; testHooks: boolean; graceMs: number }>();
const srv = await startModelServer({ host: o.host, port: o.port, cpuMs: o.cpuMs, cpuMsPerRow: o.cpuMsPerRow, sleepMs: o.sleepMs, testHooks: o.testHooks });
process.stdout.write(`listening ${o.host}:${srv.port}\n`);

const stop = (): void => {
  srv.server.close(() => process.exit(0));
  srv.server.closeIdleConnections();
  setTimeout(() => process.exit(0), o.graceMs).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
