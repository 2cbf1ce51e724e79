/**
 * The OpenAI-compatible API as vLLM's OpenAI server speaks it, for the local `chat` endpoint: request
 * validation, response and stream-chunk shapes, OpenAI-shaped errors, and the text generator — a DETERMINISTIC
 * STAND-IN, not a language model (no generative model ships in a registry package we can use here). Pure.
 */

/** An API error, answered as OpenAI does: `{"error": {"message", "type", "param", "code"}}`. */
export class OpenAiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  constructor(status: number, message: string, opts: { type?: string; param?: string; code?: string } = {}) {
    super(message);
    this.status = status;
    this.type = opts.type ?? (status === 404 ? "not_found_error" : status >= 500 ? "server_error" : "invalid_request_error");
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
  }
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const invalid = (param: string, message: string, code = "invalid_value"): OpenAiError => new OpenAiError(400, `${param}: ${message}`, { param, code });

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

export interface GenerationParams {
  readonly model: string;
  readonly maxTokens: number;
  readonly stop: readonly string[];
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

export type ChatRequest = GenerationParams & { readonly messages: readonly ChatMessage[] };
export type CompletionRequest = GenerationParams & { readonly prompts: readonly string[] };
export interface EmbeddingRequest {
  readonly model: string;
  readonly inputs: readonly string[];
  readonly encoding: "float" | "base64";
  readonly dimensions?: number;
}

const ROLES = ["system", "developer", "user", "assistant", "tool"];

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Checks `model` against the names served: the endpoint's, or absent (the default model, as vLLM allows). */
function model(body: Record<string, unknown>, served: readonly string[]): string {
  const m = body.model;
  if (m === undefined || m === null) return served[0] as string;
  if (typeof m !== "string") throw invalid("model", "must be a string");
  if (!served.includes(m)) throw new OpenAiError(404, `The model \`${m}\` does not exist. Models served here: ${served.join(", ")}`, { param: "model", code: "model_not_found" });
  return m;
}

function generation(body: Record<string, unknown>, served: readonly string[], defaultMaxTokens: number): GenerationParams {
  const raw = body.max_completion_tokens ?? body.max_tokens;
  if (raw !== undefined && raw !== null && (!Number.isInteger(raw) || (raw as number) < 1)) throw invalid(body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens", `${JSON.stringify(raw)} must be an integer ≥ 1`);
  const n = body.n ?? 1;
  if (n !== 1) throw invalid("n", `${JSON.stringify(n)} is not supported here; only n = 1`);
  for (const p of ["temperature", "top_p", "presence_penalty", "frequency_penalty"]) {
    if (body[p] !== undefined && body[p] !== null && typeof body[p] !== "number") throw invalid(p, "must be a number");
  }
  const stopRaw = body.stop ?? [];
  const stop = typeof stopRaw === "string" ? [stopRaw] : stopRaw;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === "string") || stop.length > 4) throw invalid("stop", "must be a string or an array of at most 4 strings");
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") throw invalid("stream", "must be true or false");
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isRecord(streamOptions)) throw invalid("stream_options", "must be an object");
  return {
    model: model(body, served),
    maxTokens: (raw as number | undefined) ?? defaultMaxTokens,
    stop: stop as string[],
    stream: body.stream === true,
    includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
  };
}

function textOf(content: unknown, i: number): string {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (Array.isArray(content)) {
    return content.map((part, j) => {
      if (isRecord(part) && part.type === "text" && typeof part.text === "string") return part.text;
      throw invalid(`messages[${i}].content[${j}]`, "only text parts ({\"type\": \"text\", \"text\": …}) are supported here");
    }).join("");
  }
  throw invalid(`messages[${i}].content`, "must be a string or an array of text parts");
}

export function parseChatRequest(body: unknown, served: readonly string[], defaultMaxTokens = 64): ChatRequest {
  if (!isRecord(body)) throw new OpenAiError(400, "the body must be a JSON object");
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid("messages", "a non-empty array of {role, content} is required", "missing_required_parameter");
  const messages = body.messages.map((m, i) => {
    if (!isRecord(m) || typeof m.role !== "string") throw invalid(`messages[${i}]`, "must be an object with a role");
    if (!ROLES.includes(m.role)) throw invalid(`messages[${i}].role`, `${JSON.stringify(m.role)} is not one of ${ROLES.join(", ")}`);
    return { role: m.role, content: textOf(m.content, i) };
  });
  return { ...generation(body, served, defaultMaxTokens), messages };
}

export function parseCompletionRequest(body: unknown, served: readonly string[], defaultMaxTokens = 16): CompletionRequest {
  if (!isRecord(body)) throw new OpenAiError(400, "the body must be a JSON object");
  const p = body.prompt;
  const prompts = typeof p === "string" ? [p] : p;
  if (!Array.isArray(prompts) || prompts.length === 0 || !prompts.every((x) => typeof x === "string")) {
    throw invalid("prompt", "a string or a non-empty array of strings is required", "missing_required_parameter");
  }
  const params = generation(body, served, defaultMaxTokens);
  if (params.stream && prompts.length > 1) throw invalid("prompt", "streaming takes one prompt");
  return { ...params, prompts: prompts as string[] };
}

export function parseEmbeddingRequest(body: unknown, served: readonly string[], maxInputs = 256): EmbeddingRequest {
  if (!isRecord(body)) throw new OpenAiError(400, "the body must be a JSON object");
  const raw = body.input;
  const inputs = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalid("input", "a string or a non-empty array of strings is required", "missing_required_parameter");
  if (!inputs.every((x) => typeof x === "string")) throw invalid("input", "token arrays are not supported here; send text");
  if (inputs.length > maxInputs) throw invalid("input", `${inputs.length} inputs; at most ${maxInputs} per request`);
  const encoding = body.encoding_format ?? "float";
  if (encoding !== "float" && encoding !== "base64") throw invalid("encoding_format", `${JSON.stringify(encoding)} is not one of float, base64`);
  if (body.dimensions !== undefined && body.dimensions !== null) throw invalid("dimensions", "this model has a fixed size; leave dimensions out");
  return { model: model(body, served), inputs: inputs as string[], encoding };
}

/** The stand-in's answer to a prompt: a fixed sentence about the prompt, as word pieces ("tokens"). */
export function standInPieces(prompt: string): string[] {
  const words = prompt.trim().split(/\s+/).filter((w) => w !== "");
  const tail = words.slice(-6).join(" ");
  const text = `Stand-in reply (a deterministic stand-in, not a language model): your message has ${words.length} word${words.length === 1 ? "" : "s"}` +
    (tail !== "" ? ` and ends with "${tail}".` : ".");
  return text.split(/(?=\s)/);
}

/** Pieces cut at `maxTokens` or before the first stop string; with the finish reason. */
export function generate(prompt: string, maxTokens: number, stop: readonly string[]): { pieces: string[]; finishReason: "stop" | "length" } {
  const all = standInPieces(prompt);
  let pieces = all.slice(0, maxTokens);
  let finishReason: "stop" | "length" = pieces.length < all.length ? "length" : "stop";
  const text = pieces.join("");
  const cut = Math.min(...stop.map((s) => text.indexOf(s)).filter((i) => i >= 0));
  if (Number.isFinite(cut)) {
    const kept: string[] = [];
    let len = 0;
    for (const p of pieces) {
      if (len + p.length > cut) {
        if (cut > len) kept.push(p.slice(0, cut - len));
        break;
      }
      kept.push(p);
      len += p.length;
    }
    pieces = kept;
    finishReason = "stop";
  }
  return { pieces, finishReason };
}

/** The prompt the stand-in answers for a chat: the messages as "role: content" lines. */
export function chatPrompt(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.content}`).join("\n");
}

/** Float32 little-endian bytes, base64 (OpenAI's `encoding_format: "base64"`). */
export function base64Embedding(vector: readonly number[]): string {
  return Buffer.from(Float32Array.from(vector).buffer).toString("base64");
}
