/**
 * The Triton adapter's entry point (in the controller image: `node dist/controller/src/serving/adapter-main.js`).
 *
 *   adapter-main prepare --model-dir /models/current --repository /triton-repository --model-name <endpoint>
 *       make the Triton model repository (triton-repository.ts); exit 0, or 2 with the reason
 *   adapter-main serve --port 8080 --server http://127.0.0.1:8000 --model-name <endpoint> [--model-dir …]
 *       MLflow scoring protocol on --port, KServe v2 towards --server; prints `listening <host>:<port>`;
 *       /ping is 200 only while the server and the model are ready
 */
import { Command } from "commander";
import { intOption } from "../cli-options.ts";
import { startScoringServer } from "./scoring-server.ts";
import { readMlmodel } from "./signature.ts";
import { tritonPredictor } from "./triton-adapter.ts";
import { prepareTritonRepository } from "./triton-repository.ts";

const program = new Command().name("adapter-main").description("MLflow scoring protocol ⇄ KServe v2 (Triton) adapter");

program.command("prepare")
  .description("make the Triton model repository from the published model")
  .requiredOption("--model-dir <dir>", "the published model (MLflow onnx model, or a Triton repository)")
  .requiredOption("--repository <dir>", "the Triton model repository to write (Triton's --model-repository)")
  .requiredOption("--model-name <name>", "model name in the repository (the endpoint's name)")
  .action((o: { modelDir: string; repository: string; modelName: string }) => {
    try {
      const r = prepareTritonRepository(o.modelDir, o.repository, o.modelName);
      process.stdout.write(`${r.summary}\n`);
    } catch (e) {
      process.stderr.write(`adapter prepare: ${(e as Error).message}\n`);
      process.exit(2);
    }
  });

program.command("serve")
  .description("answer MLflow bodies on --port by calling the KServe v2 server")
  .requiredOption("--model-name <name>", "model name on the server")
  .option("--server <url>", "KServe v2 server", "http://127.0.0.1:8000")
  .option("--model-dir <dir>", "the MLflow model (its signature drives request parsing)")
  .option("--host <addr>", "address to listen on", "0.0.0.0")
  .option("--port <n>", "port (0 = any free port)", intOption("--port", 0, 65535), 8080)
  .option("--timeout-ms <ms>", "per-request timeout towards the server", intOption("--timeout-ms", 1, 3_600_000), 60_000)
  .option("--grace-ms <ms>", "longest wait for in-flight requests on SIGTERM", intOption("--grace-ms", 0, 600_000), 30_000)
  .action(async (o: { modelName: string; server: string; modelDir?: string; host: string; port: number; timeoutMs: number; graceMs: number }) => {
    let inputSchema;
    try {
      inputSchema = o.modelDir !== undefined ? readMlmodel(o.modelDir).signature.inputs : undefined;
    } catch (e) {
      // A Triton repository has no MLmodel: requests are then parsed by the server's metadata alone.
      process.stderr.write(`adapter: no MLflow signature (${(e as Error).message}); parsing by the server's model metadata\n`);
    }
    const predictor = tritonPredictor({ serverUrl: o.server, modelName: o.modelName, inputSchema, timeoutMs: o.timeoutMs });
    const srv = await startScoringServer(predictor, { host: o.host, port: o.port });
    process.stdout.write(`listening ${o.host}:${srv.port}\n`);
    const stop = (): void => {
      srv.server.close(() => process.exit(0));
      srv.server.closeIdleConnections();
      setTimeout(() => process.exit(0), o.graceMs).unref();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });

await program.parseAsync();
