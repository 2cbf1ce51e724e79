/**
 * The error every model server of the repository answers with: an HTTP status and an MLflow error code, sent as
 * `{"error_code", "message"}` (the MLflow scoring server's shape).
 */
export class ScoringError extends Error {
  readonly status: number;
  readonly errorCode: string;
  constructor(status: number, errorCode: string, message: string) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** Deepest JSON nesting a request body may have. MLflow bodies need 4 (a batch of 2-D tensors); 64 is ample. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a JSON request body, refusing nesting deeper than `maxDepth` before parsing (a 100,000-deep array is a
 * 200 KB body; a recursive reader of it exhausts the stack). Errors are 400 with the reason.
 */
export function parseJsonRequest(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        throw new ScoringError(400, "BAD_REQUEST", `invalid JSON input: nested deeper than ${maxDepth} levels (at character ${i})`);
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ScoringError(400, "BAD_REQUEST", `invalid JSON input: ${(e as Error).message}`);
  }
}
