/**
 * `npm run dev -- --model <ref>`: which model directory, which runtime. A reference is a local directory (an MLflow
 * model or a bare .onnx file) or an MLflow URI (`models:/<name>/<version>`, `models:/<name>@<alias>`,
 * `runs:/<run-id>/<path>`, …) downloaded by MLflow's own client (`mlflow artifacts download`, tracking server from
 * MLFLOW_TRACKING_URI). The runtime follows the model: the onnx flavor runs in the ONNX server (no Python, ONNX
 * Runtime as in Triton's onnxruntime backend), every other flavor in `mlflow models serve`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PythonEnv } from "./python-env.ts";
import { readMlmodel } from "../serving/signature.ts";

export const LOCAL_RUNTIMES = ["auto", "mlflow", "onnx"] as const;
export type LocalRuntime = (typeof LOCAL_RUNTIMES)[number];

export interface LocalModel {
  /** The model directory (or .onnx file) served. */
  readonly path: string;
  readonly runtime: Exclude<LocalRuntime, "auto">;
  readonly flavors: readonly string[];
  /** `serving_input_example.json`, when the model has one: the body the built-in load sends. */
  readonly exampleBody?: string;
}

const URI_RE = /^(models|runs|mlflow-artifacts|s3|gs|wasbs|dbfs|https?):/;

/** True when `ref` is an MLflow or object-store URI rather than a path. */
export function isModelUri(ref: string): boolean {
  return URI_RE.test(ref);
}

/** The first directory at or below `dir` (two levels) with an MLmodel file. */
function findMlmodelDir(dir: string): string | undefined {
  if (existsSync(join(dir, "MLmodel"))) return dir;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (existsSync(join(dir, e.name, "MLmodel"))) return join(dir, e.name);
    for (const f of readdirSync(join(dir, e.name), { withFileTypes: true })) {
      if (f.isDirectory() && existsSync(join(dir, e.name, f.name, "MLmodel"))) return join(dir, e.name, f.name);
    }
  }
  return undefined;
}

/** Downloads an MLflow URI with `mlflow artifacts download`; returns the directory holding MLmodel. */
export function downloadModel(uri: string, env: PythonEnv): string {
  const dst = mkdtempSync(join(tmpdir(), "autopilot-model-"));
  try {
    execFileSync(env.bin("mlflow"), ["artifacts", "download", "--artifact-uri", uri, "--dst-path", dst], {
      stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, PATH: `${env.dir}/bin:${process.env["PATH"] ?? ""}` },
    });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim().split("\n").slice(-3).join(" ");
    const hint = uri.startsWith("models:") || uri.startsWith("runs:")
      ? ` (tracking server: MLFLOW_TRACKING_URI=${process.env["MLFLOW_TRACKING_URI"] ?? "unset"})` : "";
    throw new Error(`--model ${uri}: mlflow artifacts download failed${hint}: ${stderr || (e as Error).message}`);
  }
  const dir = findMlmodelDir(dst);
  if (dir === undefined) throw new Error(`--model ${uri}: downloaded into ${dst}, but there is no MLmodel file in it: not an MLflow model`);
  return dir;
}

/** Chooses the runtime for the model at `path` (a local directory or .onnx file). */
export function localModelAt(path: string, runtime: LocalRuntime): LocalModel {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new Error(`--model ${path}: no such file or directory`);
  if (!statSync(abs).isDirectory()) {
    if (!abs.endsWith(".onnx")) throw new Error(`--model ${path}: a file must be an .onnx model; otherwise give an MLflow model directory`);
    if (runtime === "mlflow") throw new Error(`--model ${path}: a bare .onnx file has no MLmodel; --runtime mlflow needs an MLflow model directory`);
    return { path: abs, runtime: "onnx", flavors: ["onnx"] };
  }
  const info = readMlmodel(abs);
  const onnx = info.onnxFile !== undefined;
  if (runtime === "onnx" && !onnx) {
    throw new Error(`--runtime onnx: ${path} has flavors ${info.flavors.join(", ")} and no onnx flavor; use --runtime mlflow (or auto)`);
  }
  const example = join(abs, "serving_input_example.json");
  return {
    path: abs,
    runtime: runtime === "auto" ? (onnx ? "onnx" : "mlflow") : runtime,
    flavors: info.flavors,
    ...(existsSync(example) ? { exampleBody: JSON.stringify(JSON.parse(readFileSync(example, "utf8"))) } : {}),
  };
}
