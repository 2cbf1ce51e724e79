/**
 * Bad input on raw sockets: each case gets the right 4xx, and the gateway keeps serving a valid request.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { API_KEY, call, endpoint, startGateway, type Gateway } from "./harness.ts";

/** Writes `parts` (with `gapMs` between them) on a fresh connection; resolves with everything read until close. */
function raw(port: number, parts: Array<string | Buffer>, gapMs = 0, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    }, timeoutMs);
    s.on("data", (c: Buffer) => {
      chunks.push(c);
      // Resolve as soon as one complete response is in (keep-alive connections stay open).
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && len && text.length >= end + 4 + Number(len[1])) s.destroy();
    });
    s.on("error", (e) => {
      // A reset after the answer was read is fine (HAProxy closes while we still write).
      if (chunks.length > 0) return;
      clearTimeout(timer);
      reject(e);
    });
    s.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    s.on("connect", async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        s.write(p);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
const PATH = "/serving-endpoints/iris/invocations";
const head = (extra: string, body = "", method = "POST"): string =>
  `${method} ${PATH} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${API_KEY}\r\ncontent-type: application/json\r\n${extra}\r\n${body}`;

describe("bad input gets the right 4xx and leaves the gateway serving (real HAProxy)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("iris", { maxBodyBytes: 100_000 })], settings: { clientRequestTimeoutMs: 500 } });
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  const body = JSON.stringify({ inputs: [[1, 2]] });
  // Errors raised by HAProxy 2.6's H1 parser before a request exists (bad request line or headers, header
  // timeout) carry HAProxy's built-in HTML body: neither errorfile nor http-error applies there (checked).
  const cases: Array<{ name: string; parts: () => Array<string | Buffer>; gapMs?: number; status: number; json?: string }> = [
    { name: "malformed request line → 400", parts: () => ["GARBAGE \x01\x02 NOT-HTTP\r\n\r\n"], status: 400 },
    { name: "malformed header → 400", parts: () => [`POST ${PATH} HTTP/1.1\r\nhost: x\r\nbad header line\r\n\r\n`], status: 400 },
    { name: "huge headers (64 KiB) → 400", parts: () => [head(`x-big: ${"a".repeat(65536)}\r\ncontent-length: ${body.length}\r\n`, body)], status: 400 },
    {
      name: "oversized body (declared 10 MB) → 413 before any byte of it is read",
      parts: () => [head(`content-length: 10000000\r\n`), Buffer.alloc(65536, 97)],
      status: 413,
      json: "PAYLOAD_TOO_LARGE",
    },
    { name: "chunked body without length → 411", parts: () => [head(`transfer-encoding: chunked\r\n`, `5\r\nhello\r\n0\r\n\r\n`)], status: 411, json: "LENGTH_REQUIRED" },
    { name: "slow client (headers trickle past the request timeout) → 408", parts: () => [`POST ${PATH} HTTP/1.1\r\n`, "host: x\r\n", "x-a: 1\r\n", "x-b: 2\r\n"], gapMs: 300, status: 408 },
    {
      name: "slow uploader (body stalls) → 408",
      parts: () => [head(`content-length: 100\r\n`, "{"), "  "],
      gapMs: 800,
      status: 408,
      json: "REQUEST_TIMEOUT",
    },
    { name: "unknown method → 405", parts: () => [head(`content-length: 0\r\n`, "", "FROB")], status: 405, json: "METHOD_NOT_ALLOWED" },
    { name: "wrong content type → 415 (from the model server, passed through)", parts: () => [head(`content-type: text/xml\r\ncontent-length: 4\r\n`, "<x/>").replace("content-type: application/json\r\n", "")], status: 415, json: "UNSUPPORTED_MEDIA_TYPE" },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const answer = await raw(gw.publicPort, c.parts(), c.gapMs ?? 0);
      assert.equal(statusOf(answer), c.status, answer.slice(0, 300));
      if (c.json !== undefined) {
        const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
        assert.equal(json.error_code, c.json);
      }
      const ok = await call(gw.publicPort, PATH);
      assert.equal(ok.status, 200, "the gateway still serves valid requests");
    });
  }

  it("keeps serving while 50 slow clients hold connections open", async () => {
    const slow = Array.from({ length: 50 }, () => raw(gw.publicPort, [`POST ${PATH} HTTP/1.1\r\n`, "host: x\r\n"], 400, 3000));
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => call(gw.publicPort, PATH)));
    assert.ok(results.every((r) => r.status === 200));
    assert.ok(performance.now() - t0 < 1000, "valid requests are not delayed by the slow clients");
    const answers = await Promise.all(slow);
    assert.ok(answers.every((a) => statusOf(a) === 408), answers.map(statusOf).join(","));
  });
});
