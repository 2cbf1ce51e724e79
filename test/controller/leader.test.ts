/**
 * Two controller instances contend for one coordination.k8s.io Lease on the FakeApiServer test double: exactly
 * one acts; killing the leader mid-cycle hands over within 15 s with replica counts unchanged.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { kubeConfigForUrl, makeKubeApi } from "../../controller/src/kube/kube-api.ts";
import { LeaderElector, leaderTimingProblem } from "../../controller/src/kube/leader-election.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, synced, type Instance } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
const LEASE = /\/leases(\/apa-controller)?$/;
const settle = () => new Promise((r) => setTimeout(r, 15));

describe("leader election (Lease) with two controller instances", () => {
  it("exactly one acts; after the leader is killed mid-cycle the other takes over within 15 s without a replica change", async (t) => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    fake.put("servingendpoints", servingEndpointObj("ep-fraud", "fraud"));
    fake.put("deployments", deploymentObj("ep-fraud", "fraud", 2, { [L]: "fraud" }));
    fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2"]));
    gw.set("gw-a", "fraud", 40, 0, 100);

    const electors: Record<string, LeaderElector> = {};
    const instances: Record<string, Instance> = {};
    for (const id of ["ctl-a", "ctl-b"]) {
      const inst = makeInstance({ fake, clock, gateway: gw, token: id, isLeader: () => electors[id]?.isLeader() ?? false });
      instances[id] = inst;
      electors[id] = new LeaderElector(
        inst.api,
        { namespace: "autopilot-system", leaseName: "apa-controller", identity: id, leaseDurationMs: 10_000, renewDeadlineMs: 8000, retryPeriodMs: 2000 },
        clock,
        silentLogger,
        { onStoppedLeading: () => inst.controller.resetMemory() },
      );
    }
    const a = instances["ctl-a"] as Instance;
    const b = instances["ctl-b"] as Instance;
    const ea = electors["ctl-a"] as LeaderElector;
    const eb = electors["ctl-b"] as LeaderElector;
    await synced(a, b);
    ea.start();
    await settle();
    eb.start();
    try {
      const tick = async (live: Instance[]) => {
        await clock.advance(1000);
        gw.tick(1);
        await settle();
        for (const i of live) await i.controller.runCycle(clock.nowMs());
      };
      for (let s = 0; s < 40; s++) await tick([a, b]);
      assert.equal(ea.isLeader(), true);
      assert.equal(eb.isLeader(), false);
      const writesBy = (token: string, from = 0) =>
        fake.requests.slice(from).filter((r) => r.token === token && r.method !== "GET" && !LEASE.test(r.path));
      assert.ok(writesBy("ctl-a").length > 0, "the leader acts (scale/status/events)");
      assert.deepEqual(writesBy("ctl-b"), [], "the non-leader never writes");
      assert.ok(
        fake.requests.filter((r) => r.token === "ctl-b" && r.method !== "GET").every((r) => r.method === "POST" && LEASE.test(r.path)),
        "the non-leader's only non-read request is the initial (refused) Lease create",
      );

      // Kill the leader mid-cycle: its cycle is in flight when the process dies (every later call fails).
      const replicasBefore = fake.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"];
      const targetBefore = fake.get("servingendpoints", "ep-fraud", "fraud")?.status?.["targetConcurrency"];
      await clock.advance(1000);
      const inFlight = a.controller.runCycle(clock.nowMs());
      a.kill();
      await ea.stop(false);
      await inFlight;
      const killedAt = clock.nowMs();
      const mark = fake.requests.length;
      let tookOverAfterMs: number | undefined;
      for (let s = 0; s < 20 && tookOverAfterMs === undefined; s++) {
        await tick([b]);
        if (eb.isLeader()) tookOverAfterMs = clock.nowMs() - killedAt;
      }
      assert.ok(tookOverAfterMs !== undefined && tookOverAfterMs <= 15_000, `failover within 15 s (took ${tookOverAfterMs} ms)`);
      t.diagnostic(`failover took ${tookOverAfterMs} ms of controller time`);
      const lease = fake.get("leases", "autopilot-system", "apa-controller")?.spec as Record<string, unknown>;
      assert.deepEqual({ holder: lease["holderIdentity"], transitions: lease["leaseTransitions"] }, { holder: "ctl-b", transitions: 1 });

      for (let s = 0; s < 30; s++) await tick([b]);
      assert.deepEqual(
        fake.requests.slice(mark).filter((r) => r.method === "PATCH" && /\/scale$/.test(r.path)),
        [],
        "no scale action by the new leader under unchanged load",
      );
      assert.equal(fake.get("deployments", "ep-fraud", "fraud")?.spec?.["replicas"], replicasBefore);
      assert.equal(fake.get("servingendpoints", "ep-fraud", "fraud")?.status?.["targetConcurrency"], targetBefore);
      assert.ok(writesBy("ctl-b", mark).length > 0, "the new leader acts (status writes)");
    } finally {
      await eb.stop(true);
      await ea.stop(false);
      await a.controller.stop();
      await b.controller.stop();
      await fake.stop();
    }
  });
});

describe("leader election timing (monotonic clock, renew deadline)", () => {
  const cfg = { namespace: "autopilot-system", leaseName: "apa-controller", identity: "ctl-a", leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 };

  it("a wall clock stepping backwards does not extend leadership: renewals failing → not leader after the renew deadline", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    try {
      const clock = new ManualClock(1_800_000_000_000);
      const e = new LeaderElector(makeKubeApi(kubeConfigForUrl(fake.url)), cfg, clock, silentLogger);
      assert.equal(await e.tryAcquireOrRenew(), true);
      assert.equal(e.isLeader(), true);
      fake.faults.push({ path: /leases/, status: 500, times: 1000 });
      clock.stepWall(-60_000);
      for (let s = 0; s < 5; s++) {
        await clock.advance(2000);
        assert.equal(await e.tryAcquireOrRenew(), false);
      }
      assert.equal(e.isLeader(), false, "10 s of failed renewals end leadership whatever the wall clock says");
    } finally {
      await fake.stop();
    }
  });

  it("a renewal that hangs counts as failed at the renew deadline", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    try {
      const clock = new ManualClock(1_800_000_000_000);
      const e = new LeaderElector(makeKubeApi(kubeConfigForUrl(fake.url)), cfg, clock, silentLogger);
      assert.equal(await e.tryAcquireOrRenew(), true);
      await clock.advance(6000);
      fake.faults.push({ path: /leases/, delayMs: 5000, times: 1 });
      const started = performance.now();
      const attempt = e.tryAcquireOrRenew();
      await new Promise((r) => setTimeout(r, 50));
      await clock.advance(4000); // the 10 s renew deadline passes while the read hangs
      assert.equal(await attempt, false);
      assert.ok(performance.now() - started < 4000, "did not wait for the hung request");
      assert.equal(e.isLeader(), false);
    } finally {
      await fake.stop();
    }
  });

  it("refuses timings outside lease > renew > 1.2 × retry", () => {
    assert.equal(leaderTimingProblem(cfg), undefined);
    assert.match(leaderTimingProblem({ ...cfg, renewDeadlineMs: 15_000 }) ?? "", /lease duration 15000 ms must be greater than the renew deadline 15000 ms/);
    assert.match(leaderTimingProblem({ ...cfg, retryPeriodMs: 20_000, renewDeadlineMs: 8000 }) ?? "", /renew deadline 8000 ms must be greater than 1.2 × the retry period 20000 ms/);
    assert.throws(() => new LeaderElector({} as never, { ...cfg, retryPeriodMs: 9000 }, new ManualClock(), silentLogger), /leader election: renew deadline/);
  });
});
