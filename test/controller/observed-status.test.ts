/**
 * Status is compared with the observed object (a hand-edited status is put right), per-endpoint metric series
 * go with their endpoint (deleted, or leadership lost), and a quiet watch is not cut by the client at 30 s.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { kubeConfigForUrl, makeKubeApi, WATCH_INACTIVITY_TIMEOUT_MS } from "../../controller/src/kube/kube-api.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj, waitFor } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";

async function setup() {
  const fake = new FakeApiServer();
  await fake.start();
  const clock = new ManualClock(1_800_000_000_000);
  const gw = new FakeGateway();
  for (const name of ["fraud", "churn"]) {
    fake.put("servingendpoints", servingEndpointObj("ep", name));
    fake.put("deployments", deploymentObj("ep", name, 2, { [L]: name }));
    fake.put("endpointslices", endpointSliceObj("ep", `${name}-x`, { [L]: name }, ["10.0.0.1", "10.0.0.2"]));
    gw.set("gw-a", name, 10, 0, 100);
  }
  let leader = true;
  const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => leader });
  await synced(a);
  return { fake, clock, gw, a, setLeader: (v: boolean) => void (leader = v) };
}

describe("status against the observed object; metric series lifecycle", () => {
  it("a hand-edited status is rewritten within seconds", async () => {
    const { fake, clock, gw, a } = await setup();
    try {
      await step(clock, gw, [a], 20);
      const mine = fake.get("servingendpoints", "ep", "fraud");
      const target = (mine?.status as { targetConcurrency?: number }).targetConcurrency;
      assert.ok(target !== undefined && target !== 999);
      fake.put("servingendpoints", { ...mine!, status: { ...mine!.status, targetConcurrency: 999, readyReplicas: 0 } });
      await waitFor(() => a.controller.endpoints.get("ep", "fraud")?.status?.targetConcurrency === 999, 5000, "edit seen");
      await step(clock, gw, [a], 8);
      const after = fake.get("servingendpoints", "ep", "fraud")?.status as { targetConcurrency?: number; readyReplicas?: number };
      assert.notEqual(after.targetConcurrency, 999, "the controller's target is back");
      assert.equal(after.readyReplicas, 2);
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });

  it("per-endpoint series are removed when the endpoint is deleted and when leadership is lost", async () => {
    const { fake, clock, gw, a, setLeader } = await setup();
    try {
      await step(clock, gw, [a], 10);
      const reg = a.metrics.registry;
      assert.match(await reg.metrics(), /apa_desired_replicas\{endpoint="ep\/churn"\}/);
      fake.delete("servingendpoints", "ep", "churn");
      await waitFor(() => a.controller.endpoints.get("ep", "churn") === undefined, 5000, "delete seen");
      await step(clock, gw, [a], 1);
      const afterDelete = await reg.metrics();
      assert.doesNotMatch(afterDelete, /endpoint="ep\/churn"/);
      assert.match(afterDelete, /apa_desired_replicas\{endpoint="ep\/fraud"\}/);
      setLeader(false);
      a.controller.resetMemory();
      assert.doesNotMatch(await reg.metrics(), /endpoint="ep\/fraud"/);
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });

  it("the client keeps a quiet watch open past 30 s (server timeout 300 s)", () => {
    const api = makeKubeApi(kubeConfigForUrl("http://127.0.0.1:1"));
    assert.equal((api.watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs, WATCH_INACTIVITY_TIMEOUT_MS);
    assert.ok(WATCH_INACTIVITY_TIMEOUT_MS > 300_000);
  });
});
