/**
 * The repository's own Python virtualenv (`.venv/python`, git-ignored): created from `python3 -m venv` and
 * filled from tools/python/requirements.txt (and requirements-no-deps.txt, installed without dependencies). It is
 * rebuilt when either changes (a stamp file holds their SHA-256). Never touches the system site-packages.
 *
 *   node tools/python/venv.ts            create or update it, print its bin directory
 *   node tools/python/venv.ts --check    exit 1 (with the command to run) when it is missing or stale
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const REQUIREMENTS_FILE = fileURLToPath(new URL("./requirements.txt", import.meta.url));
/** Packages installed without their declared dependencies (each line says why). */
export const REQUIREMENTS_NO_DEPS_FILE = fileURLToPath(new URL("./requirements-no-deps.txt", import.meta.url));
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--help")) {
    console.log("usage: node tools/python/venv.ts [--check]\n  creates or updates the repository's Python virtualenv; --check only reports whether it is current");
  } else if (process.argv.includes("--check")) {
    if (!pythonEnvIsCurrent()) {
      console.error(`${VENV_DIR} is missing or stale: run node tools/setup.ts`);
      process.exit(1);
    }
    console.log(join(VENV_DIR, "bin"));
  } else {
    console.log(join(ensurePythonEnv((l) => console.error(l)).dir, "bin"));
  }
}
