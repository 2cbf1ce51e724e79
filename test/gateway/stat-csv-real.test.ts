/**
 * The `show stat` CSV path on real HAProxy 2.6: the runtime socket's `show stat -1 2 -1` and the exporter's
 * `/metrics?scope=backend` give the same counters (under load at a moment when nothing moves, and exactly once
 * quiesced), and the gateway agent's `GET /stats` serves the CSV (503 when HAProxy is not up).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { Registry } from "prom-client";
import { GatewayMetricsTracker, parseBackendPage, type BackendStats } from "../../controller/src/gateway/metrics-reader.ts";
import { SocketRuntimeApi } from "../../controller/src/gateway/runtime-api.ts";
import { parseStatCsv, SHOW_BACKEND_STATS } from "../../controller/src/gateway/stat-csv.ts";
import { backendStatsAnswer } from "../../controller/src/gateway/stats-route.ts";
import { startHealthServer } from "../../controller/src/kube/health-server.ts";
import { call, endpoint, hookBody, load, startGateway, until, type Gateway } from "./harness.ts";

/** Everything both formats must agree on (their time averages differ by design in 2.6.12, see backend-stats.ts). */
function counters(m: Map<string, BackendStats>): Record<string, Omit<BackendStats, "queueTimeAvgMs" | "totalTimeAvgMs">> {
  const out: Record<string, Omit<BackendStats, "queueTimeAvgMs" | "totalTimeAvgMs">> = {};
  for (const [proxy, s] of [...m].sort(([a], [b]) => a.localeCompare(b))) {
    const { queueTimeAvgMs: _q, totalTimeAvgMs: _t, ...rest } = s;
    out[proxy] = rest;
  }
  return out;
}

const checks = { healthy: () => undefined, ready: () => undefined };

describe("show stat CSV on real HAProxy", () => {
  let gw: Gateway;
  const P = "/serving-endpoints/ep/invocations";
  const promex = async (): Promise<string> => (await call(gw.metricsPort, "/metrics?scope=backend", { method: "GET", key: null })).body;
  const csv = (): Promise<string> => gw.api.send(SHOW_BACKEND_STATS);
  before(async () => {
    gw = await startGateway({ endpoints: [endpoint("ep", { targetConcurrency: 2, maxQueue: 3, queueTimeoutMs: 400 }), endpoint("other")] });
    await gw.addPod("ep");
    await gw.addPod("ep");
    await gw.addPod("other");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  it("both formats give the same counters under load (queue full) and exactly once quiesced", async () => {
    const before = parseStatCsv(await csv());
    // Closed-loop load on both endpoints for 600 ms, then a burst with a full queue, timeouts, denials and 5xx.
    const l = load(gw.publicPort, "/serving-endpoints/other/invocations", 4, () => hookBody({ sleep_ms: 5 }));
    await new Promise((r) => setTimeout(r, 600));
    await l.stop();
    const burst = Array.from({ length: 10 }, () => call(gw.publicPort, P, { body: hookBody({ sleep_ms: 700 }) }));
    // 4 running (2 pods × maxconn 2) and 3 queued hold still until the queue timeout (400 ms): read both pages
    // one after the other until they agree while the queue is full.
    let seen = "";
    assert.ok(await until(async () => {
      const [c, p] = [parseStatCsv(await csv()), parseBackendPage(await promex())];
      seen = JSON.stringify({ csv: c.get("be_ep"), promex: p.get("be_ep") });
      return c.get("be_ep")?.currentQueue === 3 && JSON.stringify(counters(c)) === JSON.stringify(counters(p));
    }, 350, 5), `CSV and promex agree while 3 are queued; last reading ${seen}`);
    const statuses = (await Promise.all(burst)).map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    for (const status of [500, 503]) assert.equal((await call(gw.publicPort, P, { body: hookBody({ status }) })).status, status);

    // Quiesced: nothing in flight, so nothing can move between the two reads.
    const c = parseStatCsv(await csv());
    const p = parseBackendPage(await promex());
    assert.deepEqual(counters(c), counters(p));
    assert.deepEqual(Object.keys(counters(c)), ["be_ep", "be_other"]);
    assert.ok((c.get("be_other")?.requestsTotal ?? 0) > 20, `load reached the other endpoint: ${c.get("be_other")?.requestsTotal}`);
    // And the samples the controller builds from the CSV are the scenario's.
    const t = new GatewayMetricsTracker();
    t.ingest("gw", before, 0);
    t.ingest("gw", c, 1000);
    const s = t.samples(1000, 5000).get("ep")?.sample;
    assert.deepEqual(
      { arrivals: s?.arrivals, completions: s?.completions, rejections: s?.rejections, errors: s?.errors, inFlight: s?.inFlight, queued: s?.queued },
      { arrivals: 12, completions: 6, rejections: 6, errors: 2, inFlight: 0, queued: 0 },
    );
  });

  it("the agent's GET /stats serves the CSV from the runtime socket", async () => {
    const health = await startHealthServer(0, checks, new Registry(), { "/stats": () => backendStatsAnswer(gw.api) });
    try {
      const r = await call(health.port, "/stats", { method: "GET", key: null });
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "text/csv; charset=utf-8");
      assert.ok(r.body.startsWith("# pxname,svname,qcur,"), r.body.slice(0, 80));
      assert.deepEqual(Object.keys(counters(parseStatCsv(r.body))), ["be_ep", "be_other"]);
      // The tracker takes the page as it comes (format told by content).
      const t = new GatewayMetricsTracker();
      t.ingestPage("gw", r.body, 0);
      assert.equal(t.samples(0, 5000).get("ep")?.sample.inFlight, 0);
      assert.equal((await call(health.port, "/nope", { method: "GET", key: null })).status, 404);
    } finally {
      health.server.close();
    }
  });
});

describe("GET /stats when HAProxy is not up", () => {
  it("answers 503 naming the reason: no socket, then a stopped HAProxy", async () => {
    const gw = await startGateway({ endpoints: [endpoint("ep")] });
    const missing = new SocketRuntimeApi(join(gw.dir, "no-such.sock"), 1000);
    const health = await startHealthServer(0, checks, new Registry(), {
      "/stats": () => backendStatsAnswer(gw.api),
      "/stats-missing": () => backendStatsAnswer(missing),
    });
    try {
      const none = await call(health.port, "/stats-missing", { method: "GET", key: null });
      assert.equal(none.status, 503);
      assert.match(none.body, /^HAProxy is not up: its runtime API did not answer "show stat -1 2 -1" \(connect ENOENT .*no-such\.sock\)\n$/);
      assert.equal((await call(health.port, "/stats", { method: "GET", key: null })).status, 200);
      await gw.agent.stop();
      await gw.haproxy.stop();
      const stopped = await call(health.port, "/stats", { method: "GET", key: null });
      assert.equal(stopped.status, 503);
      assert.match(stopped.body, /^HAProxy is not up: its runtime API did not answer "show stat -1 2 -1" \(connect (ECONNREFUSED|ENOENT) /);
    } finally {
      health.server.close();
      await gw.stop();
    }
  });

  it("answers 503 with HAProxy's text when the answer is not the CSV", async () => {
    const a = await backendStatsAnswer({ send: async () => "Unknown command: 'show stat -1 2 -1'\n" });
    assert.deepEqual(a, {
      status: 503, contentType: "text/plain",
      body: `HAProxy answered "show stat -1 2 -1" without the CSV header: "Unknown command: 'show stat -1 2 -1'\\n"\n`,
    });
  });
});
