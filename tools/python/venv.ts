/**
 * The repository's own Python virtualenv (`.venv/python`, git-ignored), from tools/python/requirements.txt and
 * requirements-no-deps.txt; the logic lives in controller/src/local/python-env.ts (the dev command uses it too).
 *
 *   node tools/python/venv.ts            create or update it, print its bin directory
 *   node tools/python/venv.ts --check    exit 1 (with the command to run) when it is missing or stale
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePythonEnv, pythonEnvIsCurrent, VENV_DIR } from "../../controller/src/local/python-env.ts";

export {
  ensurePythonEnv, pythonEnvIsCurrent, requirePythonEnv, REQUIREMENTS_FILE, REQUIREMENTS_NO_DEPS_FILE, VENV_DIR, type PythonEnv,
} from "../../controller/src/local/python-env.ts";

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
