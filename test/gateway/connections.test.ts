/**
 * Connection exhaustion, on real HAProxy: one client address cannot hold more than its share of connections, nor
 * open them faster than its rate (a new one is closed at once); another client is served meanwhile. Bounded: a
 * few dozen connections from 127.0.0.2 and 127.0.0.3 (loopback addresses), short deadlines.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { call, endpoint, startGateway, type Gateway } from "./harness.ts";

/** Opens a connection from `localAddress`; resolves with the socket and whether the server closed it within `ms`. */
function idle(port: number, localAddress: string, ms: number): Promise<{ socket: Socket; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    let closed = false;
    socket.on("error", () => undefined);
    // A refused connection can be reset before 'connect' is seen: then it ends here.
    socket.on("close", () => (closed = true));
    setTimeout(() => resolve({ socket, closed }), ms);
  });
}

/** One `GET /health` on a fresh connection from `localAddress`: the status, or 0 when the connection is closed unanswered. */
function health(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1", localAddress });
    let text = "";
    s.on("error", () => undefined);
    s.on("connect", () => s.write("GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"));
    s.on("data", (c: Buffer) => (text += c.toString("latin1")));
    s.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

describe("per-source connection limits (real HAProxy)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("iris")], settings: { clientRequestTimeoutMs: 3000, maxConnections: 500, perSource: { maxConnections: 20, connectionsPer10s: 40 } } });
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  it("a client holding 30 idle connections keeps 20; the other 10 are closed at once; another client is served", async () => {
    const held = await Promise.all(Array.from({ length: 30 }, () => idle(gw.publicPort, "127.0.0.2", 300)));
    try {
      assert.equal(held.filter((h) => h.closed).length, 10, `closed: ${held.filter((h) => h.closed).length}`);
      const r = await call(gw.publicPort, "/serving-endpoints/iris/invocations", { keepAlive: false });
      assert.equal(r.status, 200);
      assert.ok(r.ms < 500, `served at once (${r.ms.toFixed(0)} ms)`);
    } finally {
      for (const h of held) h.socket.destroy();
    }
  });

  it("a client opening connections faster than 40 per 10 s is refused past the rate; another client is served", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push(await health(gw.publicPort, "127.0.0.3"));
    const served = statuses.filter((s) => s === 200).length;
    assert.equal(served, 40, statuses.join(","));
    assert.equal(await health(gw.publicPort, "127.0.0.1"), 200);
  });

  it("renders a global maxconn (and HAProxy starts with it)", async () => {
    assert.match((await gw.api.send("show info")).toString(), /^Maxconn: 500$/m);
  });
});
