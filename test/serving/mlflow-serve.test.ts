/**
 * Real models through the real gateway: `mlflow models serve` (from the repository's venv, the server the cluster
 * runs for MLflow flavors) of the example sklearn and onnx models, and our ONNX server (onnxruntime-node, no
 * Python) of the same onnx model. Every MLflow body format gets the held-out rows' correct classes, and the ONNX
 * server answers exactly what mlflow models serve answers for the onnx model — also for bad bodies' status codes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mlflowLauncher, onnxLauncher } from "../../controller/src/local/replica-launchers.ts";
import { requirePythonEnv } from "../../tools/python/venv.ts";
import { curl, EXPECTED, IRIS_ONNX, IRIS_SKLEARN, irisBodies, startServingGateway, type ServingGateway } from "./helpers.ts";

describe("mlflow models serve and the ONNX server behind the gateway", () => {
  let gw: ServingGateway;
  before(async () => {
    const env = requirePythonEnv();
    gw = await startServingGateway([
      { name: "iris-mlflow", runtime: "mlflow", launcher: mlflowLauncher(env, IRIS_SKLEARN) },
      { name: "iris-onnx-mlflow", runtime: "mlflow", launcher: mlflowLauncher(env, IRIS_ONNX) },
      { name: "iris-onnx", runtime: "mlflow", launcher: onnxLauncher(IRIS_ONNX) },
    ]);
  });
  after(async () => gw?.stop());

  for (const [format, body] of Object.entries(irisBodies())) {
    it(`${format}: correct classes from mlflow models serve (sklearn), identical answers from both onnx servers`, async () => {
      const sk = await curl(gw.url("iris-mlflow"), { data: body });
      assert.equal(sk.status, 200, sk.body);
      assert.deepEqual(sk.json, { predictions: EXPECTED.labels });
      const [viaMlflow, viaNode] = await Promise.all([curl(gw.url("iris-onnx-mlflow"), { data: body }), curl(gw.url("iris-onnx"), { data: body })]);
      assert.equal(viaMlflow.status, 200, viaMlflow.body);
      assert.deepEqual(viaMlflow.json, { predictions: EXPECTED.labels.map((label) => ({ label })) });
      assert.deepEqual(viaNode.json, viaMlflow.json);
    });
  }

  it("text/csv: the same classes", async () => {
    const csv = `${EXPECTED.columns.join(",")}\n${EXPECTED.rows.map((r) => r.join(",")).join("\n")}\n`;
    const sk = await curl(gw.url("iris-mlflow"), { data: csv, contentType: "text/csv" });
    assert.deepEqual(sk.json, { predictions: EXPECTED.labels }, sk.body);
    const [viaMlflow, viaNode] = await Promise.all([
      curl(gw.url("iris-onnx-mlflow"), { data: csv, contentType: "text/csv" }), curl(gw.url("iris-onnx"), { data: csv, contentType: "text/csv" }),
    ]);
    assert.deepEqual(viaNode.json, viaMlflow.json);
  });

  it("a body that does not match the signature: 400 from every server; ours names the column and the allowed ones", async () => {
    const missing = JSON.stringify({ dataframe_split: { columns: ["sepal_length", "sepal_width", "petal_length"], data: [[5.1, 3.5, 1.4]] } });
    const wrongType = JSON.stringify({ dataframe_records: [{ sepal_length: 5.1, sepal_width: "wide", petal_length: 1.4, petal_width: 0.2 }] });
    for (const body of [missing, wrongType]) {
      const answers = await Promise.all(["iris-mlflow", "iris-onnx-mlflow", "iris-onnx"].map((ep) => curl(gw.url(ep), { data: body })));
      for (const a of answers) assert.equal(a.status, 400, a.body);
    }
    const ours = await curl(gw.url("iris-onnx"), { data: missing });
    assert.equal(ours.json.error_code, "BAD_REQUEST");
    assert.match(ours.json.message, /missing column "petal_width"; the model's input columns: sepal_length \(double\), sepal_width \(double\), petal_length \(double\), petal_width \(double\)/);
    const typed = await curl(gw.url("iris-onnx"), { data: wrongType });
    assert.match(typed.json.message, /column "sepal_width" row 0: "wide" is not a number \(the column's type is double\)/);
    const mlflow = await curl(gw.url("iris-mlflow"), { data: missing });
    assert.match(mlflow.json.message, /petal_width/, "mlflow names the column too");
  });

  it("deeply nested JSON is a 400 from our server, never a 500", async () => {
    const deep = `{"inputs":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const r = await curl(gw.url("iris-onnx"), { data: deep });
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.message, /nested deeper than 64 levels/);
  });
});
