/**
 * MLflow scoring protocol: parse a request body into rows and compute the example model's predictions. Pure.
 *
 * Accepted JSON bodies (exactly one key of `dataframe_split`, `dataframe_records`, `instances`, `inputs`, plus
 * optional `params`), and `text/csv` with a header row. Errors are `{error_code, message}` with status 400 or 415.
 */

import { parseJsonRequest, ScoringError } from "../serving/errors.ts";

export { ScoringError };

export const SUPPORTED_FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

/** A parsed scoring request. */
export interface ScoringRequest {
  /** Feature rows (numbers; non-numeric values count as 0). */
  readonly rows: ReadonlyArray<readonly unknown[]>;
  readonly params: Readonly<Record<string, unknown>>;
}

function bad(message: string): ScoringError {
  return new ScoringError(400, "BAD_REQUEST", message);
}

function rowsOf(format: string, value: unknown): unknown[][] {
  switch (format) {
    case "dataframe_split": {
      const v = value as { columns?: unknown; data?: unknown } | null;
      if (v === null || typeof v !== "object" || !Array.isArray(v.data)) {
        throw bad("dataframe_split must be an object with a 'data' array (and optional 'columns', 'index')");
      }
      return v.data.map((row, i) => {
        if (!Array.isArray(row)) throw bad(`dataframe_split.data[${i}] must be an array`);
        return row;
      });
    }
    case "dataframe_records":
      if (!Array.isArray(value)) throw bad("dataframe_records must be an array of objects");
      return value.map((rec, i) => {
        if (rec === null || typeof rec !== "object" || Array.isArray(rec)) {
          throw bad(`dataframe_records[${i}] must be an object`);
        }
        return Object.values(rec);
      });
    default: {
      // `instances` / `inputs`: a list of rows (arrays or scalars), or a dict of named columns.
      if (Array.isArray(value)) return value.map((row) => (Array.isArray(row) ? row : [row]));
      if (value !== null && typeof value === "object") {
        const cols = Object.values(value).map((c) => (Array.isArray(c) ? c : [c]));
        const n = Math.max(0, ...cols.map((c) => c.length));
        return Array.from({ length: n }, (_, i) => cols.map((c) => c[i]));
      }
      throw bad(`${format} must be an array or an object of named inputs`);
    }
  }
}

/** Checks the content type: `application/json` or `text/csv` with an optional utf-8 charset, else 415. */
export function checkContentType(header: string | undefined): "json" | "csv" {
  const [type = "", ...params] = (header ?? "").split(";").map((p) => p.trim().toLowerCase());
  const charsetOk = params.every((p) => p === "charset=utf-8" || p === "charset=utf8");
  if (charsetOk && type === "application/json") return "json";
  if (charsetOk && type === "text/csv") return "csv";
  throw new ScoringError(
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    `content type ${JSON.stringify(header ?? "")} is not supported; this predictor only supports application/json and text/csv (charset utf-8)`,
  );
}

/** Parses a JSON scoring body. */
export function parseJsonBody(text: string): ScoringRequest {
  // Nesting beyond MAX_JSON_DEPTH is refused before parsing (400), never a stack overflow (500).
  const body = parseJsonRequest(text);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw bad(`the body must be a JSON object with one of the keys ${SUPPORTED_FORMATS.join(", ")}`);
  }
  const obj = body as Record<string, unknown>;
  const present = SUPPORTED_FORMATS.filter((k) => k in obj);
  if (present.length !== 1) {
    throw bad(
      `the body must have exactly one of the keys ${SUPPORTED_FORMATS.join(", ")}; found ` +
        (present.length === 0 ? `none (keys: ${Object.keys(obj).join(", ") || "none"})` : present.join(", ")),
    );
  }
  const format = present[0] as string;
  const params = obj.params;
  if (params !== undefined && (params === null || typeof params !== "object" || Array.isArray(params))) {
    throw bad("params must be a JSON object");
  }
  return { rows: rowsOf(format, obj[format]), params: (params ?? {}) as Record<string, unknown> };
}

/** Parses a CSV scoring body (header row, then numeric rows). */
export function parseCsvBody(text: string): ScoringRequest {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) throw bad("CSV input must have a header row");
  return { rows: lines.slice(1).map((l) => l.split(",").map((c) => Number(c))), params: {} };
}

/** The example model: a fixed linear score per row (weights 0.5, 0.25, 0.125, …). */
export function predict(rows: ReadonlyArray<readonly unknown[]>): number[] {
  return rows.map((row) => {
    let score = 0;
    row.forEach((v, i) => {
      const x = typeof v === "number" ? v : Number(v);
      if (Number.isFinite(x)) score += x / 2 ** (i + 1);
    });
    return Math.round(score * 1e6) / 1e6;
  });
}
