/**
 * CLI of the local OpenAI-compatible server (the `chat` endpoint of `npm run dev`):
 *   node controller/src/serving/openai/openai-main.ts --served-model-name chat [--embedding-model DIR] [--token-ms 10]
 * Prints `listening <host>:<port>` once it serves; exits on SIGTERM/SIGINT after in-flight requests (at most
 * `--grace-ms`). Chat and completions are a deterministic stand-in; embeddings are all-MiniLM-L6-v2 when
 * `--embedding-model` names its exported directory. Exit 2: the embedding model cannot be loaded.
 */
import { Command } from "commander";
import { intOption, numberOption } from "../../cli-options.ts";
import { loadEmbedder, type Embedder } from "./embedder.ts";
import { startOpenAiServer } from "./openai-server.ts";

const program = new Command()
  .name("openai-server")
  .description("OpenAI-compatible server with vLLM's routes: stand-in chat/completions, real MiniLM embeddings")
  .requiredOption("--served-model-name <name>", "model name clients send (the endpoint's name)")
  .option("--embedding-model <dir>", "exported all-MiniLM-L6-v2 directory (tools/python/embedding-model.ts)")
  .option("--host <addr>", "address to listen on", "127.0.0.1")
  .option("--port <n>", "port (0 = any free port)", intOption("--port", 0, 65535), 0)
  .option("--token-ms <ms>", "wait per generated piece", numberOption("--token-ms", 0, 10_000), 10)
  .option("--grace-ms <ms>", "longest wait for in-flight requests on SIGTERM", intOption("--grace-ms", 0, 600_000), 10_000)
  .parse();
const o = program.opts<{ servedModelName: string; embeddingModel?: string; host: string; port: number; tokenMs: number; graceMs: number }>();

let embedder: Embedder | undefined;
if (o.embeddingModel !== undefined) {
  try {
    embedder = await loadEmbedder(o.embeddingModel);
  } catch (e) {
    process.stderr.write(`openai-server: cannot load the embedding model ${o.embeddingModel}: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
const srv = await startOpenAiServer({ modelName: o.servedModelName, ...(embedder !== undefined ? { embedder } : {}), tokenMs: o.tokenMs, host: o.host, port: o.port });
process.stdout.write(`listening ${o.host}:${srv.port}\n`);
const stop = (): void => {
  srv.server.close(() => process.exit(0));
  srv.server.closeIdleConnections();
  setTimeout(() => process.exit(0), o.graceMs).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
