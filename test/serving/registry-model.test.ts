/**
 * `npm run dev -- --model models:/iris@champion`: the local loop resolves a registry reference with MLflow's own
 * client against a real `mlflow server` (tracking + model registry, sqlite, artifacts proxied) on 127.0.0.1, to which
 * the example onnx model was logged and registered with the alias `champion` by the real `mlflow` Python package;
 * the downloaded model runs in the ONNX server with the held-out rows' classes.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { downloadModel, localModelAt } from "../../controller/src/local/local-model.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requirePythonEnv } from "../../controller/src/local/python-env.ts";
import { loadOnnxPredictor } from "../../controller/src/serving/onnx-server.ts";
import { parseScoringRequest } from "../../controller/src/serving/scoring-input.ts";
import { until } from "../gateway/harness.ts";
import { EXPECTED, IRIS_ONNX, irisBodies } from "./helpers.ts";

const REGISTER = `
import sys, mlflow, mlflow.onnx, onnx
from mlflow.models import Model
mlflow.set_tracking_uri(sys.argv[1])
src = Model.load(sys.argv[2])
with mlflow.start_run():
    mlflow.onnx.log_model(onnx.load(sys.argv[2] + "/model.onnx"), name="model", signature=src.signature,
                          registered_model_name="iris", onnx_execution_providers=["CPUExecutionProvider"])
client = mlflow.MlflowClient()
client.set_registered_model_alias("iris", "champion", "1")
print("registered", client.get_model_version_by_alias("iris", "champion").version)
`;

describe("--model models:/iris@champion (real mlflow server on loopback)", () => {
  const work = mkdtempSync(join(tmpdir(), "registry-model-"));
  let server: ChildProcess | undefined;
  let uri = "";
  before(async () => {
    const env = requirePythonEnv();
    const port = await freePort();
    uri = `http://127.0.0.1:${port}`;
    server = spawn(env.bin("mlflow"), ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
      "--backend-store-uri", `sqlite:///${join(work, "mlflow.db")}`, "--artifacts-destination", join(work, "artifacts")], {
      stdio: "ignore", detached: true, env: { ...process.env, PATH: `${env.dir}/bin:${process.env["PATH"] ?? ""}` },
    });
    const up = await until(async () => {
      try {
        return (await fetch(`${uri}/health`)).ok;
      } catch {
        return false;
      }
    }, 180_000, 500);
    assert.ok(up, "mlflow server did not answer /health within 180 s");
    const out = execFileSync(env.python, ["-c", REGISTER, uri, IRIS_ONNX], { encoding: "utf8", env: { ...process.env, MLFLOW_TRACKING_URI: uri } });
    assert.match(out, /registered 1/);
  });
  after(() => {
    if (server?.pid !== undefined) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch { /* already gone */ }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it("downloads the champion with MLflow's client, picks the ONNX server, and predicts the held-out classes", async () => {
    const previous = process.env["MLFLOW_TRACKING_URI"];
    process.env["MLFLOW_TRACKING_URI"] = uri;
    try {
      const dir = downloadModel("models:/iris@champion", requirePythonEnv());
      const model = localModelAt(dir, "auto");
      assert.equal(model.runtime, "onnx");
      assert.deepEqual([...model.flavors].sort(), ["onnx", "python_function"]);
      const predictor = await loadOnnxPredictor(model.path);
      const answer = await predictor.predict(parseScoringRequest(irisBodies().dataframe_split as string, "json", predictor.inputSchema));
      assert.deepEqual(answer, EXPECTED.labels.map((label) => ({ label })));
      await predictor.model.close();
    } finally {
      if (previous === undefined) delete process.env["MLFLOW_TRACKING_URI"];
      else process.env["MLFLOW_TRACKING_URI"] = previous;
    }
  });

  it("an alias that does not exist: an error naming the reference and the tracking server", () => {
    process.env["MLFLOW_TRACKING_URI"] = uri;
    try {
      assert.throws(() => downloadModel("models:/iris@nope", requirePythonEnv()), /--model models:\/iris@nope: mlflow artifacts download failed \(tracking server: MLFLOW_TRACKING_URI=http:\/\/127\.0\.0\.1:\d+\)/);
    } finally {
      delete process.env["MLFLOW_TRACKING_URI"];
    }
  });
});
