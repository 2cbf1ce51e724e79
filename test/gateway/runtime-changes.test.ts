/**
 * Live changes under load, against real HAProxy driven by the real agent: maxconn changes, slot drains,
 * reloads and HAProxy restarts. Each test is bounded (a few seconds, a few thousand requests).
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { endpoint, hookBody, load, startGateway, until, type Gateway } from "./harness.ts";

const PATH = "/serving-endpoints/ep/invocations";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Samples every pod's in-flight count every 5 ms; returns the max per pod in each phase. */
function sampler(gw: Gateway) {
  const maxes: number[] = gw.models.map(() => 0);
  const timer = setInterval(() => gw.models.forEach((m, i) => (maxes[i] = Math.max(maxes[i] ?? 0, m.inFlight()))), 5);
  return {
    take(): number[] {
      const out = [...maxes];
      maxes.fill(0);
      return out;
    },
    stop: () => clearInterval(timer),
  };
}

describe("live changes under load (real HAProxy)", () => {
  let gw: Gateway | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  it("a live maxconn change moves in-flight per pod to the new limit within 2 s, without errors and without a reload", async (t) => {
    gw = await startGateway({ endpoints: [endpoint("ep", { targetConcurrency: 2, maxQueue: 1000, queueTimeoutMs: 10_000 })] });
    await gw.addPod("ep");
    await gw.addPod("ep");
    await gw.agent.cycle();
    const pid = (await gw.api.send("show info")).match(/Pid: (\d+)/)?.[1];
    const l = load(gw.publicPort, PATH, 16, () => hookBody({ sleep_ms: 50 }));
    const s = sampler(gw);
    await sleep(800);
    assert.deepEqual(s.take(), [2, 2], "per-pod in-flight at target 2");

    const t0 = Date.now();
    gw.source.setTargetConcurrency("ep", 5);
    assert.ok(await until(() => gw!.models.every((m) => m.inFlight() === 5), 2000), "in-flight reached 5 per pod");
    const reachedMs = Date.now() - t0;
    s.take();
    await sleep(800);
    assert.deepEqual(s.take(), [5, 5], "per-pod in-flight at target 5, never above");

    gw.source.setTargetConcurrency("ep", 1);
    await sleep(600); // requests in flight above the new limit finish (50 ms each)
    s.take();
    await sleep(800);
    assert.deepEqual(s.take(), [1, 1], "per-pod in-flight down to target 1");
    s.stop();
    await l.stop();
    assert.deepEqual(l.errors, []);
    assert.deepEqual([...l.statuses.keys()], [200], `statuses ${JSON.stringify([...l.statuses])} ${JSON.stringify([...l.bodies])}`);
    t.diagnostic(`target 2 → 5: every pod at 5 in flight ${reachedMs} ms after the change; ${l.total()} requests, statuses ${JSON.stringify([...l.statuses])}, socket errors ${l.errors.length}`);
    assert.ok(reachedMs < 2000, `took ${reachedMs} ms`);
    assert.equal((await gw.api.send("show info")).match(/Pid: (\d+)/)?.[1], pid, "no reload");
  });

  it("a slot drained under load loses no accepted request, then the pod can go away", async (t) => {
    gw = await startGateway({ endpoints: [endpoint("ep", { targetConcurrency: 4, maxQueue: 1000, queueTimeoutMs: 10_000 })] });
    await gw.addPod("ep");
    const leaving = await gw.addPod("ep");
    await gw.agent.cycle();
    const l = load(gw.publicPort, PATH, 8, () => hookBody({ sleep_ms: 100 }));
    await sleep(500);
    assert.ok(leaving.inFlight() > 0, "the leaving pod serves before the drain");
    const podId = gw.source.current().pods.get("ep")!.find((p) => p.port === leaving.port)!.id;
    gw.source.upsertPod("ep", { id: podId, addr: "127.0.0.1", port: leaving.port, ready: true, terminating: true });
    assert.ok(await until(() => gw!.agent.podDrained("ep", podId), 3000), "drained");
    assert.equal(leaving.inFlight(), 0);
    await leaving.close();
    gw.source.removePod("ep", podId);
    await sleep(500);
    await l.stop();
    assert.deepEqual(l.errors, []);
    assert.deepEqual([...l.statuses.keys()], [200], `statuses ${JSON.stringify([...l.statuses])} ${JSON.stringify([...l.bodies])}`);
    assert.ok(l.total() > 50, `requests: ${l.total()}`);
    t.diagnostic(`drain under load: ${l.total()} requests, statuses ${JSON.stringify([...l.statuses])}, socket errors ${l.errors.length}`);
  });

  it("reloads under keep-alive load fail no request and keep runtime values (slots, maxconn)", async (t) => {
    gw = await startGateway({ endpoints: [endpoint("ep", { targetConcurrency: 2, maxQueue: 1000, queueTimeoutMs: 10_000 })] });
    await gw.addPod("ep");
    await gw.addPod("ep");
    gw.source.setTargetConcurrency("ep", 3);
    await gw.agent.cycle();
    const l = load(gw.publicPort, PATH, 12, () => hookBody({ sleep_ms: 5 }));
    await sleep(300);
    const workerPid = async (): Promise<string> => (await gw!.api.send("show info")).match(/Pid: (\d+)/)![1]!;
    const pids = new Set<string>();
    let previous = await workerPid();
    for (let i = 0; i < 5; i++) {
      // A change of an endpoint setting (the model timeout) needs a reload.
      const ep = gw.source.endpoint("ep")!;
      gw.source.setEndpoint({ ...ep, modelTimeoutMs: ep.modelTimeoutMs + 1000 });
      const r = await gw.agent.cycle();
      assert.match(r.reloaded ?? "", /endpoint settings changed/);
      // The runtime socket can still reach the old worker for a moment after the reload: wait for the new one.
      let pid = previous;
      assert.ok(await until(async () => (pid = await workerPid()) !== previous, 3000), `reload ${i + 1}: a new worker answers`);
      pids.add(pid);
      previous = pid;
      await sleep(300);
    }
    await l.stop();
    assert.equal(pids.size, 5, "five new workers");
    t.diagnostic(`5 reloads under load: ${l.total()} requests, statuses ${JSON.stringify([...l.statuses])}, socket errors ${l.errors.length}`);
    assert.deepEqual(l.errors, []);
    assert.deepEqual([...l.statuses.keys()], [200], `statuses ${JSON.stringify([...l.statuses])} ${JSON.stringify([...l.bodies])}`);
    assert.ok(l.total() > 200, `requests: ${l.total()}`);
    const stats = await gw.api.send("show stat -1 4 -1");
    const live = stats.split("\n").filter((r) => r.startsWith("be_ep,") && r.includes("127.0.0.1:"));
    assert.equal(live.length, 2, "both pods still in their slots after reloads");
    for (const row of live) assert.equal(row.split(",")[6], "3", "maxconn 3 kept (written into the config)");
    // Nothing left to do after the reloads: the config carried the runtime values.
    assert.equal((await gw.agent.cycle()).commands, 0);
  });

  it("a slot-count change reloads with more slots; new pods get them", async () => {
    gw = await startGateway({ endpoints: [endpoint("ep", { slots: 2 })] });
    for (let i = 0; i < 3; i++) await gw.addPod("ep");
    const r = await gw.agent.cycle();
    assert.match(r.reloaded ?? "", /needs 3 slots, has 2/);
    await gw.agent.cycle();
    await until(async () => (await gw!.agent.cycle()).commands === 0, 2000);
    const l = load(gw.publicPort, PATH, 6, () => hookBody({ sleep_ms: 30 }));
    await sleep(500);
    await l.stop();
    assert.deepEqual([...l.statuses.keys()], [200]);
    assert.ok(gw.models.every((m) => m.server.listening), "all three pods served");
  });

  it("after an HAProxy restart the agent re-applies pods, limits and keys", async () => {
    gw = await startGateway({ endpoints: [endpoint("ep", { targetConcurrency: 3 })] });
    await gw.addPod("ep");
    await gw.agent.cycle();
    await gw.haproxy.stop();
    // A fresh HAProxy from a config with empty slots, like a restarted gateway container.
    await gw.agent.writeInitialConfig();
    await gw.haproxy.start();
    const t0 = Date.now();
    const { call } = await import("./harness.ts");
    assert.ok(await until(async () => (await call(gw!.publicPort, PATH)).status === 200, 3000), "serving again");
    const stats = await gw.api.send("show stat -1 4 -1");
    assert.ok(stats.split("\n").some((r) => r.startsWith("be_ep,") && r.includes("127.0.0.1:") && r.split(",")[6] === "3"));
    assert.ok(Date.now() - t0 < 3000);
  });
});
