/**
 * The example model server: speaks the MLflow scoring protocol (`GET /ping`, `GET /health`, `GET /version`,
 * `POST /invocations`) and burns a configurable amount of real CPU per request, so the local loop sees real CPU
 * use and real queueing (Node runs one request's CPU work at a time per process, like a 1-worker server).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkContentType, parseCsvBody, parseJsonBody, predict, ScoringError } from "./scoring.ts";

export interface ModelServerOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** 0 = any free port. @default 0 */
  readonly port?: number;
  /** CPU time burnt per request, ms. @default 5 */
  readonly cpuMs?: number;
  /** Wait per request without CPU (an I/O-bound or remote-accelerator model), ms. @default 0 */
  readonly sleepMs?: number;
  /** Extra CPU time per input row, ms. @default 0 */
  readonly cpuMsPerRow?: number;
  /** Largest accepted body. @default 16 MiB */
  readonly maxBodyBytes?: number;
  /**
   * Test hooks: honour `params.sleep_ms` (wait without CPU), `params.status` (answer with that status) and
   * `params.echo` (add the request path and headers to the answer).
   * Off by default; the tests and the local loop's fault demos turn it on. @default false
   */
  readonly testHooks?: boolean;
}

export interface RunningModelServer {
  readonly port: number;
  readonly server: Server;
  /** Requests being processed now. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Busy-waits for `ms` of wall time (this process is otherwise idle, so ≈ CPU time). */
export function burnCpu(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  }
  return x;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain" : "application/json",
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
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts the example model server; resolves once it listens. */
export async function startModelServer(opts: ModelServerOptions = {}): Promise<RunningModelServer> {
  const cpuMs = opts.cpuMs ?? 5;
  const cpuMsPerRow = opts.cpuMsPerRow ?? 0;
  const fixedSleepMs = opts.sleepMs ?? 0;
  const maxBody = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  let inFlight = 0;

  const invocations = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const kind = checkContentType(req.headers["content-type"]);
    const text = await readBody(req, maxBody);
    const parsed = kind === "json" ? parseJsonBody(text) : parseCsvBody(text);
    if (opts.testHooks) {
      const sleepMs = Number(parsed.params.sleep_ms ?? 0);
      if (sleepMs > 0) await new Promise((r) => setTimeout(r, Math.min(sleepMs, 600_000)));
      const status = Number(parsed.params.status ?? 0);
      if (status >= 400 && status <= 599) {
        send(res, status, { error_code: "MODEL_ERROR", message: `model answered ${status} as asked by params.status` });
        return;
      }
    }
    if (fixedSleepMs > 0) await new Promise((r) => setTimeout(r, fixedSleepMs));
    burnCpu(cpuMs + cpuMsPerRow * parsed.rows.length);
    if (opts.testHooks && parsed.params.echo === true) {
      send(res, 200, { predictions: predict(parsed.rows), path: req.url, headers: req.headers });
      return;
    }
    send(res, 200, { predictions: predict(parsed.rows) });
  };

  const server = createServer((req, res) => {
    inFlight++;
    res.on("close", () => inFlight--);
    const path = (req.url ?? "/").split("?")[0];
    const route = `${req.method} ${path}`;
    if (route === "GET /ping" || route === "GET /health") return send(res, 200, "\n");
    if (route === "GET /version") return send(res, 200, "autopilot-example-model 0.1.0");
    if (path !== "/invocations") return send(res, 404, { error_code: "ENDPOINT_NOT_FOUND", message: `no route ${path}` });
    if (req.method !== "POST") return send(res, 405, { error_code: "METHOD_NOT_ALLOWED", message: "use POST" });
    invocations(req, res).catch((e: unknown) => {
      if (res.headersSent) return;
      if (e instanceof ScoringError) send(res, e.status, { error_code: e.errorCode, message: e.message });
      else {
        // The exception's text goes to the log, not to the caller.
        process.stderr.write(`model-server: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
        send(res, 500, { error_code: "INTERNAL_ERROR", message: "the model server failed on this request; its log has the details" });
      }
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
