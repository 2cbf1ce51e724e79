/**
 * The config on disk follows every runtime change: a reload or restart the agent did not start (SIGUSR2 to the
 * master, a container restart) comes up with the pods in their slots. Real HAProxy; the agent's loop is stopped
 * first, so nothing re-applies the state afterwards.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseInfoPid } from "../../controller/src/gateway/runtime-api.ts";
import { call, endpoint, startGateway, type Gateway } from "./harness.ts";

const PATH = "/serving-endpoints/iris/invocations";

describe("runtime state survives a reload or restart the agent did not start (real HAProxy)", () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("iris", { targetConcurrency: 3 })] });
    await gw.addPod("iris");
    await gw.addPod("iris");
    await gw.agent.cycle();
    gw.source.setTargetConcurrency("iris", 5);
    await gw.agent.cycle();
    await gw.agent.stop();
  });
  after(async () => gw.stop());

  const serveAll = async (): Promise<number[]> => Promise.all(Array.from({ length: 20 }, async () => (await call(gw.publicPort, PATH, { keepAlive: false })).status));

  it("SIGUSR2 to the master: the new worker serves every request, with the live maxconn", async () => {
    const old = parseInfoPid(await gw.api.send("show info"));
    process.kill(gw.haproxy.masterPid!, "SIGUSR2");
    await gw.haproxy.waitForWorker(old);
    assert.deepEqual(await serveAll(), Array(20).fill(200));
    const stat = await gw.api.send("show stat -1 4 -1 typed");
    assert.equal((stat.match(/\.slim\.\d+:[^:]*:[^:]*:5$/gm) ?? []).length, 2, "both pods at the live maxconn 5");
  });

  it("a restart from the file on disk: every request is served", async () => {
    await gw.haproxy.stop();
    await gw.haproxy.start();
    assert.deepEqual(await serveAll(), Array(20).fill(200));
  });
});
