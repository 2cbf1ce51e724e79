/**
 * CSV request bodies (RFC 4180, as pandas writes them): a header row, then one row per record. csv-parse does
 * the quoting rules; this module only shapes its output.
 */
import { parse as parseRecords } from "csv-parse/sync";
import { ScoringError } from "./errors.ts";

export interface CsvTable {
  readonly header: string[];
  readonly rows: string[][];
}

/** Parses CSV text; a malformed body (unbalanced quotes, ragged rows) is a 400 with csv-parse's reason. */
export function parse(text: string): CsvTable {
  let records: string[][];
  try {
    records = parseRecords(text, { skip_empty_lines: true, bom: true, trim: true }) as string[][];
  } catch (e) {
    throw new ScoringError(400, "BAD_REQUEST", `invalid CSV input: ${(e as Error).message}`);
  }
  const [header = [], ...rows] = records;
  return { header, rows };
}
