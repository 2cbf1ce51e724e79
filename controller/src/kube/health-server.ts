/**
 * HTTP server for probes and metrics: `/healthz` (the process and its loop are alive), `/readyz` (caches synced;
 * leadership is not required, a standby is ready), `/metrics` (prom-client), plus any extra GET routes the
 * caller adds (the gateway agent serves `/stats`, HAProxy's backend CSV, for the controller's scrape).
 */
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HealthChecks {
  /** Undefined when healthy, else why not. */
  healthy(): string | undefined;
  ready(): string | undefined;
}

/** What an extra route answers. */
export interface RouteAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** An extra route: path (without query) → handler. A handler that throws answers 500 with the error. */
export type Routes = Readonly<Record<string, () => Promise<RouteAnswer>>>;

export async function startHealthServer(port: number, checks: HealthChecks, registry: Registry, routes: Routes = {}): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const answer = (problem: string | undefined): void => {
      res.writeHead(problem === undefined ? 200 : 503, { "content-type": "text/plain" });
      res.end(problem ?? "ok");
    };
    const fail = (err: unknown): void => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err));
    };
    if (path === "/healthz") return answer(checks.healthy());
    if (path === "/readyz") return answer(checks.ready());
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        fail,
      );
      return;
    }
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route !== undefined) {
      route().then((a) => {
        res.writeHead(a.status, { "content-type": a.contentType });
        res.end(a.body);
      }, fail);
      return;
    }
    res.writeHead(404);
    res.end("not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr !== null ? addr.port : port };
}
