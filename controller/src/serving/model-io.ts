/**
 * From a parsed MLflow request to a tensor model's inputs, and from its outputs to MLflow's `predictions`, by the
 * rules of MLflow's onnx flavor (mlflow/onnx/__init__.py, `_OnnxModelWrapper.predict`), so the ONNX server and
 * the Triton adapter answer exactly what `mlflow models serve` answers for the same model. Pure.
 *
 * - A table and a model with one input: the columns, in signature order, become one [rows, columns] tensor
 *   (rank-1 input with one column: [rows]).
 * - A table and a model with several inputs: each input takes the column of its name.
 * - Tensors: by name; a single unnamed tensor goes to a single-input model.
 * - Answers: for a table, one record per row with each output flattened to one value per row
 *   (`[{"label": 0}, …]`); for tensors, one array per output (`{"label": [0, …]}`).
 */
import { ScoringError } from "./errors.ts";
import type { ScoringInput, TableInput } from "./scoring-input.ts";
import { convertValue, flatten, reshape, shapeFits, type TensorMeta, type TensorValue, type V2Tensor } from "./tensors.ts";

const bad = (message: string): ScoringError => new ScoringError(400, "BAD_REQUEST", message);

function fromTable(table: TableInput, inputs: readonly TensorMeta[]): V2Tensor[] {
  const rows = table.rowCount;
  if (inputs.length === 1) {
    const input = inputs[0] as TensorMeta;
    const cols = table.columns;
    const data: TensorValue[] = new Array(rows * cols.length);
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c] as TableInput["columns"][number];
      for (let r = 0; r < rows; r++) data[r * cols.length + c] = convertValue(col.values[r], input.datatype, `column "${col.name}" row ${r}`);
    }
    const shape = input.shape.length === 1 && cols.length === 1 ? [rows] : [rows, cols.length];
    if (!shapeFits(shape, input.shape)) {
      throw bad(`the model input "${input.name}" has shape [${input.shape.join(", ")}]; ${cols.length} columns (${cols.map((c) => c.name).join(", ")}) make [${shape.join(", ")}]`);
    }
    return [{ name: input.name, datatype: input.datatype, shape, data }];
  }
  return inputs.map((input) => {
    const col = table.columns.find((c) => c.name === input.name);
    if (col === undefined) throw bad(`missing column "${input.name}" (the model's inputs: ${inputs.map((i) => i.name).join(", ")})`);
    const shape = input.shape.length === 2 ? [rows, 1] : [rows];
    return { name: input.name, datatype: input.datatype, shape, data: col.values.map((v, r) => convertValue(v, input.datatype, `column "${col.name}" row ${r}`)) };
  });
}

/** The model's input tensors for a parsed request. */
export function toModelInputs(input: ScoringInput, inputs: readonly TensorMeta[]): V2Tensor[] {
  if (inputs.length === 0) throw new ScoringError(500, "INTERNAL_ERROR", "the model declares no inputs");
  if (input.kind === "table") return fromTable(input, inputs);
  const given = [...input.tensors.keys()];
  const byName = (name: string): unknown => {
    if (input.tensors.has(name)) return input.tensors.get(name);
    if (inputs.length === 1 && given.length === 1) return input.tensors.get(given[0] as string);
    return undefined;
  };
  const unknown = given.filter((g) => g !== "" && !inputs.some((i) => i.name === g));
  if (unknown.length > 0 && !(inputs.length === 1 && given.length === 1)) {
    throw bad(`unknown input${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; the model's inputs: ${inputs.map((i) => i.name).join(", ")}`);
  }
  return inputs.map((meta) => {
    const value = byName(meta.name);
    if (value === undefined) throw bad(`missing input "${meta.name}" (the model's inputs: ${inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(", ")}]`).join(", ")})`);
    const flat = flatten(value, `input "${meta.name}"`);
    let shape = flat.shape;
    // A list of scalars for a [-1, 1] input is a column: MLflow's tensor inputs add the trailing 1 the same way.
    if (meta.shape.length === shape.length + 1 && meta.shape[meta.shape.length - 1] === 1) shape = [...shape, 1];
    if (!shapeFits(shape, meta.shape)) throw bad(`input "${meta.name}": shape [${shape.join(", ")}] does not match the model's [${meta.shape.join(", ")}] (-1 = any size)`);
    return { name: meta.name, datatype: meta.datatype, shape, data: flat.data.map((v, i) => convertValue(v, meta.datatype, `input "${meta.name}" element ${i}`)) };
  });
}

/** MLflow's `predictions` for the model's outputs (in the model's output order). */
export function toPredictions(input: ScoringInput, outputs: readonly V2Tensor[]): unknown {
  if (input.kind === "table") {
    const rows = input.rowCount;
    for (const o of outputs) {
      if (o.data.length !== rows) {
        throw new ScoringError(500, "MODEL_ERROR", `the model output "${o.name}" has ${o.data.length} values for ${rows} rows (shape [${o.shape.join(", ")}]); a table request needs one value per row and output`);
      }
    }
    return Array.from({ length: rows }, (_, r) => Object.fromEntries(outputs.map((o) => [o.name, o.data[r]])));
  }
  return Object.fromEntries(outputs.map((o) => [o.name, reshape(o.data, o.shape)]));
}
