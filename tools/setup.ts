/**
 * Everything the tests and the local tools need besides `npm ci`, made idempotent so `npm test` can run it
 * first on every run: the Python virtualenv (tools/python/venv.ts) and the embedding model exported into it
 * (tools/python/embedding-model.ts). Each step prints what it does only when it
 * has something to do; a missing system prerequisite stops with the command that installs it.
 *
 *   node tools/setup.ts [--help]
 */
import { ensureEmbeddingModel } from "./python/embedding-model.ts";
import { ensurePythonEnv } from "./python/venv.ts";

if (process.argv.includes("--help")) {
  console.log("usage: node tools/setup.ts\n  prepares what npm test needs beyond npm ci: the Python virtualenv (.venv/python) and the embedding model");
  process.exit(0);
}

try {
  const log = (line: string): void => console.error(`setup: ${line}`);
  ensureEmbeddingModel(ensurePythonEnv(log), log);
} catch (err) {
  console.error(`setup: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
