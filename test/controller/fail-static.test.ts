/**
 * Fail static: a 60 s metrics outage causes no scale action (while a clean run scales down in that window), and
 * a gateway replica disappearing does not halve the observed load.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { GatewayScraper } from "../../controller/src/kube/gateway-scraper.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { guardScale } from "../../controller/src/kube/scale-guard.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
const SCALE = /\/deployments\/fraud\/scale$/;

describe("guardScale (pure)", () => {
  const cases = [
    { name: "equal: nothing", input: { currentReplicas: 3, desiredReplicas: 3, metricsDegraded: undefined, rollingOut: false }, want: { kind: "none" } },
    { name: "up while degraded: allowed", input: { currentReplicas: 3, desiredReplicas: 5, metricsDegraded: "x", rollingOut: false }, want: { kind: "scale", from: 3, to: 5 } },
    {
      name: "down while degraded: fail static",
      input: { currentReplicas: 5, desiredReplicas: 3, metricsDegraded: "gateway replica gw-b scrape failed", rollingOut: false },
      want: { kind: "hold", reason: "FailStatic", message: "holding 5 replicas (engine wanted 3): gateway replica gw-b scrape failed" },
    },
    {
      name: "down during a rollout: hold",
      input: { currentReplicas: 5, desiredReplicas: 3, metricsDegraded: undefined, rollingOut: true },
      want: { kind: "hold", reason: "RolloutInProgress", message: "holding 5 replicas (engine wanted 3) until the rollout completes" },
    },
    { name: "up during a rollout: allowed", input: { currentReplicas: 3, desiredReplicas: 4, metricsDegraded: undefined, rollingOut: true }, want: { kind: "scale", from: 3, to: 4 } },
    { name: "down, healthy: scale", input: { currentReplicas: 5, desiredReplicas: 3, metricsDegraded: undefined, rollingOut: false }, want: { kind: "scale", from: 5, to: 3 } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(guardScale(c.input), c.want));
});

describe("GatewayScraper: a vanished gateway replica does not halve the observed load", () => {
  it("carries the vanished replica's last load for the grace period, flags the cycle degraded, then forgets it", async () => {
    const gw = new FakeGateway();
    gw.set("gw-a", "fraud", 10);
    gw.set("gw-b", "fraud", 10);
    const scraper = new GatewayScraper({ targets: () => gw.targets(), fetchText: (u) => gw.fetchText(u), timeoutMs: 100, graceMs: 10_000, log: silentLogger });
    const t0 = 1_800_000_000_000;
    const inFlightAt = async (s: number) => {
      gw.tick(1);
      const r = await scraper.scrape(t0 + s * 1000);
      return { inFlight: r.samples.get("fraud")?.sample.inFlight, degraded: r.degraded !== undefined };
    };
    assert.deepEqual(await inFlightAt(1), { inFlight: 20, degraded: false });
    assert.deepEqual(await inFlightAt(2), { inFlight: 20, degraded: false });
    gw.remove("gw-b"); // the pod is gone; its clients reconnect to gw-a over the next seconds
    assert.deepEqual(await inFlightAt(3), { inFlight: 20, degraded: true }, "not halved: gw-b's last reading is carried");
    gw.set("gw-a", "fraud", 20);
    assert.deepEqual(await inFlightAt(5), { inFlight: 30, degraded: true }, "over-counts during the grace (safe side)");
    assert.deepEqual(await inFlightAt(14), { inFlight: 20, degraded: false }, "after the grace gw-b is forgotten");
  });

  it("a replica that is listed but failing keeps the cycle degraded", async () => {
    const gw = new FakeGateway();
    gw.set("gw-a", "fraud", 10);
    gw.set("gw-b", "fraud", 10);
    const scraper = new GatewayScraper({ targets: () => gw.targets(), fetchText: (u) => gw.fetchText(u), timeoutMs: 100, graceMs: 10_000, log: silentLogger });
    await scraper.scrape(1000);
    gw.down.add("gw-b");
    const r = await scraper.scrape(2000);
    assert.equal(r.samples.get("fraud")?.sample.inFlight, 20);
    assert.equal(r.degraded, "gateway replica gw-b scrape failed (connect ECONNREFUSED (fake gateway down))");
  });
});

describe("ApaController fail static (FakeApiServer test double, manual clock)", () => {
  /** Low load on 6 replicas: the engine wants fewer once it has 300 s of memory. */
  async function lowLoadRun(outage: { fromS: number; toS: number } | undefined): Promise<{ scaleTimesS: number[]; replicas: number[] }> {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const start = clock.nowMs();
    const gw = new FakeGateway();
    fake.put("servingendpoints", servingEndpointObj("ep-fraud", "fraud"));
    fake.put("deployments", deploymentObj("ep-fraud", "fraud", 6, { [L]: "fraud" }));
    fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]));
    gw.set("gw-a", "fraud", 2, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    await synced(a);
    try {
      for (let s = 1; s <= 360; s++) {
        if (outage !== undefined && s === outage.fromS) gw.down.add("gw-a");
        if (outage !== undefined && s === outage.toS) gw.down.delete("gw-a");
        await step(clock, gw, [a], 1);
      }
      const patches = fake.requests.filter((r) => r.method === "PATCH" && SCALE.test(r.path));
      // Each request is made during the cycle at the time of the clock then; recover it from the Event times.
      const events = fake.requests.filter((r) => r.method === "POST" && /\/events$/.test(r.path));
      return {
        scaleTimesS: events.map((e) => (Date.parse(String((e.body as { eventTime: string }).eventTime)) - start) / 1000),
        replicas: patches.map((p) => (p.body as { spec: { replicas: number } }).spec.replicas),
      };
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  }

  it("a 60 s metrics outage causes no scale action; the clean run scales down inside that window", async () => {
    const clean = await lowLoadRun(undefined);
    assert.ok(clean.replicas.length > 0 && (clean.replicas[0] ?? 6) < 6, `clean run scales down (got ${JSON.stringify(clean)})`);
    const firstDownS = clean.scaleTimesS[0] ?? Number.NaN;
    const outage = { fromS: Math.floor(firstDownS) - 30, toS: Math.floor(firstDownS) + 30 };
    const faulty = await lowLoadRun(outage);
    if (process.env["DEBUG_TEST"]) console.log(JSON.stringify({ clean, faulty, outage }));
    const during = faulty.scaleTimesS.filter((t) => t >= outage.fromS && t < outage.toS + 30);
    assert.deepEqual(during, [], "no scale action during the outage nor the 30 s recovery hold");
  });

  it("losing one of two gateway replicas causes no scale-down", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    fake.put("servingendpoints", servingEndpointObj("ep-fraud", "fraud"));
    fake.put("deployments", deploymentObj("ep-fraud", "fraud", 4, { [L]: "fraud" }));
    fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]));
    gw.set("gw-a", "fraud", 7, 0, 100);
    gw.set("gw-b", "fraud", 7, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl-a", isLeader: () => true });
    await synced(a);
    try {
      await step(clock, gw, [a], 30);
      const settled = Number(fake.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"]);
      const before = fake.requests.filter((r) => r.method === "PATCH" && SCALE.test(r.path)).length;
      gw.remove("gw-b");
      await step(clock, gw, [a], 3);
      gw.set("gw-a", "fraud", 14, 0, 100);
      await step(clock, gw, [a], 60);
      const after = fake.requests.filter((r) => r.method === "PATCH" && SCALE.test(r.path)).slice(before);
      assert.ok(after.every((p) => (p.body as { spec: { replicas: number } }).spec.replicas >= settled), "never below the settled count");
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });
});
