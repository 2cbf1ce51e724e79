/**
 * A Triton model repository made from the endpoint's published model, before Triton starts (the pod's init
 * step). An MLflow model with the onnx flavor becomes
 *
 *   <repository>/<model-name>/config.pbtxt        name + backend "onnxruntime"; Triton auto-completes inputs,
 *                                                 outputs, max_batch_size and dynamic batching from the ONNX file
 *   <repository>/<model-name>/1/model.onnx  ->   <model-dir>/<onnx flavor data file>   (a link: no copy)
 *
 * A model directory that already is a Triton repository (sub-directories with config.pbtxt) is linked entry by
 * entry. Anything else is refused with what the model has and what Triton can serve.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelFormatError, readMlmodel } from "./signature.ts";

export interface PreparedRepository {
  /** What was done, for the pod log. */
  readonly summary: string;
  /** Model names the repository now holds. */
  readonly models: readonly string[];
}

/** The config.pbtxt written for an MLflow onnx model. */
export function onnxModelConfig(modelName: string): string {
  return `name: "${modelName}"\nbackend: "onnxruntime"\n`;
}

export function prepareTritonRepository(modelDir: string, repository: string, modelName: string): PreparedRepository {
  if (!/^[A-Za-z0-9_.-]+$/.test(modelName)) throw new ModelFormatError(`model name ${JSON.stringify(modelName)} must be letters, digits, '_', '.', '-'`);
  mkdirSync(repository, { recursive: true });
  if (existsSync(join(modelDir, "MLmodel"))) {
    const info = readMlmodel(modelDir);
    if (info.onnxFile === undefined) {
      throw new ModelFormatError(`${modelDir}: an MLflow model with flavors ${info.flavors.join(", ")}; Triton serves MLflow models with the onnx flavor (mlflow.onnx.save_model), or a Triton model repository; serve this one with the mlflow runtime`);
    }
    const source = join(modelDir, info.onnxFile);
    if (!existsSync(source)) throw new ModelFormatError(`${modelDir}: MLmodel names ${info.onnxFile} but the file is missing`);
    const dir = join(repository, modelName);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "1"), { recursive: true });
    symlinkSync(source, join(dir, "1", "model.onnx"));
    writeFileSync(join(dir, "config.pbtxt"), onnxModelConfig(modelName));
    return { summary: `MLflow onnx model ${source} → ${dir} (version 1, backend onnxruntime)`, models: [modelName] };
  }
  const entries = readdirSync(modelDir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(modelDir, e.name, "config.pbtxt")));
  if (entries.length === 0) {
    throw new ModelFormatError(`${modelDir} has neither an MLmodel file nor model directories with config.pbtxt: it is not an MLflow model or a Triton model repository`);
  }
  for (const e of entries) {
    rmSync(join(repository, e.name), { recursive: true, force: true });
    symlinkSync(join(modelDir, e.name), join(repository, e.name));
  }
  const models = entries.map((e) => e.name);
  if (!models.includes(modelName)) {
    throw new ModelFormatError(`${modelDir} is a Triton repository with ${models.join(", ")}, but the endpoint serves model "${modelName}": name its directory ${modelName}`);
  }
  return { summary: `Triton repository ${modelDir} linked into ${repository} (${models.join(", ")})`, models };
}
