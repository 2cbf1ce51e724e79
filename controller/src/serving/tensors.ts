/**
 * Tensors as the KServe v2 / Open Inference Protocol describes them (`{name, datatype, shape, data}` with `data`
 * flat, row-major): the common form between a parsed MLflow request, ONNX Runtime and Triton. Pure.
 */
import { ScoringError } from "./errors.ts";

/** KServe v2 tensor data types. */
export const V2_DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

export type TensorValue = number | string | boolean;

export interface V2Tensor {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly shape: readonly number[];
  readonly data: readonly TensorValue[];
}

/** A model input or output as its runtime describes it (-1 = any size). */
export interface TensorMeta {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly shape: readonly number[];
}

/** ONNX Runtime type names → v2 data types. */
const ONNX_TO_V2: Readonly<Record<string, V2Datatype>> = {
  float32: "FP32", float64: "FP64", float16: "FP16", int8: "INT8", int16: "INT16", int32: "INT32", int64: "INT64",
  uint8: "UINT8", uint16: "UINT16", uint32: "UINT32", uint64: "UINT64", bool: "BOOL", string: "BYTES",
};

/** The v2 data type of an ONNX Runtime tensor type (`float32` → `FP32`); undefined when it has none. */
export function v2FromOnnxType(type: string): V2Datatype | undefined {
  return ONNX_TO_V2[type];
}

/** The ONNX Runtime tensor type of a v2 data type (`FP32` → `float32`). */
export function onnxTypeFromV2(datatype: V2Datatype): string {
  const hit = Object.entries(ONNX_TO_V2).find(([, v]) => v === datatype);
  return hit?.[0] ?? "string";
}

const isInteger = (d: V2Datatype): boolean => d.startsWith("INT") || d.startsWith("UINT");
const isFloat = (d: V2Datatype): boolean => d.startsWith("FP");

/**
 * One value converted to `datatype`, or an error naming `what` (a column or tensor) and the value.
 * Floats take numbers, numeric strings and null (NaN); integers take integral numbers; BOOL takes booleans;
 * BYTES takes strings.
 */
export function convertValue(value: unknown, datatype: V2Datatype, what: string): TensorValue {
  if (isFloat(datatype)) {
    if (typeof value === "number") return value;
    if (value === null) return Number.NaN;
    if (typeof value === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
  } else if (isInteger(datatype)) {
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "boolean") return value ? 1 : 0;
  } else if (datatype === "BOOL") {
    if (typeof value === "boolean") return value;
  } else if (typeof value === "string") {
    return value;
  }
  const kind = isFloat(datatype) ? "a number" : isInteger(datatype) ? "an integer" : datatype === "BOOL" ? "true or false" : "a string";
  throw new ScoringError(400, "BAD_REQUEST", `${what}: ${JSON.stringify(value) ?? String(value)} is not ${kind} (${datatype})`);
}

/** Shape and flat values of a nested JSON array; ragged arrays are an error naming `what`. */
export function flatten(value: unknown, what: string): { shape: number[]; data: unknown[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const data: unknown[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new ScoringError(400, "BAD_REQUEST", `${what}: ${path} is nested deeper than the rest of the array`);
      data.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new ScoringError(400, "BAD_REQUEST", `${what}: ${path} has ${Array.isArray(v) ? v.length : "no"} elements where the array's shape [${shape.join(", ")}] needs ${shape[depth]} (ragged arrays are not tensors)`);
    }
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, "value");
  return { shape, data };
}

/** Nests flat row-major `data` into arrays of `shape`. */
export function reshape(data: readonly TensorValue[], shape: readonly number[]): unknown {
  if (shape.length === 0) return data[0];
  let offset = 0;
  const build = (depth: number): unknown[] => {
    const n = shape[depth] as number;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = depth === shape.length - 1 ? data[offset++] : build(depth + 1);
    return out;
  };
  return build(0);
}

/** True when `actual` fits `expected` (same rank, -1 matches any size). */
export function shapeFits(actual: readonly number[], expected: readonly number[]): boolean {
  return actual.length === expected.length && actual.every((d, i) => expected[i] === -1 || expected[i] === d);
}
