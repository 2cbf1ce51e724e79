/**
 * MLflow bodies through the real gateway to a Triton endpoint: the gateway routes `invocations` to the adapter
 * (controller/src/serving/adapter-main.ts, run as its CLI), which speaks KServe v2 to the server. Triton itself
 * cannot run here (no container engine, no NVIDIA image): a KServe-v2 TEST DOUBLE of Triton
 * (bench/adapter/kserve-v2-double.ts) serves the model repository the adapter's `prepare` step made from the
 * example MLflow onnx model, running it with ONNX Runtime.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { startKserveV2Double, type RunningKserveV2Double } from "../../bench/adapter/kserve-v2-double.ts";
import type { ReplicaLauncher } from "../../controller/src/local/replica-launchers.ts";
import { curl, EXPECTED, IRIS_ONNX, irisBodies, startServingGateway, type ServingGateway } from "./helpers.ts";

const ADAPTER_MAIN = fileURLToPath(new URL("../../controller/src/serving/adapter-main.ts", import.meta.url));

function adapterLauncher(serverUrl: string, modelName: string, modelDir: string): ReplicaLauncher {
  return {
    label: "triton adapter",
    command: (port) => ({ file: process.execPath, args: [ADAPTER_MAIN, "serve", "--model-name", modelName, "--server", serverUrl, "--model-dir", modelDir, "--host", "127.0.0.1", "--port", String(port)] }),
    healthPath: "/ping",
    startTimeoutMs: 20_000,
  };
}

describe("Triton endpoint: MLflow bodies → adapter → KServe v2 (test double of Triton)", () => {
  const work = mkdtempSync(join(tmpdir(), "triton-adapter-"));
  const repo = join(work, "repository");
  let triton: RunningKserveV2Double;
  let gw: ServingGateway;
  before(async () => {
    const out = execFileSync(process.execPath, [ADAPTER_MAIN, "prepare", "--model-dir", IRIS_ONNX, "--repository", repo, "--model-name", "iris"], { encoding: "utf8" });
    assert.match(out, /MLflow onnx model .* → .*iris \(version 1, backend onnxruntime\)/);
    triton = await startKserveV2Double({ repository: repo, defaultMaxBatchSize: 8 });
    gw = await startServingGateway([{ name: "iris", runtime: "triton", launcher: adapterLauncher(triton.url, "iris", IRIS_ONNX) }]);
  });
  after(async () => {
    await gw?.stop();
    await triton?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("prepare made a Triton repository: config.pbtxt for onnxruntime, version 1 linking the model file", () => {
    assert.equal(readFileSync(join(repo, "iris", "config.pbtxt"), "utf8"), 'name: "iris"\nbackend: "onnxruntime"\n');
    assert.equal(readlinkSync(join(repo, "iris", "1", "model.onnx")), join(IRIS_ONNX, "model.onnx"));
  });

  for (const [format, body] of Object.entries(irisBodies())) {
    it(`${format}: {"predictions": …} with the correct classes`, async () => {
      const r = await curl(gw.url("iris"), { data: body });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json, { predictions: EXPECTED.labels.map((label) => ({ label })) });
    });
  }

  it("30 rows with max_batch_size 8 go to the server as 4 requests of at most 8 rows, answered in order", async () => {
    const before = triton.requests();
    const r = await curl(gw.url("iris"), { data: irisBodies().dataframe_split });
    assert.equal(r.status, 200, r.body);
    assert.equal(EXPECTED.rows.length, 30);
    assert.equal(triton.requests() - before, 4);
    assert.deepEqual(r.json.predictions.map((p: { label: number }) => p.label), EXPECTED.labels);
  });

  it("a body that does not match the signature: 400 naming the column, before the server is called", async () => {
    const before = triton.requests();
    const r = await curl(gw.url("iris"), { data: JSON.stringify({ dataframe_records: [{ sepal_length: 5, sepal_width: 3, petal_length: 1 }] }) });
    assert.equal(r.status, 400, r.body);
    assert.equal(r.json.error_code, "BAD_REQUEST");
    assert.match(r.json.message, /missing column "petal_width"/);
    assert.equal(triton.requests(), before);
  });

  it("positional data for a column model: 400, as MLflow answers it", async () => {
    const r = await curl(gw.url("iris"), { data: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }) });
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.message, /missing columns "sepal_length", "sepal_width", "petal_length", "petal_width"/);
  });

  it("the server gone: the adapter's /ping is 503 (the pod leaves readiness) and a request is a 502 saying why", async () => {
    await triton.close();
    const pod = gw.pools.get("iris")?.list()[0];
    assert.ok(pod);
    const ping = await curl(`http://127.0.0.1:${pod.port}/ping`);
    assert.equal(ping.status, 503);
    const r = await curl(gw.url("iris"), { data: irisBodies().dataframe_split });
    assert.equal(r.status, 502, r.body);
    assert.equal(r.json.error_code, "BAD_GATEWAY");
    assert.match(r.json.message, /the inference server did not answer/);
  });
});
