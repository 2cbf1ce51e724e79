/**
 * An MLflow model's signature and the parts of its `MLmodel` file that serving needs. Pure: text in, typed
 * value out; `readMlmodel` is the only function that touches the file system.
 *
 * MLmodel stores the signature as JSON strings (`signature.inputs`, `signature.outputs`, `signature.params`):
 * - a column signature: `[{"type": "double", "name": "sepal_length", "required": true}, …]`
 * - a tensor signature: `[{"type": "tensor", "name": "x", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]`
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

/** MLflow column types (mlflow.types.DataType). */
export const COLUMN_TYPES = ["double", "float", "long", "integer", "boolean", "string", "binary", "datetime"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  /** Absent for an unnamed single output (`[{"type": "long"}]`). */
  readonly name?: string;
  readonly type: ColumnType;
  readonly required: boolean;
}

/** A numpy dtype name as MLflow writes it (`float32`, `int64`, `bool`, `str`, `object`, …). */
export interface TensorSpec {
  readonly name?: string;
  readonly dtype: string;
  /** -1 = any size. */
  readonly shape: readonly number[];
}

export type Schema =
  | { readonly kind: "columns"; readonly columns: readonly ColumnSpec[] }
  | { readonly kind: "tensors"; readonly tensors: readonly TensorSpec[] };

export interface ModelSignature {
  readonly inputs?: Schema;
  readonly outputs?: Schema;
}

/** What serving reads from MLmodel. */
export interface MlmodelInfo {
  /** Flavor names (`sklearn`, `onnx`, `python_function`, …). */
  readonly flavors: readonly string[];
  /** `flavors.onnx.data` (the ONNX file's name), when the model has the onnx flavor. */
  readonly onnxFile?: string;
  readonly signature: ModelSignature;
  readonly mlflowVersion?: string;
}

/** A problem with a model's files (not with a request). */
export class ModelFormatError extends Error {}

function parseSchema(json: unknown, where: string): Schema | undefined {
  if (json === undefined || json === null) return undefined;
  if (typeof json !== "string") throw new ModelFormatError(`${where} must be a JSON string, got ${typeof json}`);
  let specs: unknown;
  try {
    specs = JSON.parse(json);
  } catch (e) {
    throw new ModelFormatError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(specs) || specs.length === 0) throw new ModelFormatError(`${where} must be a non-empty JSON array`);
  const isTensor = (s: unknown): boolean => (s as { type?: unknown } | null)?.type === "tensor";
  if (specs.every(isTensor)) {
    return {
      kind: "tensors",
      tensors: specs.map((s: { name?: unknown; "tensor-spec"?: { dtype?: unknown; shape?: unknown } }, i) => {
        const spec = s["tensor-spec"];
        if (spec === undefined || typeof spec.dtype !== "string" || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d))) {
          throw new ModelFormatError(`${where}[${i}] must have "tensor-spec": {"dtype": string, "shape": [integers]}`);
        }
        return { ...(typeof s.name === "string" ? { name: s.name } : {}), dtype: spec.dtype, shape: spec.shape as number[] };
      }),
    };
  }
  if (specs.some(isTensor)) throw new ModelFormatError(`${where} mixes tensor and column specs`);
  return {
    kind: "columns",
    columns: specs.map((s: { name?: unknown; type?: unknown; required?: unknown }, i) => {
      if (!COLUMN_TYPES.includes(s.type as ColumnType)) {
        throw new ModelFormatError(`${where}[${i}].type ${JSON.stringify(s.type)} is not supported; allowed: ${COLUMN_TYPES.join(", ")}`);
      }
      return { ...(typeof s.name === "string" ? { name: s.name } : {}), type: s.type as ColumnType, required: s.required !== false };
    }),
  };
}

/** Parses the text of an `MLmodel` file. */
export function parseMlmodel(text: string): MlmodelInfo {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ModelFormatError(`MLmodel is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== "object") throw new ModelFormatError("MLmodel must be a YAML mapping");
  const m = doc as { flavors?: Record<string, { data?: unknown } | null>; signature?: { inputs?: unknown; outputs?: unknown }; mlflow_version?: unknown };
  if (m.flavors === undefined || m.flavors === null || typeof m.flavors !== "object") throw new ModelFormatError("MLmodel has no flavors");
  const onnx = m.flavors["onnx"];
  const inputs = parseSchema(m.signature?.inputs, "signature.inputs");
  const outputs = parseSchema(m.signature?.outputs, "signature.outputs");
  return {
    flavors: Object.keys(m.flavors),
    ...(onnx !== undefined && onnx !== null && typeof onnx.data === "string" ? { onnxFile: onnx.data } : {}),
    signature: { ...(inputs !== undefined ? { inputs } : {}), ...(outputs !== undefined ? { outputs } : {}) },
    ...(typeof m.mlflow_version === "string" ? { mlflowVersion: m.mlflow_version } : {}),
  };
}

/** Reads `<dir>/MLmodel`. */
export function readMlmodel(dir: string): MlmodelInfo {
  let text: string;
  try {
    text = readFileSync(join(dir, "MLmodel"), "utf8");
  } catch (e) {
    throw new ModelFormatError(`${join(dir, "MLmodel")} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): is ${dir} an MLflow model directory?`);
  }
  return parseMlmodel(text);
}

/** One line describing a schema, for error messages: `sepal_length (double), …`. */
export function describeSchema(schema: Schema): string {
  return schema.kind === "columns"
    ? schema.columns.map((c) => `${c.name ?? "(unnamed)"} (${c.type}${c.required ? "" : ", optional"})`).join(", ")
    : schema.tensors.map((t) => `${t.name ?? "(unnamed)"} (${t.dtype} [${t.shape.join(", ")}])`).join(", ");
}
