/**
 * The MLflow scoring protocol, driven by the model's signature: a request body becomes either a table (named
 * columns of equal length, as MLflow builds a pandas DataFrame) or named tensors. Pure.
 *
 * Bodies: a JSON object with exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`, plus an
 * optional `params` object; or `text/csv` with a header row. With a column signature every required column must be
 * present and each value must fit the column's type (400 naming the column otherwise); extra columns are ignored,
 * as MLflow ignores them. With a tensor signature `instances`/`inputs` carry the tensors.
 */
import { parse as parseCsv } from "./csv.ts";
import { parseJsonRequest, ScoringError } from "./errors.ts";
import { describeSchema, type ColumnSpec, type ColumnType, type Schema } from "./signature.ts";

export const SUPPORTED_FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;
export type InputFormat = (typeof SUPPORTED_FORMATS)[number];

export type CellValue = number | string | boolean | null;

/** A table: columns in order, each with one value per row. */
export interface TableInput {
  readonly kind: "table";
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: ColumnType; readonly values: readonly CellValue[] }>;
  readonly rowCount: number;
  readonly params: Readonly<Record<string, unknown>>;
}

/** Named tensors as nested JSON arrays; the name is "" for a single unnamed tensor. */
export interface TensorInput {
  readonly kind: "tensors";
  readonly tensors: ReadonlyMap<string, unknown>;
  readonly params: Readonly<Record<string, unknown>>;
}

export type ScoringInput = TableInput | TensorInput;

const bad = (message: string): ScoringError => new ScoringError(400, "BAD_REQUEST", message);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Checks the content type: `application/json` or `text/csv` with an optional utf-8 charset, else 415. */
export function contentKind(header: string | undefined): "json" | "csv" {
  const [type = "", ...params] = (header ?? "").split(";").map((p) => p.trim().toLowerCase());
  const charsetOk = params.every((p) => p === "charset=utf-8" || p === "charset=utf8");
  if (charsetOk && type === "application/json") return "json";
  if (charsetOk && type === "text/csv") return "csv";
  throw new ScoringError(415, "UNSUPPORTED_MEDIA_TYPE",
    `content type ${JSON.stringify(header ?? "")} is not supported; this predictor only supports application/json and text/csv (charset utf-8)`);
}

type RawTable = { names: string[]; rows: unknown[][] } | { records: Record<string, unknown>[] } | { columns: Record<string, unknown[]> };

function rawTable(format: InputFormat, value: unknown, columnSchema: boolean): RawTable | { tensors: Map<string, unknown> } {
  if (format === "dataframe_split") {
    if (!isRecord(value) || !Array.isArray(value.data)) throw bad("dataframe_split must be an object with a 'data' array (and 'columns', optional 'index')");
    const rows = value.data.map((row, i) => {
      if (!Array.isArray(row)) throw bad(`dataframe_split.data[${i}] must be an array (one row)`);
      return row;
    });
    if (value.columns === undefined) return { names: [], rows };
    if (!Array.isArray(value.columns) || !value.columns.every((c) => typeof c === "string")) throw bad("dataframe_split.columns must be an array of column names");
    const names = value.columns as string[];
    rows.forEach((row, i) => {
      if (row.length !== names.length) throw bad(`dataframe_split.data[${i}] has ${row.length} values for ${names.length} columns (${names.join(", ")})`);
    });
    return { names, rows };
  }
  if (format === "dataframe_records") {
    if (!Array.isArray(value)) throw bad("dataframe_records must be an array of objects (one per row)");
    value.forEach((r, i) => {
      if (!isRecord(r)) throw bad(`dataframe_records[${i}] must be an object of column: value`);
    });
    return { records: value as Record<string, unknown>[] };
  }
  // instances / inputs: records, a dict of columns (or of tensors), or one tensor.
  if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) {
    return columnSchema ? { records: value as Record<string, unknown>[] } : { tensors: recordsToTensors(value as Record<string, unknown>[], format) };
  }
  if (isRecord(value)) {
    if (!columnSchema) return { tensors: new Map(Object.entries(value)) };
    return { columns: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])) };
  }
  if (Array.isArray(value) || typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    if (columnSchema) return { names: [], rows: [] }; // positional data for a column model: reported as missing columns
    return { tensors: new Map([["", value]]) };
  }
  throw bad(`${format} must be an array or an object of named inputs`);
}

function recordsToTensors(records: Record<string, unknown>[], format: string): Map<string, unknown> {
  const names = Object.keys(records[0] ?? {});
  return new Map(names.map((n) => [n, records.map((r, i) => {
    if (!(n in r)) throw bad(`${format}[${i}] has no "${n}" (every instance must have the same keys)`);
    return r[n];
  })]));
}

function inferType(values: readonly unknown[]): ColumnType {
  const v = values.find((x) => x !== null && x !== undefined);
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  if (typeof v === "number" && values.every((x) => x === null || x === undefined || Number.isInteger(x))) return "long";
  return "double";
}

function cell(value: unknown, col: { name: string; type: ColumnType }, row: number): CellValue {
  const where = `column "${col.name}" row ${row}`;
  const fail = (allowed: string): never => {
    throw bad(`${where}: ${JSON.stringify(value) ?? String(value)} is not ${allowed} (the column's type is ${col.type})`);
  };
  switch (col.type) {
    case "double":
    case "float":
      if (typeof value === "number" || value === null) return value;
      if (typeof value === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
      return fail("a number");
    case "long":
    case "integer":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      return fail("an integer");
    case "boolean":
      if (typeof value === "boolean") return value;
      return fail("true or false");
    default:
      if (typeof value === "string") return value;
      if (value === null && col.type !== "string") return null;
      return fail("a string");
  }
}

/** A CSV field as the JSON value it stands for, by the column's type (text stays text when it does not parse). */
function csvCell(text: string, type: ColumnType | undefined): unknown {
  if (text === "") return null;
  if ((type === "long" || type === "integer") && /^[-+]?\d+$/.test(text)) return Number(text);
  if (type === "boolean" && /^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  return text;
}

function toTable(raw: RawTable, schema: readonly ColumnSpec[] | undefined, params: Record<string, unknown>, described: string): TableInput {
  let names: string[];
  let get: (name: string) => unknown[] | undefined;
  let rowCount: number;
  if ("rows" in raw) {
    names = raw.names;
    rowCount = raw.rows.length;
    get = (n) => {
      const i = names.indexOf(n);
      return i < 0 ? undefined : raw.rows.map((r) => r[i]);
    };
  } else if ("records" in raw) {
    names = [...new Set(raw.records.flatMap((r) => Object.keys(r)))];
    rowCount = raw.records.length;
    get = (n) => (raw.records.some((r) => n in r) ? raw.records.map((r) => (n in r ? r[n] : null)) : undefined);
  } else {
    names = Object.keys(raw.columns);
    const lengths = new Set(names.map((n) => (raw.columns[n] as unknown[]).length));
    if (lengths.size > 1) throw bad(`the named inputs have different lengths (${names.map((n) => `${n}: ${(raw.columns[n] as unknown[]).length}`).join(", ")})`);
    rowCount = names.length === 0 ? 0 : (raw.columns[names[0] as string] as unknown[]).length;
    get = (n) => raw.columns[n];
  }
  const specs = schema ?? names.map((n) => ({ name: n, type: inferType(get(n) ?? []), required: true }));
  const missing = specs.filter((s) => s.name !== undefined && s.required && get(s.name) === undefined).map((s) => s.name as string);
  if (missing.length > 0) {
    throw bad(`missing column${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")}; the model's input columns: ${described}` +
      (names.length > 0 ? `; the request has: ${names.join(", ")}` : "; send named columns (dataframe_split with columns, dataframe_records, or inputs as {column: [values]})"));
  }
  const columns = specs.map((s, i) => {
    const name = s.name ?? String(i);
    const values = get(name) ?? new Array<unknown>(rowCount).fill(null);
    return { name, type: s.type, values: values.map((v, row) => cell(v === undefined ? null : v, { name, type: s.type }, row)) };
  });
  return { kind: "table", columns, rowCount, params };
}

/** Parses a JSON or CSV scoring body against `inputs` (the signature's input schema, when the model has one). */
export function parseScoringRequest(text: string, kind: "json" | "csv", inputs: Schema | undefined): ScoringInput {
  const described = inputs !== undefined ? describeSchema(inputs) : "";
  // instances/inputs are a table only for a column signature; without a signature they are tensors, as in MLflow.
  const columnSchema = inputs?.kind === "columns";
  const columns = inputs?.kind === "columns" ? inputs.columns : undefined;
  if (kind === "csv") {
    const table = parseCsv(text);
    if (table.header.length === 0) throw bad("CSV input must have a header row");
    if (inputs?.kind === "tensors") throw bad(`this model takes tensors (${described}); send JSON with instances or inputs`);
    const specs = columns ?? table.header.map((n) => ({ name: n, type: "double" as const, required: true }));
    const typeOf = (name: string): ColumnType | undefined => specs.find((s) => s.name === name)?.type;
    const raw = { names: table.header, rows: table.rows.map((r) => r.map((c, i) => csvCell(c, typeOf(table.header[i] ?? "")))) };
    return toTable(raw, specs, {}, described);
  }
  const body = parseJsonRequest(text);
  if (!isRecord(body)) throw bad(`the body must be a JSON object with one of the keys ${SUPPORTED_FORMATS.join(", ")}`);
  const present = SUPPORTED_FORMATS.filter((k) => k in body);
  if (present.length !== 1) {
    throw bad(`the body must have exactly one of the keys ${SUPPORTED_FORMATS.join(", ")}; found ` +
      (present.length === 0 ? `none (keys: ${Object.keys(body).join(", ") || "none"})` : present.join(", ")));
  }
  const format = present[0] as InputFormat;
  const params = body.params;
  if (params !== undefined && !isRecord(params)) throw bad("params must be a JSON object");
  const unknown = Object.keys(body).filter((k) => k !== format && k !== "params");
  if (unknown.length > 0) throw bad(`unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; allowed: one of ${SUPPORTED_FORMATS.join(", ")}, and params`);
  const raw = rawTable(format, body[format], columnSchema);
  if ("tensors" in raw) {
    return { kind: "tensors", tensors: raw.tensors, params: params ?? {} };
  }
  if (inputs?.kind === "tensors") {
    // A table for a single-tensor model: its rows are the tensor (MLflow converts the DataFrame the same way).
    if (!("rows" in raw) || inputs.tensors.length !== 1) throw bad(`this model takes tensors (${described}); send instances or inputs`);
    return { kind: "tensors", tensors: new Map([[inputs.tensors[0]?.name ?? "", raw.rows]]), params: params ?? {} };
  }
  return toTable(raw, columns, params ?? {}, described);
}
