/**
 * The real ApaController + real @kubernetes/client-node against the FakeApiServer test double: exact request
 * bodies, and faults (409, 5xx, slow responses, dropped watches, 410) survived with no wrong scale action.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { FakeApiServer, type RecordedRequest } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced, type Instance } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
const SCALE = /\/deployments\/fraud\/scale$/;
const STATUS = /\/servingendpoints\/fraud\/status$/;
const EVENTS = /\/events$/;

function seed(fake: FakeApiServer, replicas: number): void {
  fake.put("servingendpoints", servingEndpointObj("ep-fraud", "fraud"));
  fake.put("deployments", deploymentObj("ep-fraud", "fraud", replicas, { [L]: "fraud" }));
  fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, Array.from({ length: replicas }, (_, i) => `10.0.0.${i + 1}`)));
}

const ok = (r: RecordedRequest) => r.faultStatus === undefined;
const scalePatches = (fake: FakeApiServer) => fake.requests.filter((r) => r.method === "PATCH" && SCALE.test(r.path));
const replicasOf = (r: RecordedRequest) => (r.body as { spec: { replicas: number } }).spec.replicas;

describe("ApaController against the FakeApiServer test double", () => {
  let fake: FakeApiServer;
  let clock: ManualClock;
  let gw: FakeGateway;
  let inst: Instance[] = [];
  beforeEach(async () => {
    fake = new FakeApiServer();
    await fake.start();
    clock = new ManualClock(1_800_000_000_000);
    gw = new FakeGateway();
  });
  afterEach(async () => {
    for (const i of inst) await i.controller.stop();
    inst = [];
    await fake.stop();
  });

  it("scales up through the scale subresource and writes status and an Event (exact bodies)", async () => {
    seed(fake, 2);
    const rv = fake.get("deployments", "ep-fraud", "fraud")?.metadata.resourceVersion;
    gw.set("gw-a", "fraud", 40, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    inst.push(a);
    await synced(a);
    await step(clock, gw, [a], 1);
    const t1 = new Date(clock.nowMs()).toISOString();
    const first = fake.requests.find((r) => r.method === "PATCH" && STATUS.test(r.path));
    assert.equal(first?.contentType, "application/merge-patch+json");
    assert.deepEqual(first?.body, {
      status: {
        observedGeneration: 1,
        replicas: 2,
        readyReplicas: 2,
        desiredReplicas: 2,
        observedQps: 0,
        selector: "serving.autopilot.dev/endpoint=fraud",
        conditions: [
          { type: "MetricsAvailable", status: "True", reason: "GatewaySamples", message: "every gateway replica reports this endpoint", lastTransitionTime: t1, observedGeneration: 1 },
          { type: "Ready", status: "True", reason: "ReplicasReady", message: "2 of 2 replicas ready", lastTransitionTime: t1, observedGeneration: 1 },
          { type: "ScalingActive", status: "True", reason: "Waiting", message: "engine not due yet", lastTransitionTime: t1, observedGeneration: 1 },
        ],
      },
    });

    await step(clock, gw, [a], 20);
    const patches = scalePatches(fake);
    assert.ok(patches.length >= 1, "a scale-up happened");
    const p0 = patches[0];
    assert.ok(p0 !== undefined);
    assert.equal(p0.contentType, "application/merge-patch+json");
    const to = replicasOf(p0);
    assert.ok(to > 2);
    assert.deepEqual(p0.body, { metadata: { resourceVersion: rv }, spec: { replicas: to } });
    assert.equal(p0.query["fieldManager"], "apa-controller");

    const events = fake.requests.filter((r) => r.method === "POST" && EVENTS.test(r.path));
    assert.equal(events.length, patches.length, "one Event per applied scale");
    const ev = events[0]?.body as Record<string, unknown>;
    assert.deepEqual(
      { action: ev["action"], type: ev["type"], regarding: ev["regarding"], controller: ev["reportingController"], instance: ev["reportingInstance"] },
      {
        action: "ScaleUp",
        type: "Normal",
        regarding: { apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", name: "fraud", namespace: "ep-fraud" },
        controller: "serving.autopilot.dev/apa-controller",
        instance: "ctl-a",
      },
    );
    assert.match(String(ev["reason"]), /^(ScaleUp|ScaleUpLimited|ReplicaBounds)$/);
    assert.match(String(ev["note"]), new RegExp(`^replicas 2 → ${to}: `));

    const st = fake.get("servingendpoints", "ep-fraud", "fraud")?.status as Record<string, unknown>;
    assert.equal(fake.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"], replicasOf(patches.at(-1) as RecordedRequest));
    assert.ok((st["targetConcurrency"] as number) >= 1 && (st["targetConcurrency"] as number) <= 16, "target concurrency published within the range");
    assert.equal(typeof st["lastScaleTime"], "string");
  });

  it("survives 409 conflicts, 5xx, slow responses, dropped watches and 410 with the same outcome as a clean run", async () => {
    const run = async (faults: boolean): Promise<{ final: number; sequence: number[]; events: number; okScales: number }> => {
      const f = new FakeApiServer();
      await f.start();
      const c = new ManualClock(1_800_000_000_000);
      const g = new FakeGateway();
      seed(f, 2);
      g.set("gw-a", "fraud", 30, 0, 100);
      const a = makeInstance({ fake: f, clock: c, gateway: g, token: "ctl-a", isLeader: () => true });
      await synced(a);
      try {
        await step(c, g, [a], 8);
        if (faults) {
          f.faults.push({ method: "PATCH", path: SCALE, status: 409, times: 1 });
          f.faults.push({ method: "PATCH", path: SCALE, status: 500, times: 1 });
          f.faults.push({ method: "PATCH", path: STATUS, status: 503, times: 2 });
          f.faults.push({ method: "POST", path: EVENTS, delayMs: 300, times: 1 });
          f.faults.push({ method: "GET", path: /deployments$/, watch: false, delayMs: 200, times: 1 });
        }
        await step(c, g, [a], 10);
        if (faults) {
          f.dropWatches();
          f.compact();
        }
        g.set("gw-a", "fraud", 60, 5, 100);
        await step(c, g, [a], 40);
        const okPatches = scalePatches(f).filter(ok);
        if (faults) {
          assert.deepEqual(f.faults.map((x) => x.times), [0, 0, 0, 0, 0], "every injected fault was hit");
          assert.deepEqual(
            f.requests.filter((r) => r.faultStatus !== undefined).map((r) => `${r.method} ${r.path.split("/").at(-1)} ${r.faultStatus}`).sort(),
            ["PATCH scale 409", "PATCH scale 500", "PATCH status 503", "PATCH status 503"],
          );
        }
        return {
          final: Number(f.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"]),
          sequence: okPatches.map(replicasOf),
          // Similar Events are aggregated: created ones plus those folded into them.
          events: f.requests.filter((r) => r.method === "POST" && EVENTS.test(r.path) && ok(r)).length + a.controller.events.aggregated,
          okScales: okPatches.length,
        };
      } finally {
        await a.controller.stop();
        await f.stop();
      }
    };
    const clean = await run(false);
    const faulty = await run(true);
    assert.equal(faulty.final, clean.final, "faults change timing at most, not the outcome");
    for (const r of [clean, faulty]) {
      assert.deepEqual(r.sequence, [...r.sequence].sort((x, y) => x - y), "rising load: never a scale-down");
      assert.equal(r.events, r.okScales, "an Event (created or aggregated) only for each applied scale");
    }
  });

  it("a restarted controller resumes from cluster state without changing replicas or target concurrency", async () => {
    seed(fake, 5);
    gw.set("gw-a", "fraud", 18, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    inst.push(a);
    await synced(a);
    await step(clock, gw, [a], 40);
    await a.controller.stop();
    inst = [];
    const before = { replicas: fake.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"], target: fake.get("servingendpoints", "ep-fraud", "fraud")?.status?.["targetConcurrency"] };
    const patchesBefore = scalePatches(fake).length;
    const b = makeInstance({ fake, clock, gateway: gw, token: "ctl-b", isLeader: () => true });
    inst.push(b);
    await synced(b);
    await step(clock, gw, [b], 60);
    assert.equal(scalePatches(fake).length, patchesBefore, "no scale action after the restart");
    assert.deepEqual(
      { replicas: fake.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"], target: fake.get("servingendpoints", "ep-fraud", "fraud")?.status?.["targetConcurrency"] },
      before,
    );
  });
});
