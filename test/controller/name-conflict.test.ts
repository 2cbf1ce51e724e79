/**
 * Same endpoint name in two namespaces: the gateway serves the older one (one rule, name-owners.ts); the
 * controller scales only that one on the name's traffic and gives the other Ready=False, reason NameConflict.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { desiredStateFrom } from "../../controller/src/kube/gateway-source.ts";
import type { ServingEndpoint } from "../../controller/src/contract/crd/types.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";

describe("same name in two namespaces", () => {
  it("the older endpoint scales on the name's traffic; the younger is Ready=False NameConflict and never scaled", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    for (const [ns, created] of [["tenant-b", "2026-11-20T00:00:00Z"], ["tenant-a", "2026-11-25T00:00:00Z"]] as const) {
      const se = servingEndpointObj(ns, "fraud");
      se.metadata["creationTimestamp"] = created;
      fake.put("servingendpoints", se);
      fake.put("deployments", deploymentObj(ns, "fraud", 2, { [L]: "fraud" }));
      fake.put("endpointslices", endpointSliceObj(ns, "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2"]));
    }
    // Heavy load on the name: only tenant-b (older) is served at the gateway, so it is tenant-b's traffic.
    gw.set("gw-a", "fraud", 60, 5, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    try {
      await synced(a);
      await step(clock, gw, [a], 30);
      const scaled = (ns: string) => fake.requests.filter((r) => r.method === "PATCH" && r.path === `/apis/apps/v1/namespaces/${ns}/deployments/fraud/scale`);
      assert.ok(scaled("tenant-b").length >= 1, "the owner scales up on its load");
      assert.equal(scaled("tenant-a").length, 0, "the other tenant is never scaled on it");
      const st = fake.get("servingendpoints", "tenant-a", "fraud")?.status as { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;
      const ready = st?.conditions?.find((c) => c.type === "Ready");
      assert.equal(ready?.status, "False");
      assert.equal(ready?.reason, "NameConflict");
      assert.match(ready?.message ?? "", /already served at the gateway by namespace tenant-b/);
      assert.equal(st?.conditions?.find((c) => c.type === "MetricsAvailable"), undefined, "no MetricsAvailable=True on someone else's traffic");
      const owner = fake.get("servingendpoints", "tenant-b", "fraud")?.status as { conditions?: { type: string; status: string }[] } | undefined;
      assert.equal(owner?.conditions?.find((c) => c.type === "MetricsAvailable")?.status, "True");
      // The agent serves the same one.
      const agent = desiredStateFrom(fake.list("servingendpoints") as unknown as ServingEndpoint[], [], { auth: { apiKeys: true, jwt: false }, minSlots: 1, queueTimeoutMs: 1, maxQueue: 1, maxBodyBytes: 1, modelTimeoutMs: 1 }, []);
      assert.deepEqual(agent.skipped.map((x) => x.key), ["tenant-a/fraud"]);
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });
});
