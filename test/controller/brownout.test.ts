/**
 * API-server brownout at 10,000 endpoints (real client-node against the FakeApiServer test double, manual
 * clock, 5 s cycles): every write answered 429 (patches) or 503 (creates) for 60 s of controller time. The
 * write rate stays within the token bucket the whole time, and once the API server recovers every endpoint's
 * status and every scale decision is written: nothing is lost.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderStatCsvPage } from "../../bench/controller/stat-csv-page.ts";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { loadConfig } from "../../controller/src/kube/config.ts";
import { ApaController } from "../../controller/src/kube/controller.ts";
import { GatewayScraper } from "../../controller/src/kube/gateway-scraper.ts";
import { kubeConfigForUrl, makeKubeApi } from "../../controller/src/kube/kube-api.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { makeControllerMetrics } from "../../controller/src/kube/own-metrics.ts";
import { defaultWarmPoolConfig } from "../../controller/src/kube/warm-pool.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { waitFor } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
/** Endpoints: 10,000 for the acceptance run (`APA_BROWNOUT_ENDPOINTS=10000`); 2,000 by default in `npm test`. */
const N = Number(process.env["APA_BROWNOUT_ENDPOINTS"] ?? 2000);
const HOT = 50;
const QPS = 20;
const BURST = 100;
/** Cycles of 5 s (the controller's --sample-interval-ms): 60 s of brownout is 12 cycles. */
const CYCLE_MS = 5000;

describe(`API-server brownout at ${N} endpoints`, () => {
  it("429/503 for 60 s: writes stay within the token bucket; afterwards every status and scale is written", { timeout: 3_000_000 }, async () => {
    const fake = new FakeApiServer();
    await fake.start();
    for (let i = 0; i < N; i++) {
      const ns = `ns-${i}`;
      fake.put("servingendpoints", {
        apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", metadata: { name: `ep-${i}`, namespace: ns },
        spec: { model: { uri: "s3://m/x/1", flavor: "sklearn" }, runtime: { kind: "auto" }, computePool: "cpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 20 }, provisionedConcurrency: 0, scaleToZero: false },
      });
      const l = { [L]: `ep-${i}` };
      fake.put("deployments", { metadata: { name: `ep-${i}`, namespace: ns, labels: l }, spec: { replicas: 2, selector: { matchLabels: l }, template: { metadata: { labels: l }, spec: { containers: [{ name: "m", image: "m" }] } } }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 } });
      fake.put("endpointslices", { metadata: { name: `ep-${i}-x`, namespace: ns, labels: l }, addressType: "IPv4", endpoints: [{ addresses: [`10.1.${i % 250}.1`], conditions: { ready: true } }, { addresses: [`10.1.${i % 250}.2`], conditions: { ready: true } }] });
    }
    const clock = new ManualClock(1_800_000_000_000);
    let requests = 0;
    const page = (): string =>
      renderStatCsvPage(Array.from({ length: N }, (_, i) => {
        const inFlight = i < HOT ? 40 : 2;
        const total = Math.round(requests * inFlight * 10);
        return { proxy: `be_ep-${i}`, currentSessions: inFlight, currentQueue: 0, requestsTotal: total, responses2xxTotal: total, totalTimeAvgS: 0.1, queueTimeAvgS: 0 };
      }));
    const config = loadConfig(["--gateway-url", "http://gw/stats", "--kube-api-qps", String(QPS), "--kube-api-burst", String(BURST), "--sample-interval-ms", String(CYCLE_MS)], {}, { hostname: "t" });
    const controller = new ApaController({
      api: makeKubeApi(kubeConfigForUrl(fake.url)),
      clock,
      log: silentLogger,
      metrics: makeControllerMetrics({ defaultMetrics: false }),
      config,
      scraper: new GatewayScraper({ targets: () => [{ id: "gw", url: "http://gw/stats" }], fetchText: async () => page(), timeoutMs: 1000, graceMs: 10_000, log: silentLogger }),
      isLeader: () => true,
      warmPool: defaultWarmPoolConfig,
      delayFn: async () => {},
    });
    controller.startCaches();
    try {
      await waitFor(() => controller.synced, 120_000, "caches synced");
      const writes = (): number => fake.requests.filter((r) => r.method !== "GET").length;
      const perSecond: number[] = [];
      const tick = async (): Promise<void> => {
        const before = writes();
        await clock.advance(CYCLE_MS);
        requests += CYCLE_MS / 1000;
        await controller.runCycle(clock.nowMs());
        perSecond.push(writes() - before);
      };
      // Brownout from the start: every endpoint's first status write, and the hot endpoints' scale-ups, hit it.
      const patch429 = { method: "PATCH", status: 429, times: 1_000_000 };
      const post503 = { method: "POST", status: 503, times: 1_000_000 };
      fake.faults.push(patch429, post503);
      for (let s = 0; s < 60_000 / CYCLE_MS; s++) await tick();
      patch429.times = 0;
      post503.times = 0;
      const during = perSecond.slice();
      const rejected = fake.requests.filter((r) => r.faultStatus !== undefined).length;
      assert.ok(rejected > 0, "the brownout was hit");
      assert.ok(Math.max(...during) <= BURST, `at most a burst in any cycle (max ${Math.max(...during)})`);
      assert.ok(during.reduce((a, b) => a + b, 0) <= QPS * 60 + BURST, `within the bucket over the brownout (${during.reduce((a, b) => a + b, 0)} writes)`);
      // Recovery: the backlog drains at the write limit; nothing is lost.
      // Drain time at the write limit, plus the longest scale backoff the brownout built up (64 s).
      const limit = Math.ceil(N / (QPS * (CYCLE_MS / 1000))) + 30;
      const hotScaled = (): number => Array.from({ length: HOT }, (_, i) => Number(fake.get("deployments", `ns-${i}`, `ep-${i}`)?.spec?.["replicas"])).filter((r) => r > 2).length;
      for (let s = 0; s < limit && (controller.queue.size > 0 || hotScaled() < HOT); s++) await tick();
      assert.equal(controller.queue.size, 0, "no write left pending");
      const after = perSecond.slice(during.length);
      assert.ok(Math.max(...after) <= BURST, "recovery stays within the bucket too");
      let withStatus = 0;
      for (const se of fake.list("servingendpoints")) if ((se.status as { conditions?: unknown[] } | undefined)?.conditions?.length) withStatus += 1;
      assert.equal(withStatus, N, "every endpoint's status was written");
      assert.equal(hotScaled(), HOT, "every hot endpoint's scale-up was applied");
      const coldScaled = fake.requests.filter((r) => r.method === "PATCH" && /\/scale$/.test(r.path) && !/ns-(\d{1,2})\//.test(r.path) && r.faultStatus === undefined).length;
      assert.ok(coldScaled <= N, "cold endpoints were written at most once each");
    } finally {
      await controller.stop();
      await fake.stop();
    }
  });
});
