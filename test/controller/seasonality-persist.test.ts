/**
 * The learned seasonality survives a controller restart: the real ApaController writes it into the endpoint's
 * status (versioned, compact) as buckets close, and a new controller process reads it back before its first decision,
 * so its forecast continues instead of relearning a whole period. FakeApiServer is the test double of the apiserver.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { validateEngineConfig } from "../../controller/src/engine/config.ts";
import { decodeSeasonality } from "../../controller/src/engine/seasonality.ts";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced, type Instance } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
// a compressed clock: a 60 s period of 6 buckets (10 s each), so a test sees whole periods
const engineConfig = validateEngineConfig({ forecastPeriodMs: 60_000, forecastBuckets: 6 });

describe("seasonality persisted in the endpoint's status across a controller restart", () => {
  let fake: FakeApiServer;
  let clock: ManualClock;
  let gw: FakeGateway;
  const inst: Instance[] = [];
  beforeEach(async () => {
    fake = new FakeApiServer();
    await fake.start();
    clock = new ManualClock(1_800_000_000_000);
    gw = new FakeGateway();
    fake.put("servingendpoints", servingEndpointObj("ep-fraud", "fraud"));
    fake.put("deployments", deploymentObj("ep-fraud", "fraud", 2, { [L]: "fraud" }));
    fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2"]));
  });
  afterEach(async () => {
    for (const i of inst.splice(0)) await i.controller.stop();
    await fake.stop();
  });
  const persisted = () => {
    const text = (fake.get("servingendpoints", "ep-fraud", "fraud")?.status as Record<string, unknown> | undefined)?.["seasonality"];
    return { text: text as string | undefined, decoded: decodeSeasonality(text as string | undefined) };
  };

  it("is written as buckets close and read back by the next controller", async () => {
    gw.set("gw-a", "fraud", 8, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true, engineConfig });
    inst.push(a);
    await synced(a);
    await step(clock, gw, [a], 75);
    const first = persisted();
    assert.match(first.text ?? "", /^v1:/, "status.seasonality carries the versioned encoding");
    assert.ok(first.text !== undefined && first.text.length < 200, `compact: ${first.text?.length} characters`);
    assert.ok(first.decoded !== undefined && first.decoded.folded >= 6, `a whole period folded (${first.decoded?.folded})`);
    assert.equal(first.decoded.periodMs, 60_000);
    assert.ok(first.decoded.peaks.every((p) => Number.isFinite(p) && p > 0), "every bucket learned");

    // the process dies; a new one starts on the same cluster
    a.kill();
    await a.controller.stop();
    inst.splice(0);
    const b = makeInstance({ fake, clock, gateway: gw, token: "ctl-b", isLeader: () => true, engineConfig });
    inst.push(b);
    await synced(b);
    // load-only status writes come at most once a minute (--status-min-interval-ms): the seasonality rides along
    await step(clock, gw, [b], 70);
    const after = persisted();
    assert.ok(after.decoded !== undefined);
    // a fresh start would have folded at most 7 buckets in 70 s; the restored one continues the count
    assert.ok(after.decoded.folded >= first.decoded.folded + 6, `folded ${first.decoded.folded} → ${after.decoded.folded}: continued, not relearned`);
    assert.ok(after.decoded.peaks.every((p) => Number.isFinite(p) && p > 0), "the learned peaks were kept");
  });

  it("an unreadable persisted value (another version) is ignored: the controller starts afresh", async () => {
    const se = fake.get("servingendpoints", "ep-fraud", "fraud")!;
    fake.put("servingendpoints", { ...se, status: { ...(se.status as object), seasonality: "v9:whatever" } });
    gw.set("gw-a", "fraud", 8, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true, engineConfig });
    inst.push(a);
    await synced(a);
    await step(clock, gw, [a], 25);
    const now = persisted();
    assert.ok(now.decoded !== undefined && now.decoded.folded <= 3, `relearned from scratch (${now.decoded?.folded} buckets)`);
  });
});
