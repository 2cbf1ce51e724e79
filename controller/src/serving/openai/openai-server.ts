/**
 * An OpenAI-compatible server with vLLM's routes, for the local `chat` endpoint: `POST /v1/chat/completions`
 * (with `stream: true` as server-sent events), `POST /v1/completions`, `POST /v1/embeddings`, `GET /v1/models`,
 * `POST /invocations` (vLLM's route that dispatches on the body: `messages` → chat, `prompt` → completions,
 * `input` → embeddings), `GET /health`, `GET /ping`. Errors are OpenAI-shaped.
 *
 * Embeddings come from a real model (all-MiniLM-L6-v2, embedder.ts). Chat and completions come from a
 * DETERMINISTIC STAND-IN (protocol.ts), not a language model, emitted one word piece every `tokenMs`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseJsonRequest, ScoringError } from "../errors.ts";
import type { Embedder } from "./embedder.ts";
import {
  base64Embedding, generate, OpenAiError, parseChatRequest, parseCompletionRequest, parseEmbeddingRequest,
  type ChatRequest, type CompletionRequest,
} from "./protocol.ts";

export interface OpenAiServerOptions {
  /** The served model name (vLLM's --served-model-name): the endpoint's name. */
  readonly modelName: string;
  /** Real embeddings; without one, /v1/embeddings answers 404 as a generation-only vLLM does. */
  readonly embedder?: Embedder;
  /** Wait per generated piece, ms (a model's inter-token latency). @default 10 */
  readonly tokenMs?: number;
  readonly host?: string;
  readonly port?: number;
  /** @default 4 MiB */
  readonly maxBodyBytes?: number;
}

export interface RunningOpenAiServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new OpenAiError(413, `request body is over ${maxBytes} bytes`, { code: "payload_too_large" }));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startOpenAiServer(o: OpenAiServerOptions): Promise<RunningOpenAiServer> {
  const tokenMs = o.tokenMs ?? 10;
  const served = [o.modelName, ...(o.embedder !== undefined ? [o.embedder.model] : [])];
  const created = Math.floor(Date.now() / 1000);
  let seq = 0;
  const id = (prefix: string): string => `${prefix}-${process.pid}-${++seq}`;
  const countTokens = (text: string): number => o.embedder?.countTokens(text) ?? text.split(/\s+/).filter((w) => w !== "").length;

  async function chat(r: ChatRequest, res: ServerResponse): Promise<void> {
    const lastUser = [...r.messages].reverse().find((m) => m.role === "user")?.content ?? "";
    const { pieces, finishReason } = generate(lastUser, r.maxTokens, r.stop);
    const promptTokens = r.messages.reduce((a, m) => a + countTokens(m.content), 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: pieces.length, total_tokens: promptTokens + pieces.length };
    const base = { id: id("chatcmpl"), created, model: r.model };
    if (!r.stream) {
      await sleep(tokenMs * pieces.length);
      return sendJson(res, 200, { ...base, object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: pieces.join("") }, finish_reason: finishReason, logprobs: null }], usage });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
      res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, ...extra })}\n\n`);
    };
    chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }]);
    for (const p of pieces) {
      await sleep(tokenMs);
      if (res.destroyed) return;
      chunk([{ index: 0, delta: { content: p }, finish_reason: null, logprobs: null }]);
    }
    chunk([{ index: 0, delta: {}, finish_reason: finishReason, logprobs: null }]);
    if (r.includeUsage) chunk([], { usage });
    res.end("data: [DONE]\n\n");
  }

  async function completion(r: CompletionRequest, res: ServerResponse): Promise<void> {
    const results = r.prompts.map((p) => generate(p, r.maxTokens, r.stop));
    const promptTokens = r.prompts.reduce((a, p) => a + countTokens(p), 0);
    const completionTokens = results.reduce((a, x) => a + x.pieces.length, 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const base = { id: id("cmpl"), created, model: r.model, object: "text_completion" };
    if (!r.stream) {
      await sleep(tokenMs * Math.max(...results.map((x) => x.pieces.length)));
      return sendJson(res, 200, { ...base, choices: results.map((x, index) => ({ index, text: x.pieces.join(""), finish_reason: x.finishReason, logprobs: null })), usage });
    }
    const only = results[0] as (typeof results)[number];
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    for (const p of only.pieces) {
      await sleep(tokenMs);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, text: p, finish_reason: null, logprobs: null }] })}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, text: "", finish_reason: only.finishReason, logprobs: null }] })}\n\n`);
    if (r.includeUsage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
    res.end("data: [DONE]\n\n");
  }

  async function embeddings(body: unknown, res: ServerResponse): Promise<void> {
    if (o.embedder === undefined) throw new OpenAiError(404, `model ${o.modelName} does not serve embeddings`, { code: "model_not_found" });
    const r = parseEmbeddingRequest(body, served);
    const { vectors, tokens } = await o.embedder.embed(r.inputs);
    sendJson(res, 200, {
      object: "list", model: r.model,
      data: vectors.map((v, index) => ({ object: "embedding", index, embedding: r.encoding === "base64" ? base64Embedding(v) : v })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && (path === "/health" || path === "/ping")) return sendJson(res, 200, {});
    if (req.method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, { object: "list", data: served.map((m) => ({ id: m, object: "model", created, owned_by: "autopilot-serving" })) });
    }
    const routes = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/invocations"];
    if (!routes.includes(path ?? "")) throw new OpenAiError(404, `no route ${req.method} ${path}; routes: GET /v1/models, POST ${routes.join(", ")}`, { code: "not_found" });
    if (req.method !== "POST") throw new OpenAiError(405, `method ${req.method} is not allowed on ${path}; use POST`, { code: "method_not_allowed" });
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") throw new OpenAiError(415, `content type ${JSON.stringify(req.headers["content-type"] ?? "")} is not supported; send application/json`, { code: "unsupported_media_type" });
    let body: unknown;
    try {
      body = parseJsonRequest(await readBody(req, o.maxBodyBytes ?? 4 * 1024 * 1024));
    } catch (e) {
      if (e instanceof ScoringError) throw new OpenAiError(e.status, e.message, { code: "invalid_json" });
      throw e;
    }
    let route = path;
    if (path === "/invocations") {
      const b = body as Record<string, unknown> | null;
      route = b !== null && typeof b === "object" && "messages" in b ? "/v1/chat/completions"
        : b !== null && typeof b === "object" && "prompt" in b ? "/v1/completions"
        : b !== null && typeof b === "object" && "input" in b ? "/v1/embeddings" : undefined;
      if (route === undefined) throw new OpenAiError(400, "an LLM endpoint's /invocations takes an OpenAI body: messages (chat), prompt (completions) or input (embeddings)", { param: "messages" });
    }
    if (route === "/v1/chat/completions") return chat(parseChatRequest(body, [o.modelName]), res);
    if (route === "/v1/completions") return completion(parseCompletionRequest(body, [o.modelName]), res);
    return embeddings(body, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof OpenAiError) return sendJson(res, e.status, e.body());
      process.stderr.write(`openai-server: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
      sendJson(res, 500, new OpenAiError(500, "the model server failed on this request; its log has the details").body());
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
