/**
 * The plaintext port speaks HTTP/1 only: HTTP/2 with prior knowledge (h2c, no Content-Length needed) would pass
 * the body limit, which is enforced on Content-Length. Real HAProxy; the client is Node's http2.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { API_KEY, endpoint, startGateway, type Gateway } from "./harness.ts";

/** One h2c POST of `bytes`; resolves with the status, or the error code when the session fails. */
function h2post(port: number, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const c = http2.connect(`http://127.0.0.1:${port}`);
    const end = (v: string): void => {
      c.destroy();
      resolve(v);
    };
    c.on("error", (e: NodeJS.ErrnoException) => end(`error ${e.code ?? e.message}`));
    const req = c.request({ ":method": "POST", ":path": "/serving-endpoints/iris/invocations", authorization: `Bearer ${API_KEY}`, "content-type": "application/json" });
    req.on("response", (h) => end(`status ${h[":status"]}`));
    req.on("error", (e: NodeJS.ErrnoException) => end(`error ${e.code ?? e.message}`));
    req.setTimeout(3000, () => end("timeout"));
    req.end(JSON.stringify({ inputs: [[1, 2]], pad: "x".repeat(bytes) }));
  });
}

describe("no h2c on the plaintext port (real HAProxy)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("iris", { maxBodyBytes: 1000 })] });
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  it("a 200 KB body over h2c against a 1 KB limit is not served", async () => {
    const got = await h2post(gw.publicPort, 200_000);
    assert.doesNotMatch(got, /^status 2/, got);
  });
});
