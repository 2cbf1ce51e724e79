/**
 * The MLflow scoring server's HTTP surface over any predictor: `GET /ping` and `GET /health` (200 once the model
 * is ready, 503 before), `GET /version`, `POST /invocations` (JSON or CSV; `{"predictions": …}`; errors
 * `{"error_code", "message"}` with 400, 404, 405, 413, 415, 500 or 502). The ONNX server and the Triton adapter
 * are this server with different predictors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ScoringError } from "./errors.ts";
import { contentKind, parseScoringRequest, type ScoringInput } from "./scoring-input.ts";
import type { Schema } from "./signature.ts";

/** What the scoring server needs from a model runtime. */
export interface Predictor {
  /** The signature's input schema, when the model has one: it drives request parsing. */
  readonly inputSchema: Schema | undefined;
  /** The `predictions` value for a parsed request. */
  predict(input: ScoringInput): Promise<unknown>;
  /** True when a request would be served now. */
  ready(): Promise<boolean>;
  /** The `/version` answer. */
  readonly version: string;
}

export interface ScoringServerOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** 0 = any free port. @default 0 */
  readonly port?: number;
  /** Largest accepted body. @default 16 MiB (the gateway's default limit) */
  readonly maxBodyBytes?: number;
}

export interface RunningScoringServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        reject(new ScoringError(413, "PAYLOAD_TOO_LARGE", `request body is over ${maxBytes} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Answers one request; exported for servers that add routes of their own. */
export async function handleScoring(predictor: Predictor, req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method === "GET" && (path === "/ping" || path === "/health")) {
    return send(res, (await predictor.ready()) ? 200 : 503, "\n");
  }
  if (req.method === "GET" && path === "/version") return send(res, 200, predictor.version);
  if (path !== "/invocations") return send(res, 404, { error_code: "ENDPOINT_NOT_FOUND", message: `no route ${path}; POST /invocations, GET /ping` });
  if (req.method !== "POST") return send(res, 405, { error_code: "METHOD_NOT_ALLOWED", message: `method ${req.method} is not allowed on /invocations; use POST` });
  try {
    const kind = contentKind(req.headers["content-type"]);
    const text = await readBody(req, maxBodyBytes);
    const input = parseScoringRequest(text, kind, predictor.inputSchema);
    send(res, 200, { predictions: await predictor.predict(input) });
  } catch (e) {
    if (res.headersSent) return;
    if (e instanceof ScoringError) return send(res, e.status, { error_code: e.errorCode, message: e.message });
    // Never an exception's text to the caller for an unexpected failure: it goes to the server's log.
    process.stderr.write(`scoring-server: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    send(res, 500, { error_code: "INTERNAL_ERROR", message: "the model server failed on this request; its log has the details" });
  }
}

/** Starts a scoring server for `predictor`; resolves once it listens. */
export async function startScoringServer(predictor: Predictor, opts: ScoringServerOptions = {}): Promise<RunningScoringServer> {
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const server = createServer((req, res) => void handleScoring(predictor, req, res, maxBody));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
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
