/**
 * The gateway's TLS front, run for real: Debian's HAProxy with the rendered `haproxy-config` ConfigMap (ports
 * and paths moved to a temp dir and free loopback ports), a stand-in agent (a Node HTTP server, a TEST DOUBLE
 * of the agent's HAProxy) behind it, and HTTPS requests from this test. Bounded: 127.0.0.1 only, a few
 * requests, HAProxy killed in teardown.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { request } from "node:https";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { GATEWAY_PATHS, GATEWAY_PORTS, tlsProxyConfig } from "../../components/gateway/gateway-spec.ts";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = netServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function get(port: number, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/serving-endpoints/x/invocations", method: "GET", headers, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("gateway TLS front (real HAProxy on loopback)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "infra-tls-"));
  let haproxy: ChildProcess | undefined;
  let agent: Server | undefined;
  let httpsPort = 0;

  before(async () => {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=gateway.test",
      "-keyout", path.join(dir, "gateway.pem.key"), "-out", path.join(dir, "gateway.pem")], { stdio: "ignore" });
    const agentPort = await freePort();
    httpsPort = await freePort();
    agent = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ reached: "agent", forwardedFor: req.headers["x-forwarded-for"] ?? null }));
    });
    await new Promise<void>((r) => agent!.listen(agentPort, "127.0.0.1", r));
    const cfg = tlsProxyConfig()
      .replaceAll(GATEWAY_PATHS.tlsDir, dir).replaceAll(GATEWAY_PATHS.tlsRunDir, dir)
      .replace(`0.0.0.0:${GATEWAY_PORTS.https}`, `127.0.0.1:${httpsPort}`)
      .replace(`127.0.0.1:${GATEWAY_PORTS.agentHttp}`, `127.0.0.1:${agentPort}`);
    writeFileSync(path.join(dir, "tls.cfg"), cfg);
    haproxy = spawn("haproxy", ["-db", "-f", path.join(dir, "tls.cfg")], { stdio: "ignore" });
    for (let i = 0; i < 50; i++) {
      try {
        await get(httpsPort, {});
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error("HAProxy did not start");
  });

  after(async () => {
    haproxy?.kill("SIGKILL");
    await new Promise<void>((r) => (agent ? agent.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const UNAUTHENTICATED = { error_code: "UNAUTHENTICATED", message: "missing credentials; send Authorization: Bearer with an API key or token" };
  const cases: { name: string; headers: Record<string, string> }[] = [
    { name: "no Authorization header", headers: {} },
    { name: "Basic instead of Bearer", headers: { authorization: "Basic dXNlcjpwYXNz" } },
  ];
  for (const c of cases) {
    it(`answers 401 JSON, before the agent sees the request: ${c.name}`, async () => {
      const res = await get(httpsPort, c.headers);
      assert.equal(res.status, 401);
      assert.deepEqual(JSON.parse(res.body), UNAUTHENTICATED);
      assert.equal(res.headers["www-authenticate"], "Bearer");
    });
  }

  it("terminates TLS and passes authenticated requests to the agent", async () => {
    const res = await get(httpsPort, { authorization: "Bearer test-key" });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { reached: "agent", forwardedFor: "127.0.0.1" });
  });

  it("replaces a client's own X-Forwarded-For with its address (no spoofed hop reaches the agent)", async () => {
    const res = await get(httpsPort, { authorization: "Bearer test-key", "x-forwarded-for": "6.6.6.6" });
    assert.deepEqual(JSON.parse(res.body), { reached: "agent", forwardedFor: "127.0.0.1" });
  });
});
