/**
 * The gateway agent's Kubernetes reports of a rejected endpoint: a Warning Event, the GatewayAccepted condition
 * and the gauge; cleared when the endpoint is valid again. The KubeApi here is a TEST DOUBLE recording writes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Gauge, Registry } from "prom-client";
import type { EventsV1Event } from "@kubernetes/client-node";
import type { ServingEndpoint, ServingEndpointStatus } from "../../controller/src/contract/crd/types.ts";
import { CONDITION_GATEWAY_ACCEPTED, kubeEndpointReports } from "../../controller/src/kube/gateway-reports.ts";
import { base } from "./crd-cases.ts";

describe("kubeEndpointReports", () => {
  it("reports a rejection as Event + condition + gauge, and clears it once valid", async () => {
    const events: Array<{ ns: string; e: EventsV1Event }> = [];
    const patches: Array<{ ns: string; name: string; status: ServingEndpointStatus }> = [];
    const se = { ...structuredClone(base), metadata: { name: "fraud", namespace: "team-a", uid: "u-1", generation: 3 } } as unknown as ServingEndpoint;
    let current: ServingEndpoint = se;
    const registry = new Registry();
    const gauge = new Gauge({ name: "gateway_endpoint_rejected", help: "x", labelNames: ["endpoint"], registers: [registry] });
    const reports = kubeEndpointReports({
      api: {
        createEvent: async (ns, e) => { events.push({ ns, e }); return e; },
        patchServingEndpointStatus: async (ns, name, status) => {
          patches.push({ ns, name, status });
          current = { ...current, status: { ...current.status, ...status } };
        },
      },
      endpoints: () => [current],
      rejectedGauge: gauge,
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as never,
      nowMs: () => Date.parse("2026-01-01T00:00:00Z"),
      instance: "gw-0",
    });
    reports.rejected("fraud", ['endpoint "fraud".targetConcurrency: 0 is not allowed; must be an integer in 1..4096'], true);
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 1);
    assert.equal(events[0]!.ns, "team-a");
    assert.equal(events[0]!.e.type, "Warning");
    assert.equal(events[0]!.e.reason, "GatewayRejected");
    assert.match(events[0]!.e.note ?? "", /keeps serving its last valid settings: .*targetConcurrency: 0 is not allowed/);
    assert.deepEqual(events[0]!.e.regarding, { apiVersion: se.apiVersion, kind: se.kind, name: "fraud", namespace: "team-a", uid: "u-1" });
    const cond = patches[0]!.status.conditions!.find((c) => c.type === CONDITION_GATEWAY_ACCEPTED)!;
    assert.deepEqual({ status: cond.status, reason: cond.reason, observedGeneration: cond.observedGeneration }, { status: "False", reason: "InvalidServingLastValid", observedGeneration: 3 });
    assert.match(await registry.metrics(), /gateway_endpoint_rejected\{endpoint="fraud"\} 1/);

    reports.accepted("fraud");
    await new Promise((r) => setImmediate(r));
    assert.equal(patches.length, 2);
    assert.equal(patches[1]!.status.conditions!.find((c) => c.type === CONDITION_GATEWAY_ACCEPTED)!.status, "True");
    assert.match(await registry.metrics(), /gateway_endpoint_rejected\{endpoint="fraud"\} 0/);
    reports.accepted("fraud");
    await new Promise((r) => setImmediate(r));
    assert.equal(patches.length, 2, "no write when nothing is rejected");
  });
});

describe("withOthersConditions (the controller's status writes keep the agent's condition)", () => {
  it("keeps the controller's own types from its last write and every other type as observed", async () => {
    const { withOthersConditions } = await import("../../controller/src/kube/status.ts");
    const c = (type: string, status: "True" | "False", reason: string) => ({ type, status, reason, message: "", lastTransitionTime: "2026-01-01T00:00:00Z" });
    const own = [c("Ready", "True", "Serving"), c("ScalingActive", "True", "ScaleUp")];
    const observed = [c("Ready", "False", "Old"), c("GatewayAccepted", "False", "Invalid")];
    assert.deepEqual(withOthersConditions(own, observed).map((x) => `${x.type}=${x.reason}`), ["GatewayAccepted=Invalid", "Ready=Serving", "ScalingActive=ScaleUp"]);
  });
});

describe("gatewayReplicaCount (the per-pod limit's divisor)", () => {
  it("counts every gateway pod of the namespace, starting and terminating ones too, and itself", async () => {
    const { gatewayReplicaCount } = await import("../../controller/src/kube/gateway-targets.ts");
    const ep = (name: string, ready: boolean, terminating = false) => ({ addresses: [`10.0.0.${name.length}`], conditions: { ready, terminating }, targetRef: { kind: "Pod", name } });
    const slices = [
      { metadata: { namespace: "autopilot-gateway" }, endpoints: [ep("gw-a", true), ep("gw-bb", false), ep("gw-ccc", false, true)] },
      { metadata: { namespace: "elsewhere" }, endpoints: [ep("x", true)] },
    ] as never;
    assert.equal(gatewayReplicaCount(slices, "autopilot-gateway", "gw-a"), 3);
    assert.equal(gatewayReplicaCount(slices, "autopilot-gateway", "gw-new"), 4, "itself before its slice entry appears");
    assert.equal(gatewayReplicaCount([], "autopilot-gateway", undefined), 1);
  });
});
