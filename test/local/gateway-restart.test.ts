/** The local gateway restarts a HAProxy that died, and the agent puts pods, limits and keys back. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startLocalGateway, type LocalGateway } from "../../controller/src/local/local-gateway.ts";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { startModelServer, type RunningModelServer } from "../../controller/src/model-server/server.ts";
import { call, until } from "../gateway/harness.ts";

describe("local gateway: HAProxy killed", () => {
  let gw: LocalGateway | undefined;
  let model: RunningModelServer | undefined;
  after(async () => {
    await gw?.stop();
    await model?.close();
  });

  it("is restarted and serves again with the pod in its slot", async (t) => {
    const notices: string[] = [];
    gw = await startLocalGateway({
      endpoints: [{ name: "ep", runtime: "mlflow", auth: { apiKeys: true, jwt: false }, targetConcurrency: 3, slots: 2, queueTimeoutMs: 1000, maxQueue: 10, maxBodyBytes: 10_000, modelTimeoutMs: 5000 }],
      apiKeys: [{ id: "k", sha256: hashApiKey("test-key-iris"), endpoints: ["ep"] }],
      agentIntervalMs: 200,
      log: (m) => notices.push(m),
    });
    model = await startModelServer({ cpuMs: 0 });
    gw.source.upsertPod("ep", { id: "a", addr: "127.0.0.1", port: model.port, ready: true, terminating: false });
    const path = "/serving-endpoints/ep/invocations";
    assert.ok(await until(async () => (await call(gw!.settings.publicPort, path, { keepAlive: false })).status === 200, 3000));
    const pid = gw.haproxy.masterPid;
    assert.ok(pid);
    process.kill(pid, "SIGKILL");
    const t0 = Date.now();
    // The old worker may answer for a moment after its master dies, so first wait for the new master.
    assert.ok(
      await until(async () => gw!.haproxy.masterPid !== undefined && gw!.haproxy.masterPid !== pid, 10_000, 50),
      `not restarted: ${notices.join(" | ")}`,
    );
    assert.ok(
      await until(async () => (await call(gw!.settings.publicPort, path, { keepAlive: false }).catch(() => ({ status: 0 }))).status === 200, 10_000, 100),
      `not serving again: ${notices.join(" | ")}`,
    );
    t.diagnostic(`serving again ${Date.now() - t0} ms after SIGKILL of the HAProxy master`);
    assert.notEqual(gw.haproxy.masterPid, pid);
    // The config on disk carries the pod's slot, so the new worker can serve before start() has seen it settle.
    assert.ok(await until(() => notices.some((n) => n.includes("haproxy restarted")), 5000));
  });
});
