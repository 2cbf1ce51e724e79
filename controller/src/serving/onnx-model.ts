/**
 * An ONNX model run in-process by ONNX Runtime (`onnxruntime-node`, whose npm package ships the native CPU
 * library): inputs and outputs as v2 tensors. The only module that imports onnxruntime-node.
 */
import * as ort from "onnxruntime-node";
import { ScoringError } from "./errors.ts";
import { onnxTypeFromV2, v2FromOnnxType, type TensorMeta, type TensorValue, type V2Tensor } from "./tensors.ts";

/** A model that maps named input tensors to named output tensors. */
export interface TensorModel {
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
  run(inputs: readonly V2Tensor[]): Promise<V2Tensor[]>;
  close(): Promise<void>;
}

export interface OnnxModelOptions {
  /** Threads for one inference (ONNX Runtime intra-op pool). @default 1 — the pool scales processes, not threads. */
  readonly threads?: number;
}

function meta(m: ort.InferenceSession.ValueMetadata, file: string): TensorMeta {
  if (!m.isTensor) throw new Error(`${file}: "${m.name}" is not a tensor; only tensor inputs and outputs are served`);
  const datatype = v2FromOnnxType(m.type);
  if (datatype === undefined) throw new Error(`${file}: "${m.name}" has ONNX type ${m.type}, which has no KServe v2 data type`);
  return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)) };
}

function toOrt(t: V2Tensor): ort.Tensor {
  const dims = [...t.shape];
  switch (t.datatype) {
    case "FP32": return new ort.Tensor("float32", Float32Array.from(t.data as number[]), dims);
    case "FP64": return new ort.Tensor("float64", Float64Array.from(t.data as number[]), dims);
    case "INT64": return new ort.Tensor("int64", BigInt64Array.from(t.data as number[], (v) => BigInt(v)), dims);
    case "INT32": return new ort.Tensor("int32", Int32Array.from(t.data as number[]), dims);
    case "INT16": return new ort.Tensor("int16", Int16Array.from(t.data as number[]), dims);
    case "INT8": return new ort.Tensor("int8", Int8Array.from(t.data as number[]), dims);
    case "UINT8": return new ort.Tensor("uint8", Uint8Array.from(t.data as number[]), dims);
    case "BOOL": return new ort.Tensor("bool", Uint8Array.from(t.data as boolean[], (v) => (v ? 1 : 0)), dims);
    case "BYTES": return new ort.Tensor("string", (t.data as TensorValue[]).map(String), dims);
    default: throw new ScoringError(400, "BAD_REQUEST", `input "${t.name}": data type ${t.datatype} (ONNX ${onnxTypeFromV2(t.datatype)}) is not supported by this server`);
  }
}

function fromOrt(name: string, t: ort.Tensor): V2Tensor {
  const datatype = v2FromOnnxType(t.type) ?? "BYTES";
  const raw = t.data as ArrayLike<number | bigint | string | boolean>;
  const data: TensorValue[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as number | bigint | string | boolean;
    data[i] = typeof v === "bigint" ? Number(v) : datatype === "BOOL" ? v === 1 || v === true : v;
  }
  return { name, datatype, shape: [...t.dims], data };
}

/** Loads `file` (a `.onnx` model) into an ONNX Runtime session on the CPU. */
export async function loadOnnxModel(file: string, opts: OnnxModelOptions = {}): Promise<TensorModel> {
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ["cpu"],
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  const inputs = session.inputMetadata.map((m) => meta(m, file));
  const outputs = session.outputMetadata.map((m) => meta(m, file));
  return {
    inputs,
    outputs,
    async run(tensors) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of tensors) feeds[t.name] = toOrt(t);
      let result: ort.InferenceSession.OnnxValueMapType;
      try {
        result = await session.run(feeds);
      } catch (e) {
        throw new ScoringError(400, "BAD_REQUEST", `the model could not run on this input: ${(e as Error).message}`);
      }
      return outputs.map((o) => fromOrt(o.name, result[o.name] as ort.Tensor));
    },
    close: () => session.release(),
  };
}
