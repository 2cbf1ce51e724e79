/**
 * CLI of the ONNX scoring server: `node controller/src/serving/onnx-main.ts --model examples/models/iris-onnx`.
 * Prints one line `listening <host>:<port>` on stdout once it serves (the local scaler waits for it); exits on
 * SIGTERM/SIGINT after finishing in-flight requests (at most `--grace-ms`). Exit 2: the model cannot be loaded.
 */
import { Command } from "commander";
import { intOption } from "../cli-options.ts";
import { loadOnnxPredictor } from "./onnx-server.ts";
import { startScoringServer } from "./scoring-server.ts";

const program = new Command()
  .name("onnx-server")
  .description("MLflow scoring protocol over an ONNX model, run by ONNX Runtime in Node (no Python)")
  .requiredOption("--model <path>", "MLflow model directory with the onnx flavor, or an .onnx file")
  .option("--host <addr>", "address to listen on", "127.0.0.1")
  .option("--port <n>", "port (0 = any free port)", intOption("--port", 0, 65535), 0)
  .option("--threads <n>", "ONNX Runtime threads per inference", intOption("--threads", 1, 256), 1)
  .option("--grace-ms <ms>", "longest wait for in-flight requests on SIGTERM", intOption("--grace-ms", 0, 600_000), 10_000)
  .parse();
const o = program.opts<{ model: string; host: string; port: number; threads: number; graceMs: number }>();

let predictor;
try {
  predictor = await loadOnnxPredictor(o.model, o.threads);
} catch (e) {
  process.stderr.write(`onnx-server: cannot load ${o.model}: ${(e as Error).message}\n`);
  process.exit(2);
}
const srv = await startScoringServer(predictor, { host: o.host, port: o.port });
process.stdout.write(`listening ${o.host}:${srv.port}\n`);
const stop = (): void => {
  srv.server.close(() => process.exit(0));
  srv.server.closeIdleConnections();
  setTimeout(() => process.exit(0), o.graceMs).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
