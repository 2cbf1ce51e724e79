/**
 * Slow uploads and one greedy key, on real HAProxy: a request takes a pod slot only once its body is in (a
 * trickling uploader gets 408 at the body deadline and never holds a slot), and one API key cannot take more
 * than its in-flight cap (429 at once) while other keys are served. Bounded: a few connections, short deadlines.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { call, endpoint, hookBody, startGateway, type Gateway } from "./harness.ts";

const ATTACKER = "test-key-attacker";
const NORMAL = "test-key-normal";
const UPLOADER = "test-key-uploader";
const PATH = "/serving-endpoints/iris/invocations";

/**
 * One upload that sends `firstBytes` of a `contentLength` body at once, then one byte every `gapMs` until the
 * gateway answers or `maxMs` passes. Resolves with the status (0: no answer) and when it came.
 */
function trickle(port: number, contentLength: number, firstBytes: number, gapMs: number, maxMs: number): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect(port, "127.0.0.1");
    let text = "";
    let timer: NodeJS.Timeout | undefined;
    const done = (status: number): void => {
      clearInterval(timer);
      s.destroy();
      resolve({ status, ms: performance.now() - t0 });
    };
    const giveUp = setTimeout(() => done(0), maxMs);
    s.on("connect", () => {
      s.write(`POST ${PATH} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${UPLOADER}\r\ncontent-type: application/json\r\ncontent-length: ${contentLength}\r\n\r\n`);
      s.write(Buffer.alloc(firstBytes, 32));
      timer = setInterval(() => { if (!s.destroyed) s.write(" "); }, gapMs);
    });
    s.on("data", (c: Buffer) => {
      text += c.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        clearTimeout(giveUp);
        done(Number(m[1]));
      }
    });
    s.on("error", () => undefined);
  });
}

describe("slow uploads hold no pod slot; a key's in-flight is capped (real HAProxy)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({
      endpoints: [endpoint("iris", { targetConcurrency: 2, queueTimeoutMs: 800, maxBodyBytes: 100_000 })],
      apiKeys: [
        { id: "k-attacker", sha256: hashApiKey(ATTACKER), endpoints: ["iris"], maxInFlight: 3 },
        { id: "k-normal", sha256: hashApiKey(NORMAL), endpoints: ["iris"] },
        { id: "k-uploader", sha256: hashApiKey(UPLOADER), endpoints: ["iris"] },
      ],
      settings: { clientRequestTimeoutMs: 1200, keyMaxInFlight: 16 },
    });
    await gw.addPod("iris");
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  it("6 uploads trickling after 20 KB get 408 at the body deadline, while every normal request is served", async () => {
    // 4 pod slots (2 pods × 2); 6 tricklers (within their key's cap of 16) would hold them all if a partly
    // received body took a slot, and the normal requests would wait out the queue timeout (429).
    const slow = Array.from({ length: 6 }, () => trickle(gw.publicPort, 30_000, 20_000, 200, 4000));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const normal = await Promise.all(Array.from({ length: 8 }, () => call(gw.publicPort, PATH, { key: NORMAL, body: hookBody({ sleep_ms: 50 }) })));
    assert.deepEqual(normal.map((r) => r.status), Array(8).fill(200), normal.map((r) => r.body.slice(0, 120)).join("\n"));
    assert.ok(performance.now() - t0 < 700, `normal requests were not held behind the uploads (${(performance.now() - t0).toFixed(0)} ms)`);
    const answers = await Promise.all(slow);
    for (const a of answers) {
      assert.equal(a.status, 408, JSON.stringify(answers));
      assert.ok(a.ms > 1000 && a.ms < 2500, `408 at the body deadline (${a.ms.toFixed(0)} ms)`);
    }
  });

  it("an oversized declared body gets 413 at once, not after the body deadline", async () => {
    const r = await trickle(gw.publicPort, 10_000_000, 1000, 200, 3000);
    assert.equal(r.status, 413);
    assert.ok(r.ms < 500, `413 at once (${r.ms.toFixed(0)} ms; the body deadline is 1200 ms)`);
  });

  it("a key over its in-flight cap gets 429 at once; another key is served meanwhile", async () => {
    const burst = Array.from({ length: 6 }, () => call(gw.publicPort, PATH, { key: ATTACKER, body: hookBody({ sleep_ms: 400 }) }));
    await new Promise((r) => setTimeout(r, 100));
    const other = await call(gw.publicPort, PATH, { key: NORMAL });
    assert.equal(other.status, 200);
    const results = await Promise.all(burst);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    const rejected = results.filter((r) => r.status === 429);
    for (const r of rejected) {
      assert.ok(r.ms < 300, `429 at once (${r.ms.toFixed(0)} ms)`);
      assert.equal(JSON.parse(r.body).error_code, "REQUEST_LIMIT_EXCEEDED");
      assert.match(JSON.parse(r.body).message, /k-attacker .*limit 3/);
      assert.equal(r.headers["retry-after"], "1");
    }
  });
});
