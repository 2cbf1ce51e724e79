/**
 * The Triton adapter: the MLflow scoring protocol in front of a KServe v2 inference server (Triton) in the same
 * pod. An MLflow body is parsed against the model's signature, turned into v2 tensors with the input names, data
 * types and shapes that the server's model metadata gives, sent to `/v2/models/<model>/infer`, and the outputs come
 * back as MLflow's `predictions` (the onnx flavor's rules, model-io.ts). Requests with more rows than the model's
 * `max_batch_size` are split along the batch dimension and sent in parallel (Triton's dynamic batcher may merge
 * them again).
 */
import { KserveV2Client, type V2ModelMetadata } from "./kserve-v2-client.ts";
import { toModelInputs, toPredictions } from "./model-io.ts";
import type { ScoringInput } from "./scoring-input.ts";
import type { Predictor } from "./scoring-server.ts";
import type { Schema } from "./signature.ts";
import type { TensorValue, V2Tensor } from "./tensors.ts";

export interface TritonAdapterOptions {
  /** The inference server, e.g. `http://127.0.0.1:8000`. */
  readonly serverUrl: string;
  /** Model name in the server's repository. */
  readonly modelName: string;
  /** The signature's input schema (from MLmodel), when the model has one. */
  readonly inputSchema: Schema | undefined;
  /** Per-request timeout towards the server. @default 60000 */
  readonly timeoutMs?: number;
}

export interface TritonPredictor extends Predictor {
  /** Model metadata once fetched (after the first successful `ready()`). */
  metadata(): V2ModelMetadata | undefined;
  close(): void;
}

/** Splits tensors along the first (batch) dimension into chunks of at most `maxRows` rows. */
export function splitBatch(tensors: readonly V2Tensor[], maxRows: number): V2Tensor[][] {
  const rows = tensors[0]?.shape[0] ?? 0;
  if (maxRows <= 0 || rows <= maxRows) return [[...tensors]];
  const chunks: V2Tensor[][] = [];
  for (let start = 0; start < rows; start += maxRows) {
    const n = Math.min(maxRows, rows - start);
    chunks.push(tensors.map((t) => {
      const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
      return { ...t, shape: [n, ...t.shape.slice(1)], data: t.data.slice(start * per, (start + n) * per) };
    }));
  }
  return chunks;
}

/** Joins chunked outputs back along the first dimension (the chunks' outputs in the same order). */
export function joinBatch(parts: readonly V2Tensor[][]): V2Tensor[] {
  if (parts.length === 1) return [...(parts[0] ?? [])];
  return (parts[0] ?? []).map((first, i) => {
    const data: TensorValue[] = [];
    let rows = 0;
    for (const p of parts) {
      const t = p[i] as V2Tensor;
      rows += t.shape[0] ?? 0;
      for (const v of t.data) data.push(v);
    }
    return { ...first, shape: [rows, ...first.shape.slice(1)], data };
  });
}

export function tritonPredictor(o: TritonAdapterOptions): TritonPredictor {
  const client = new KserveV2Client(o.serverUrl, o.timeoutMs ?? 60_000);
  const model = encodeURIComponent(o.modelName);
  let meta: V2ModelMetadata | undefined;
  let maxBatch = 0;
  const ensureMetadata = async (): Promise<V2ModelMetadata> => {
    if (meta === undefined) {
      const m = await client.metadata(o.modelName);
      maxBatch = await client.maxBatchSize(o.modelName);
      meta = m;
    }
    return meta;
  };
  return {
    inputSchema: o.inputSchema,
    version: `autopilot-serving triton adapter (model ${o.modelName})`,
    metadata: () => meta,
    async ready() {
      if (!(await client.ok("/v2/health/ready")) || !(await client.ok(`/v2/models/${model}/ready`))) return false;
      try {
        await ensureMetadata();
        return true;
      } catch {
        return false;
      }
    },
    async predict(input: ScoringInput) {
      const m = await ensureMetadata();
      // A batching model's metadata shapes start with the batch dimension (-1); a table's rows are that dimension.
      const tensors = toModelInputs(input, m.inputs);
      const names = m.outputs.map((x) => x.name);
      const parts = await Promise.all(splitBatch(tensors, maxBatch).map((chunk) => client.infer(o.modelName, chunk, names)));
      const ordered = parts.map((outs) => names.map((n) => outs.find((x) => x.name === n) ?? { name: n, datatype: "BYTES" as const, shape: [0], data: [] }));
      return toPredictions(input, joinBatch(ordered));
    },
    close: () => client.close(),
  };
}
