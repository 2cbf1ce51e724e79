/**
 * Which Deployment is an endpoint's to scale, and what the scale subresource's selector reads: a Deployment
 * labelled for an endpoint but controlled by another object (its controller ownerReference) is refused with
 * Ready=False, reason DeploymentNotOwned, and never scaled; one controlled by its own ServingEndpoint is scaled;
 * every status the controller writes, error statuses included, carries `status.selector` (labelSelectorPath); a
 * Deployment without a controller reference gets its endpoint's, by one server-side apply of that reference only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
type Status = { selector?: string; conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;

describe("Deployment ownership and status.selector", () => {
  it("scales the Deployment its endpoint controls, refuses one another object controls, and writes the selector on every status", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    const owners: Record<string, unknown> = {
      fraud: { apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", name: "fraud", uid: "uid-fraud", controller: true },
      churn: { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "churn", uid: "uid-rollout", controller: true },
    };
    for (const name of ["fraud", "churn"]) {
      const se = servingEndpointObj(`ep-${name}`, name);
      se.metadata["uid"] = `uid-${name}`;
      fake.put("servingendpoints", se);
      const d = deploymentObj(`ep-${name}`, name, 2, { [L]: name });
      d.metadata["ownerReferences"] = [owners[name]];
      fake.put("deployments", d);
      fake.put("endpointslices", endpointSliceObj(`ep-${name}`, `${name}-x`, { [L]: name }, ["10.0.0.1", "10.0.0.2"]));
      gw.set("gw-a", name, 60, 5, 100);
    }
    fake.put("servingendpoints", servingEndpointObj("ep-lone", "lone"));
    gw.set("gw-a", "lone", 0, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    try {
      await synced(a);
      await step(clock, gw, [a], 30);
      const scaled = (name: string) => fake.requests.filter((r) => r.method === "PATCH" && r.path === `/apis/apps/v1/namespaces/ep-${name}/deployments/${name}/scale`);
      assert.ok(scaled("fraud").length >= 1, "the Deployment its ServingEndpoint controls is scaled on its load");
      assert.equal(scaled("churn").length, 0, "a Deployment controlled by another object is never scaled");
      const status = (name: string) => fake.get("servingendpoints", `ep-${name}`, name)?.status as Status;
      const ready = status("churn")?.conditions?.find((c) => c.type === "Ready");
      assert.equal(ready?.status, "False");
      assert.equal(ready?.reason, "DeploymentNotOwned");
      assert.match(ready?.message ?? "", /controlled by Rollout churn, not by this ServingEndpoint/);
      assert.equal(status("lone")?.conditions?.find((c) => c.type === "Ready")?.reason, "DeploymentMissing");
      for (const name of ["fraud", "churn", "lone"]) assert.equal(status(name)?.selector, `${L}=${name}`, `${name}: status.selector`);
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });

  it("sets its controller ownerReference on a Deployment that has none, by server-side apply, once; never on one another object controls", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    for (const name of ["fraud", "churn"]) {
      const se = servingEndpointObj(`ep-${name}`, name);
      se.metadata["uid"] = `uid-${name}`;
      fake.put("servingendpoints", se);
      const d = deploymentObj(`ep-${name}`, name, 2, { [L]: name });
      d.metadata["ownerReferences"] = name === "churn" ? [{ apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", name: "churn", uid: "uid-rollout", controller: true }] : [];
      fake.put("deployments", d);
      fake.put("endpointslices", endpointSliceObj(`ep-${name}`, `${name}-x`, { [L]: name }, ["10.0.0.1", "10.0.0.2"]));
      gw.set("gw-a", name, 60, 5, 100);
    }
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    try {
      await synced(a);
      await step(clock, gw, [a], 30);
      const applies = (name: string) =>
        fake.requests.filter((r) => r.method === "PATCH" && r.path === `/apis/apps/v1/namespaces/ep-${name}/deployments/${name}` && r.contentType === "application/apply-patch+yaml");
      assert.equal(applies("fraud").length, 1, "one apply, not one per cycle: the watch brings the referenced Deployment back");
      const sent = applies("fraud")[0]!;
      assert.equal(sent.query["fieldManager"], "apa-controller");
      const owner = { apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", name: "fraud", uid: "uid-fraud", controller: true, blockOwnerDeletion: true };
      assert.deepEqual(sent.body, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "fraud", namespace: "ep-fraud", ownerReferences: [owner] } }, "the applied configuration is the reference only");
      assert.deepEqual(fake.get("deployments", "ep-fraud", "fraud")?.metadata["ownerReferences"], [owner]);
      assert.equal(applies("churn").length, 0, "a Deployment another object controls is left alone");
      const scaled = fake.requests.filter((r) => r.method === "PATCH" && r.path === "/apis/apps/v1/namespaces/ep-fraud/deployments/fraud/scale");
      assert.ok(scaled.length >= 1, "the adopted Deployment is still scaled on its load");
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });

  it("sets no ownerReference while not leading", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    const se = servingEndpointObj("ep-fraud", "fraud");
    se.metadata["uid"] = "uid-fraud";
    fake.put("servingendpoints", se);
    fake.put("deployments", deploymentObj("ep-fraud", "fraud", 2, { [L]: "fraud" }));
    gw.set("gw-a", "fraud", 60, 5, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => false });
    try {
      await synced(a);
      await step(clock, gw, [a], 10);
      assert.equal(fake.requests.filter((r) => r.contentType === "application/apply-patch+yaml").length, 0);
      assert.equal(fake.get("deployments", "ep-fraud", "fraud")?.metadata["ownerReferences"], undefined);
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });
});
