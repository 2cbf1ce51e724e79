/** The MLflow scoring protocol's parsing rules (pure): signatures, formats, errors naming what is wrong. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseJsonRequest, ScoringError } from "../../controller/src/serving/errors.ts";
import { toModelInputs, toPredictions } from "../../controller/src/serving/model-io.ts";
import { parseScoringRequest } from "../../controller/src/serving/scoring-input.ts";
import { parseMlmodel, type Schema } from "../../controller/src/serving/signature.ts";
import { splitBatch, joinBatch } from "../../controller/src/serving/triton-adapter.ts";
import { flatten, reshape, type TensorMeta } from "../../controller/src/serving/tensors.ts";
import { IRIS_ONNX } from "./helpers.ts";

const iris = parseMlmodel(readFileSync(`${IRIS_ONNX}/MLmodel`, "utf8"));
const columns = iris.signature.inputs as Schema;
const X: TensorMeta[] = [{ name: "X", datatype: "FP32", shape: [-1, 4] }];
const fails = (fn: () => unknown, status: number, message: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof ScoringError && e.status === status && message.test(e.message));
};

describe("MLmodel and signatures", () => {
  it("reads the example's flavors, onnx file and column signature", () => {
    assert.deepEqual(iris.flavors, ["onnx", "python_function"]);
    assert.equal(iris.onnxFile, "model.onnx");
    assert.equal(columns.kind, "columns");
    assert.deepEqual(columns.kind === "columns" && columns.columns.map((c) => `${c.name}:${c.type}`), ["sepal_length:double", "sepal_width:double", "petal_length:double", "petal_width:double"]);
  });
  it("a tensor signature; a bad column type names it and the allowed ones", () => {
    const t = parseMlmodel(`flavors: {onnx: {data: m.onnx}}\nsignature:\n  inputs: '[{"type": "tensor", "name": "x", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]'\n`);
    assert.deepEqual(t.signature.inputs, { kind: "tensors", tensors: [{ name: "x", dtype: "float32", shape: [-1, 3] }] });
    assert.throws(() => parseMlmodel(`flavors: {x: {}}\nsignature:\n  inputs: '[{"type": "decimal", "name": "a"}]'\n`), /signature.inputs\[0\].type "decimal" is not supported; allowed: double, float, long/);
  });
});

describe("request bodies against the signature", () => {
  const row = [5.1, 3.5, 1.4, 0.2];
  const cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
  it("every format gives the same table, in signature order, extra columns ignored", () => {
    const bodies = [
      { dataframe_split: { columns: [...cols].reverse(), data: [[...row].reverse()] } },
      { dataframe_records: [{ ...Object.fromEntries(cols.map((c, i) => [c, row[i]])), extra: 1 }] },
      { instances: [Object.fromEntries(cols.map((c, i) => [c, row[i]]))] },
      { inputs: Object.fromEntries(cols.map((c, i) => [c, [row[i]]])) },
    ];
    for (const b of bodies) {
      const t = toModelInputs(parseScoringRequest(JSON.stringify(b), "json", columns), X);
      assert.deepEqual(t, [{ name: "X", datatype: "FP32", shape: [1, 4], data: row }], JSON.stringify(b));
    }
    const csv = parseScoringRequest(`${cols.join(",")}\n${row.join(",")}\n`, "csv", columns);
    assert.deepEqual(toModelInputs(csv, X)[0]?.data, row);
  });
  it("errors name the column, the value and what is allowed; unknown keys are refused", () => {
    fails(() => parseScoringRequest(JSON.stringify({ dataframe_split: { columns: cols.slice(0, 3), data: [row.slice(0, 3)] } }), "json", columns), 400, /missing column "petal_width"; the model's input columns: sepal_length \(double\)/);
    fails(() => parseScoringRequest(JSON.stringify({ dataframe_records: [{ ...Object.fromEntries(cols.map((c) => [c, 1])), petal_length: true }] }), "json", columns), 400, /column "petal_length" row 0: true is not a number/);
    fails(() => parseScoringRequest(JSON.stringify({ dataframe_split: { columns: cols, data: [[1, 2, 3]] } }), "json", columns), 400, /dataframe_split.data\[0\] has 3 values for 4 columns/);
    fails(() => parseScoringRequest(JSON.stringify({ inputs: [[1, 2, 3, 4]], extra: 1 }), "json", columns), 400, /unknown key extra; allowed: one of dataframe_split/);
    fails(() => parseScoringRequest(JSON.stringify({ inputs: [], instances: [] }), "json", columns), 400, /exactly one of the keys .*; found instances, inputs/);
    fails(() => parseScoringRequest(JSON.stringify({ inputs: {} , params: [1] }), "json", columns), 400, /params must be a JSON object/);
  });
  it("tensor models: by name, single unnamed, shape errors name the input", () => {
    const t = parseScoringRequest(JSON.stringify({ inputs: [[1, 2, 3, 4], [5, 6, 7, 8]] }), "json", { kind: "tensors", tensors: [{ name: "X", dtype: "float32", shape: [-1, 4] }] });
    assert.deepEqual(toModelInputs(t, X)[0]?.shape, [2, 4]);
    const bad = parseScoringRequest(JSON.stringify({ inputs: { X: [[1, 2, 3]] } }), "json", undefined);
    fails(() => toModelInputs(bad, X), 400, /input "X": shape \[1, 3\] does not match the model's \[-1, 4\]/);
    fails(() => toModelInputs(parseScoringRequest(JSON.stringify({ inputs: { X: [[1, 2], [3]] } }), "json", undefined), X), 400, /ragged arrays are not tensors/);
  });
  it("answers: a record per row for a table, arrays per output for tensors", () => {
    const table = parseScoringRequest(JSON.stringify({ dataframe_split: { columns: cols, data: [row, row] } }), "json", columns);
    assert.deepEqual(toPredictions(table, [{ name: "label", datatype: "INT64", shape: [2], data: [0, 2] }]), [{ label: 0 }, { label: 2 }]);
    const tensors = parseScoringRequest(JSON.stringify({ inputs: { X: [row, row] } }), "json", undefined);
    assert.deepEqual(toPredictions(tensors, [{ name: "p", datatype: "FP32", shape: [2, 2], data: [1, 2, 3, 4] }]), { p: [[1, 2], [3, 4]] });
  });
  it("deep nesting is a 400 before parsing; strings with brackets do not count", () => {
    fails(() => parseJsonRequest(`{"a":${"[".repeat(65)}${"]".repeat(65)}}`), 400, /nested deeper than 64 levels/);
    assert.deepEqual(parseJsonRequest(JSON.stringify({ a: "[[[[".repeat(100) })), { a: "[[[[".repeat(100) });
  });
});

describe("tensors (properties)", () => {
  it("flatten ∘ reshape is the identity on rectangular arrays", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), (a, b, c) => {
      const nested = Array.from({ length: a }, (_, i) => Array.from({ length: b }, (_, j) => Array.from({ length: c }, (_, k) => i * 100 + j * 10 + k)));
      const { shape, data } = flatten(nested, "x");
      assert.deepEqual(shape, [a, b, c]);
      assert.deepEqual(reshape(data as number[], shape), nested);
    }));
  });
  it("splitting a batch at any size and joining the parts gives the batch back", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 16 }), (rows, max) => {
      const t = { name: "X", datatype: "FP32" as const, shape: [rows, 3], data: Array.from({ length: rows * 3 }, (_, i) => i) };
      const parts = splitBatch([t], max);
      assert.ok(parts.every((p) => (p[0]?.shape[0] ?? 0) <= max));
      assert.deepEqual(joinBatch(parts), [t]);
    }));
  });
});
