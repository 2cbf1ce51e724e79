/**
 * The metrics reader against the real gateway config on real HAProxy 2.6: in-flight, queue, arrivals,
 * completions, both kinds of 429 and pod 5xx, read from `/metrics?scope=backend` by GatewayMetricsTracker.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GatewayMetricsTracker } from "../../controller/src/gateway/metrics-reader.ts";
import { agentLogTarget } from "../../controller/src/gateway/render-observe.ts";
import { startRequestLogReader } from "../../controller/src/gateway/request-log-reader.ts";
import { RequestObserver } from "../../controller/src/gateway/request-observer.ts";
import { formatRequestSection } from "../../controller/src/gateway/request-stats-wire.ts";
import { backendStatsAnswer } from "../../controller/src/gateway/stats-route.ts";
import { call, endpoint, hookBody, load, startGateway, until, type Gateway } from "./harness.ts";

describe("metrics reader on real HAProxy", () => {
  let gw: Gateway;
  const P = "/serving-endpoints/ep/invocations";
  const page = async (): Promise<string> => (await call(gw.metricsPort, "/metrics?scope=backend", { method: "GET", key: null })).body;
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("ep", { targetConcurrency: 2, maxQueue: 3, queueTimeoutMs: 400 }), endpoint("other")] });
    await gw.addPod("ep");
    await gw.addPod("ep");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  it("gauges under load: in-flight = sessions − queue; queued = backend queue", async () => {
    const tracker = new GatewayMetricsTracker();
    // 4 run (2 pods × maxconn 2), 3 wait (queue bound 3): 7 requests of 1.5 s.
    const pending = Array.from({ length: 7 }, () => call(gw.publicPort, P, { body: hookBody({ sleep_ms: 300 }) }));
    assert.ok(await until(async () => {
      tracker.ingestPage("gw-0", await page(), Date.now());
      const s = tracker.samples(Date.now(), 5000).get("ep")?.sample;
      return s?.inFlight === 4 && s.queued === 3;
    }, 2000, 5), "saw 4 in flight and 3 queued");
    await Promise.all(pending);
  });

  it("counters over an interval: arrivals, completions, queue-bound and queue-timeout 429s, pod 5xx", async () => {
    const tracker = new GatewayMetricsTracker();
    tracker.ingestPage("gw-0", await page(), 0);
    // 4 served, 3 queued then timed out at 400 ms (429), 3 refused at once by the queue bound (429).
    const burst = await Promise.all(Array.from({ length: 10 }, () => call(gw.publicPort, P, { body: hookBody({ sleep_ms: 700 }) })));
    assert.deepEqual(burst.map((r) => r.status).sort(), [200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    for (const status of [500, 503]) assert.equal((await call(gw.publicPort, P, { body: hookBody({ status }) })).status, status);
    tracker.ingestPage("gw-0", await page(), 1000);
    const s = tracker.samples(1000, 5000).get("ep")?.sample;
    assert.deepEqual(
      { arrivals: s?.arrivals, completions: s?.completions, rejections: s?.rejections, errors: s?.errors, inFlight: s?.inFlight, queued: s?.queued },
      { arrivals: 12, completions: 6, rejections: 6, errors: 2, inFlight: 0, queued: 0 },
    );
    assert.equal(s?.serviceTimeMs, undefined, "the exporter page has no per-request times: no guess from in-flight");
  });

  it("two gateway replicas are summed", async () => {
    const text = await page();
    const pending = Array.from({ length: 3 }, () => call(gw.publicPort, P, { body: hookBody({ sleep_ms: 400 }) }));
    let got: ReturnType<GatewayMetricsTracker["samples"]> extends Map<string, infer V> ? V | undefined : never;
    assert.ok(await until(async () => {
      const during = await page();
      // Same page for both "replicas": a baseline and one reading 1 s later each.
      const t = new GatewayMetricsTracker();
      for (const r of ["gw-0", "gw-1"]) {
        t.ingestPage(r, text, 0);
        t.ingestPage(r, during, 1000);
      }
      got = t.samples(1000, 5000).get("ep");
      return got?.sample.inFlight === 6;
    }, 2000, 5), `summed in-flight ${JSON.stringify(got)}`);
    assert.equal(got?.reportingReplicas, 2);
    assert.equal(got?.sample.arrivals, 6);
    await Promise.all(pending);
  });

  it("a pod dying with requests queued: retried connects are not counted as rejections", async () => {
    const tracker = new GatewayMetricsTracker();
    const dying = await gw.addPod("ep");
    await gw.agent.cycle();
    tracker.ingestPage("gw-0", await page(), 0);
    const pending = Array.from({ length: 12 }, () => call(gw.publicPort, P, { body: hookBody({ sleep_ms: 200 }) }).catch(() => ({ status: 0 })));
    await new Promise((r) => setTimeout(r, 50));
    await dying.close();
    const statuses = (await Promise.all(pending)).map((r) => r.status);
    await gw.agent.cycle();
    tracker.ingestPage("gw-0", await page(), 1000);
    const s = tracker.samples(1000, 5000).get("ep")?.sample;
    assert.equal(s?.rejections, statuses.filter((x) => x === 429).length, `client statuses ${statuses.join(",")}`);
    assert.equal(s?.arrivals, 12);
  });

  it("mean service and queue time over an interval follow the real request times (per-request log)", async () => {
    // 1 pod at maxconn 2, 4 closed-loop clients, 100 ms model: ~2 in service (100 ms), ~2 queued (~100 ms).
    const observer = new RequestObserver({ endpointObjective: (n) => ({ known: n === "one", objectiveMs: undefined }), versionOf: () => undefined });
    const reader = await startRequestLogReader({ onRecord: (r) => observer.ingest(r) });
    const solo = await startGateway({
      endpoints: [endpoint("one", { targetConcurrency: 2, maxQueue: 100, queueTimeoutMs: 5000 })],
      settings: { logTarget: agentLogTarget(reader.port) },
    });
    try {
      await solo.addPod("one");
      await solo.agent.cycle();
      const pg = async (): Promise<string> => (await backendStatsAnswer(solo.api, () => formatRequestSection(observer.counters()))).body;
      const l = load(solo.publicPort, "/serving-endpoints/one/invocations", 4, () => hookBody({ sleep_ms: 100 }));
      await new Promise((r) => setTimeout(r, 500));
      const tracker = new GatewayMetricsTracker();
      const samples = [];
      for (let i = 0; i < 8; i++) {
        tracker.ingestPage("gw", await pg(), Date.now());
        const s = tracker.samples(Date.now(), 5000).get("one")?.sample;
        if (i > 0 && s?.serviceTimeMs !== undefined) samples.push(s);
        await new Promise((r) => setTimeout(r, 250));
      }
      await l.stop();
      assert.ok(samples.length >= 5, `${samples.length} samples with a service time`);
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      const service = mean(samples.map((s) => s.serviceTimeMs as number));
      const queue = mean(samples.map((s) => s.queueTimeMs as number));
      assert.ok(service > 95 && service < 160, `service ${service.toFixed(0)} ms`);
      assert.ok(queue > 40 && queue < 160, `queue ${queue.toFixed(0)} ms`);
    } finally {
      await solo.stop();
      await reader.close();
    }
  });
});
