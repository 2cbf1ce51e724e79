/**
 * Smaller holes, each on real HAProxy: endpoint names cannot be enumerated without credentials, cookies and proxy
 * credentials do not reach the pod, HTTP/1.1 without Host and an unknown Expect are refused before any pod.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { API_KEY, call, endpoint, hookBody, startGateway, type Gateway } from "./harness.ts";

/** One raw request on a fresh connection; resolves with the status line's code (0 when none came) and the text. */
function rawText(port: number, text: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let got = "";
    const done = (): void => {
      s.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0), text: got });
    };
    const timer = setTimeout(done, 3000);
    s.on("connect", () => s.write(text));
    s.on("data", (c: Buffer) => {
      got += c.toString("latin1");
      if (/^HTTP\/1\.[01] \d{3}[^]*\r\n\r\n/.test(got) && (/\r\ncontent-length: *0\r\n/i.test(got) || /\}\s*$/.test(got))) {
        clearTimeout(timer);
        done();
      }
    });
    s.on("error", () => undefined);
  });
}

const raw = async (port: number, text: string): Promise<number> => (await rawText(port, text)).status;
const errorCode = (text: string): string | undefined => {
  try {
    return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)).error_code;
  } catch {
    return undefined;
  }
};

describe("smaller holes (real HAProxy)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("iris")] });
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());
  const P = (ep: string): string => `/serving-endpoints/${ep}/invocations`;

  it("an unknown and a known endpoint answer alike without valid credentials (no enumeration); with a key, 404", async () => {
    for (const key of [null, "not-a-key", "aaa.bbb.ccc"]) {
      const known = await call(gw.publicPort, P("iris"), { key });
      const unknown = await call(gw.publicPort, P("nosuch"), { key });
      assert.equal(unknown.status, 401, `${key}: ${unknown.body}`);
      assert.equal(known.status, 401);
      assert.equal(JSON.parse(unknown.body).message, JSON.parse(known.body).message);
    }
    assert.equal((await call(gw.publicPort, "/whatever", { key: null })).status, 401, "unknown paths too");
    assert.equal((await call(gw.publicPort, P("nosuch"))).status, 404);
  });

  it("an absolute-form target is routed like its path, and the pod gets origin-form", async () => {
    const body = hookBody({ echo: true });
    const r = await rawText(gw.publicPort, `POST http://x/serving-endpoints/iris/invocations HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${API_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(JSON.parse(r.text.slice(r.text.indexOf("\r\n\r\n") + 4)).path, "/invocations");
  });

  it("Cookie and Proxy-Authorization are removed before the pod", async () => {
    const r = await call(gw.publicPort, P("iris"), { body: hookBody({ echo: true }), headers: { cookie: "session=secret", "proxy-authorization": "Basic eDp5" } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body).headers;
    assert.equal(seen.cookie, undefined);
    assert.equal(seen["proxy-authorization"], undefined);
  });

  it("HTTP/1.1 without Host → 400; an unknown Expect → 417; a NUL in a header value → 400; Expect: 100-continue still works", async () => {
    const body = JSON.stringify({ inputs: [[1, 2]] });
    const req = (headers: string): string => `POST ${P("iris")} HTTP/1.1\r\n${headers}authorization: Bearer ${API_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const noHost = await rawText(gw.publicPort, req(""));
    assert.equal(noHost.status, 400);
    assert.equal(errorCode(noHost.text), "BAD_REQUEST", "answered by the gateway, not a pod");
    const expect = await rawText(gw.publicPort, req("host: x\r\nexpect: magic\r\n"));
    assert.equal(expect.status, 417);
    assert.equal(errorCode(expect.text), "EXPECTATION_FAILED", "answered by the gateway, not a pod");
    assert.ok([100, 200].includes(await raw(gw.publicPort, req("host: x\r\nexpect: 100-continue\r\n"))));
    assert.equal(await raw(gw.publicPort, req("host: x\r\n")), 200);
    const nul = await rawText(gw.publicPort, req("host: x\r\nx-a: a\u0000b\r\n"));
    assert.equal(nul.status, 400);
    assert.equal(errorCode(nul.text), "BAD_REQUEST", "a NUL byte in a header value stops at the gateway");
  });
});
