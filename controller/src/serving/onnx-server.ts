/**
 * The ONNX scoring server: an MLflow model with the onnx flavor (or a bare `.onnx` file) served over the MLflow
 * scoring protocol by ONNX Runtime in Node, no Python. The model's signature drives request parsing; inputs and
 * outputs follow MLflow's onnx flavor, so answers match `mlflow models serve` of the same model.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { toModelInputs, toPredictions } from "./model-io.ts";
import { loadOnnxModel, type TensorModel } from "./onnx-model.ts";
import type { Predictor } from "./scoring-server.ts";
import { ModelFormatError, readMlmodel, type Schema } from "./signature.ts";

export interface OnnxPredictor extends Predictor {
  readonly model: TensorModel;
  /** The ONNX file served. */
  readonly file: string;
}

/** Where the ONNX file of `path` is: `path` itself, or the onnx flavor's data file of an MLflow model directory. */
export function resolveOnnxModel(path: string): { file: string; inputSchema: Schema | undefined } {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new ModelFormatError(`${path} does not exist`);
  }
  if (!isDir) {
    if (!path.endsWith(".onnx")) throw new ModelFormatError(`${path} is neither an MLflow model directory nor an .onnx file`);
    return { file: path, inputSchema: undefined };
  }
  const info = readMlmodel(path);
  if (info.onnxFile === undefined) {
    throw new ModelFormatError(`${path}: flavors ${info.flavors.join(", ")} include no onnx flavor; the ONNX server serves MLflow models saved with mlflow.onnx (serve others with mlflow models serve)`);
  }
  return { file: join(path, info.onnxFile), inputSchema: info.signature.inputs };
}

/** Loads the model at `path` (MLflow onnx model directory or `.onnx` file). */
export async function loadOnnxPredictor(path: string, threads = 1): Promise<OnnxPredictor> {
  const { file, inputSchema } = resolveOnnxModel(path);
  const model = await loadOnnxModel(file, { threads });
  return {
    model,
    file,
    inputSchema,
    version: "autopilot-serving onnx server (onnxruntime-node)",
    ready: async () => true,
    async predict(input) {
      const outputs = await model.run(toModelInputs(input, model.inputs));
      return toPredictions(input, outputs);
    },
  };
}
