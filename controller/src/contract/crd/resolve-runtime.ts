/**
 * The automatic runtime choice for a model: shared by the Pulumi components (which render the model server) and
 * the controller (which tunes the engine per runtime). Pure, no I/O.
 */
import type { ModelRef, RuntimeKind, RuntimeSelection } from "./types.ts";

/** Parameter count from which a `transformers` model is treated as an LLM (served by vLLM). */
export const LLM_PARAMETER_THRESHOLD = 1_000_000_000;

/**
 * The model server for a model: an explicit `runtime.kind` wins; `auto` picks vLLM for LLMs (`llm` flavor, or
 * `transformers` with ≥ 1B parameters or unknown size), Triton for ONNX/TensorRT/PyTorch/TensorFlow, the MLflow
 * scoring server for classic ML (sklearn, xgboost, lightgbm, pyfunc and small transformers).
 */
export function resolveRuntime<M extends Pick<ModelRef, "flavor" | "size">>(
  model: M,
  runtime: Partial<RuntimeSelection> | undefined,
): RuntimeKind {
  const kind = runtime?.kind ?? "auto";
  if (kind !== "auto") return kind;
  switch (model.flavor) {
    case "llm":
      return "vllm";
    case "transformers": {
      const params = model.size?.parameterCount;
      return params === undefined || params >= LLM_PARAMETER_THRESHOLD ? "vllm" : "mlflow";
    }
    case "onnx":
    case "tensorrt":
    case "pytorch":
    case "tensorflow":
      return "triton";
    case "custom":
      return "custom";
    case "sklearn":
    case "xgboost":
    case "lightgbm":
    case "pyfunc":
      return "mlflow";
  }
}
