/**
 * Pure mapping from a ServingEndpoint's spec to what the engine needs (`EndpointSpec`), including the automatic
 * runtime choice. No I/O; used by the controller and the simulator-facing tools.
 */
import type { EndpointSpec, RuntimeKind } from "../engine/types.ts";
import type { ModelRef, RuntimeSelection, ServingEndpointSpec } from "./types.ts";

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

/** The engine's view of a (validated, defaulted) spec. */
export function toEndpointSpec(spec: ServingEndpointSpec): EndpointSpec {
  return {
    concurrency: { min: spec.concurrency.min, max: spec.concurrency.max },
    replicas: { min: spec.replicas.min, max: spec.replicas.max },
    provisionedConcurrency: spec.provisionedConcurrency ?? 0,
    scaleToZero: spec.scaleToZero ?? false,
    runtime: resolveRuntime(spec.model, spec.runtime),
    ...(spec.sloP99Ms !== undefined ? { sloP99Ms: spec.sloP99Ms } : {}),
  };
}
