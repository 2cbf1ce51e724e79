/**
 * TEST DOUBLE of Triton Inference Server's HTTP API (KServe v2 / Open Inference Protocol), for the adapter tests
 * and `npm run bench:adapter`: Triton itself cannot run on our machines (no container engine, no NVIDIA image).
 * It is not Triton. What it does as Triton does, and only that:
 * - reads a model repository (`<repo>/<model>/config.pbtxt` with `name`, `backend`, optional `max_batch_size`;
 *   `<repo>/<model>/1/model.onnx`) and runs each model with ONNX Runtime (onnxruntime-node);
 * - auto-completes a config without `max_batch_size` as Triton's onnxruntime backend does: a model whose inputs
 *   and outputs all have a dynamic first dimension batches, with `defaultMaxBatchSize` (Triton's default: 4);
 * - routes: GET /v2/health/live, /v2/health/ready, /v2/models/<m>, /v2/models/<m>/ready, /v2/models/<m>/config;
 *   POST /v2/models/<m>/infer with JSON tensors; a batch over max_batch_size, a missing input, a wrong data type
 *   or shape is a 400 `{"error": …}` as in Triton.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { loadOnnxModel, type TensorModel } from "../../controller/src/serving/onnx-model.ts";
import { shapeFits, type TensorMeta, type V2Tensor } from "../../controller/src/serving/tensors.ts";

interface LoadedModel {
  readonly name: string;
  readonly backend: string;
  readonly maxBatchSize: number;
  readonly model: TensorModel;
}

export interface KserveV2DoubleOptions {
  readonly repository: string;
  /** Triton's `--backend-config=default-max-batch-size`. @default 4 */
  readonly defaultMaxBatchSize?: number;
  /** @default 0 (a free port) */
  readonly port?: number;
}

export interface RunningKserveV2Double {
  readonly port: number;
  readonly url: string;
  readonly server: Server;
  /** Inference requests answered (any status). */
  requests(): number;
  close(): Promise<void>;
}

function configField(text: string, field: string): string | undefined {
  const m = new RegExp(`^\\s*${field}\\s*:\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(text);
  return m?.[1];
}

/** Metadata shape of a tensor: with batching, the batch dimension is -1 in front of the per-item dims. */
function publicMeta(t: TensorMeta, batching: boolean): TensorMeta {
  return batching ? { ...t, shape: [-1, ...t.shape.slice(1)] } : t;
}

async function loadRepository(repo: string, defaultMaxBatchSize: number): Promise<Map<string, LoadedModel>> {
  const models = new Map<string, LoadedModel>();
  for (const entry of readdirSync(repo, { withFileTypes: true })) {
    const dir = join(repo, entry.name);
    if (!existsSync(join(dir, "config.pbtxt"))) continue;
    const config = readFileSync(join(dir, "config.pbtxt"), "utf8");
    const name = configField(config, "name") ?? entry.name;
    if (name !== entry.name) throw new Error(`${dir}/config.pbtxt: name "${name}" must equal the directory name "${entry.name}"`);
    const backend = configField(config, "backend") ?? configField(config, "platform") ?? "";
    if (backend !== "onnxruntime" && backend !== "onnxruntime_onnx") throw new Error(`${dir}: the test double runs only onnxruntime models, not ${JSON.stringify(backend)}`);
    const model = await loadOnnxModel(join(dir, "1", "model.onnx"));
    const canBatch = [...model.inputs, ...model.outputs].every((t) => t.shape[0] === -1);
    const declared = configField(config, "max_batch_size");
    const maxBatchSize = declared !== undefined ? Number(declared) : canBatch ? defaultMaxBatchSize : 0;
    models.set(name, { name, backend, maxBatchSize, model });
  }
  return models;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (e) {
        reject(e);
      }
    });
    req.on("error", reject);
  });
}

function validate(m: LoadedModel, inputs: V2Tensor[]): string | undefined {
  const batching = m.maxBatchSize > 0;
  for (const meta of m.model.inputs) {
    const t = inputs.find((x) => x.name === meta.name);
    if (t === undefined) return `expected ${m.model.inputs.length} inputs but got ${inputs.length} inputs for model '${m.name}'. Got input(s) [${inputs.map((x) => `'${x.name}'`).join(", ")}], but missing required input(s) ['${meta.name}']`;
    if (t.datatype !== meta.datatype) return `[request id: <id_unknown>] unexpected datatype ${t.datatype} for inference input '${t.name}', expecting ${meta.datatype} for model '${m.name}'`;
    const expected = publicMeta(meta, batching).shape;
    if (!shapeFits(t.shape, expected)) return `[request id: <id_unknown>] unexpected shape for input '${t.name}' for model '${m.name}'. Expected [${expected.join(",")}], got [${t.shape.join(",")}]`;
    if (batching && (t.shape[0] ?? 0) > m.maxBatchSize) return `[request id: <id_unknown>] inference request batch-size must be <= ${m.maxBatchSize} for '${m.name}'`;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) return `unexpected number of elements ${t.data.length} for input '${t.name}', expecting ${n}`;
  }
  return undefined;
}

/** Starts the test double on 127.0.0.1. */
export async function startKserveV2Double(o: KserveV2DoubleOptions): Promise<RunningKserveV2Double> {
  const models = await loadRepository(o.repository, o.defaultMaxBatchSize ?? 4);
  let inferences = 0;
  const json = (res: import("node:http").ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && (path === "/v2/health/live" || path === "/v2/health/ready")) return json(res, 200, {});
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/1)?(\/ready|\/config|\/infer)?$/.exec(path);
    const model = m ? models.get(decodeURIComponent(m[1] as string)) : undefined;
    if (model === undefined) return json(res, 400, { error: `Request for unknown model: '${m?.[1] ?? path}' is not found` });
    const batching = model.maxBatchSize > 0;
    const tail = m?.[2];
    if (req.method === "GET" && tail === undefined) {
      return json(res, 200, { name: model.name, versions: ["1"], platform: "onnxruntime_onnx",
        inputs: model.model.inputs.map((t) => publicMeta(t, batching)), outputs: model.model.outputs.map((t) => publicMeta(t, batching)) });
    }
    if (req.method === "GET" && tail === "/ready") return json(res, 200, {});
    if (req.method === "GET" && tail === "/config") {
      const dims = (t: TensorMeta) => (batching ? t.shape.slice(1) : t.shape);
      return json(res, 200, { name: model.name, backend: "onnxruntime", max_batch_size: model.maxBatchSize,
        input: model.model.inputs.map((t) => ({ name: t.name, data_type: `TYPE_${t.datatype}`, dims: dims(t) })),
        output: model.model.outputs.map((t) => ({ name: t.name, data_type: `TYPE_${t.datatype}`, dims: dims(t) })),
        ...(batching ? { dynamic_batching: {} } : {}) });
    }
    if (req.method === "POST" && tail === "/infer") {
      inferences++;
      void readJson(req).then(async (body) => {
        const inputs = ((body as { inputs?: V2Tensor[] }).inputs ?? []);
        const problem = validate(model, inputs);
        if (problem !== undefined) return json(res, 400, { error: problem });
        const outputs = await model.model.run(inputs);
        const wanted = (body as { outputs?: Array<{ name: string }> }).outputs?.map((x) => x.name);
        json(res, 200, { model_name: model.name, model_version: "1", outputs: outputs.filter((x) => wanted === undefined || wanted.includes(x.name)) });
      }).catch((e: unknown) => json(res, 400, { error: `failed to parse the request JSON buffer: ${(e as Error).message}` }));
      return;
    }
    json(res, 400, { error: `unsupported request ${req.method} ${path}` });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  return {
    port, url: `http://127.0.0.1:${port}`, server, requests: () => inferences,
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const x of models.values()) await x.model.close();
    },
  };
}
