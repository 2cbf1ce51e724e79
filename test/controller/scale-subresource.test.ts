/**
 * The scale subresource's field, `spec.replicas.desired` (what HPA, KEDA or `kubectl scale` write), through the
 * whole controller: a floor under the engine's decision (ScalingActive reason ScaleSubresource) within the
 * declared bounds; 0 asks for nothing, and the engine's own decision stands.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
type Status = { desiredReplicas?: number; conditions?: { type: string; reason: string; message: string }[] } | undefined;

async function run(desired: number): Promise<{ replicas: number; status: Status }> {
  const fake = new FakeApiServer();
  await fake.start();
  const clock = new ManualClock(1_800_000_000_000);
  const gw = new FakeGateway();
  fake.put("servingendpoints", servingEndpointObj("ep-fraud", "fraud", { replicas: { min: 1, max: 20, desired } }));
  fake.put("deployments", deploymentObj("ep-fraud", "fraud", 2, { [L]: "fraud" }));
  fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2"]));
  // Light load: two pods are plenty.
  gw.set("gw-a", "fraud", 2, 0, 100);
  const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
  try {
    await synced(a);
    await step(clock, gw, [a], 30);
    const d = fake.get("deployments", "ep-fraud", "fraud") as { spec: { replicas: number } } | undefined;
    return { replicas: d?.spec.replicas ?? -1, status: fake.get("servingendpoints", "ep-fraud", "fraud")?.status as Status };
  } finally {
    await a.controller.stop();
    await fake.stop();
  }
}

describe("spec.replicas.desired (the scale subresource's field)", () => {
  it("raises the Deployment to what the scale subresource asked for, with reason ScaleSubresource", async () => {
    const { replicas, status } = await run(6);
    assert.equal(replicas, 6);
    assert.equal(status?.desiredReplicas, 6);
    const scaling = status?.conditions?.find((c) => c.type === "ScalingActive");
    assert.equal(scaling?.reason, "ScaleSubresource", JSON.stringify(scaling));
    assert.match(scaling?.message ?? "", /6 replicas asked for through the scale subresource/);
  });

  it("0 asks for nothing: the engine's own decision stands", async () => {
    const { replicas, status } = await run(0);
    assert.ok(replicas < 6, `replicas ${replicas}`);
    assert.notEqual(status?.conditions?.find((c) => c.type === "ScalingActive")?.reason, "ScaleSubresource");
  });
});
