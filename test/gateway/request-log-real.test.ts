/**
 * The per-request log stream on real HAProxy 2.6: the rendered config sends one line per request over UDP to
 * the agent's reader; the observer folds it into per-endpoint counters and Prometheus metrics; the `/stats`
 * answer carries them; the controller's tracker turns two readings into sample fields.
 */
import assert from "node:assert/strict";
import { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { GatewayMetricsTracker } from "../../controller/src/gateway/metrics-reader.ts";
import { errorReason, timingOf, type RequestRecord } from "../../controller/src/gateway/request-log.ts";
import { startRequestLogReader, type RequestLogReader } from "../../controller/src/gateway/request-log-reader.ts";
import { RequestObserver } from "../../controller/src/gateway/request-observer.ts";
import { formatRequestSection } from "../../controller/src/gateway/request-stats-wire.ts";
import { agentLogTarget } from "../../controller/src/gateway/render-observe.ts";
import { backendStatsAnswer } from "../../controller/src/gateway/stats-route.ts";
import { call, endpoint, hookBody, startGateway, until, type Gateway } from "./harness.ts";

describe("per-request log stream on real HAProxy", () => {
  let gw: Gateway;
  let reader: RequestLogReader;
  const records: RequestRecord[] = [];
  const registry = new Registry();
  let observer: RequestObserver;
  const P = (ep: string): string => `/serving-endpoints/${ep}/invocations`;
  const byRid = async (rid: string): Promise<RequestRecord> => {
    assert.ok(await until(() => records.some((r) => r.requestId === rid), 3000), `no record for ${rid}`);
    return records.find((r) => r.requestId === rid)!;
  };
  const page = async (): Promise<string> => {
    const a = await backendStatsAnswer(gw.api, () => formatRequestSection(observer.counters()));
    assert.equal(a.status, 200);
    return a.body;
  };

  before(async () => {
    const endpoints = [
      endpoint("ep", { targetConcurrency: 1, maxQueue: 2, queueTimeoutMs: 300, modelTimeoutMs: 600, latencyObjectiveMs: 150 }),
      endpoint("empty"),
    ];
    observer = new RequestObserver({
      registry,
      endpointObjective: (name) => {
        const e = endpoints.find((x) => x.name === name);
        return { known: e !== undefined, objectiveMs: e?.latencyObjectiveMs };
      },
      versionOf: () => "v1",
    });
    reader = await startRequestLogReader({ onRecord: (r) => { records.push(r); observer.ingest(r); } });
    gw = await startGateway({ endpoints, settings: { logTarget: agentLogTarget(reader.port) } });
    await gw.addPod("ep");
    await gw.agent.cycle();
  });
  after(async () => {
    await gw.stop();
    await reader.close();
  });

  it("a served request: its timers add up, service time = connect + response + transfer", async () => {
    await call(gw.publicPort, P("ep"), { body: hookBody({ sleep_ms: 80 }), headers: { "x-request-id": "served-1" } });
    const r = await byRid("served-1");
    assert.equal(r.endpoint, "ep");
    assert.equal(r.route, "invocations");
    assert.equal(r.status, 200);
    assert.match(r.server ?? "", /^pod\d$/);
    assert.equal(r.activeMs, r.requestMs + r.queueMs + r.connectMs + r.responseMs + r.transferMs, JSON.stringify(r));
    const t = timingOf(r);
    assert.ok(t.serviceMs! >= 80 && t.serviceMs! < 400, `service ${t.serviceMs} ms for an 80 ms model`);
    assert.ok(Math.abs(r.acceptedAtMs - Date.now()) < 5000, "accept time is epoch ms");
  });

  it("a slow upload's wait is request time, not service time", async () => {
    const body = hookBody({ sleep_ms: 10 });
    await new Promise<void>((resolve, reject) => {
      const s = new Socket();
      s.connect(gw.publicPort, "127.0.0.1", () => {
        s.write(`POST ${P("ep")} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer test-key-iris\r\ncontent-type: application/json\r\nx-request-id: slow-1\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
        setTimeout(() => s.write(body.slice(5)), 300);
      });
      s.on("data", () => { s.destroy(); resolve(); });
      s.on("error", reject);
    });
    const r = await byRid("slow-1");
    assert.ok(r.requestMs >= 250, `TR ${r.requestMs} includes the body wait`);
    assert.ok(timingOf(r).serviceMs! < 250, `service ${timingOf(r).serviceMs} excludes it`);
  });

  it("429s and 5xx carry their reason", async () => {
    // One pod at maxconn 1, queue bound 2, queue timeout 300 ms: 1 served, 2 queued (1 times out), the rest refused.
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      call(gw.publicPort, P("ep"), { body: hookBody({ sleep_ms: 250 }), headers: { "x-request-id": `burst-${i}` } })));
    const statuses = burst.map((b) => b.status);
    assert.ok(statuses.includes(429), statuses.join(","));
    for (const [status, rid] of [[500, "pod500"], [503, "pod503"]] as const) {
      assert.equal((await call(gw.publicPort, P("ep"), { body: hookBody({ status }), headers: { "x-request-id": rid } })).status, status);
    }
    assert.equal((await call(gw.publicPort, P("ep"), { body: hookBody({ sleep_ms: 900 }), headers: { "x-request-id": "slow-pod" } })).status, 504);
    assert.equal((await call(gw.publicPort, P("empty"), { headers: { "x-request-id": "nopod" } })).status, 503);
    assert.equal((await call(gw.publicPort, P("ep"), { key: "wrong", headers: { "x-request-id": "badkey" } })).status, 401);
    const reasons = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const r = await byRid(`burst-${i}`);
      assert.equal(r.status, statuses[i]);
      const why = errorReason(r) ?? "ok";
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    assert.ok((reasons.get("queue_full") ?? 0) >= 1, JSON.stringify([...reasons]));
    assert.ok((reasons.get("queue_timeout") ?? 0) >= 1, JSON.stringify([...reasons]));
    assert.equal((reasons.get("queue_full") ?? 0) + (reasons.get("queue_timeout") ?? 0), statuses.filter((s) => s === 429).length);
    assert.equal(errorReason(await byRid("pod500")), "pod_status");
    assert.equal(errorReason(await byRid("pod503")), "pod_status");
    assert.equal(errorReason(await byRid("slow-pod")), "pod_timeout");
    assert.equal(errorReason(await byRid("nopod")), "no_ready_pod");
    assert.equal(errorReason(await byRid("badkey")), undefined, "a 401 is not a 429 or 5xx");
    const text = await registry.metrics();
    assert.match(text, /autopilot_gateway_request_errors_total\{endpoint="ep",version="none",code="429",reason="queue_full"\} \d+/);
    assert.match(text, /autopilot_gateway_request_errors_total\{endpoint="ep",version="v1",code="504",reason="pod_timeout"\} 1/);
    assert.match(text, /autopilot_gateway_requests_total\{endpoint="ep",version="none",code="401"\} 1/);
    assert.match(text, /autopilot_gateway_request_duration_seconds_bucket\{le="0.25",endpoint="ep",version="v1"\} \d+/);
  });

  it("/stats → tracker: every 1 s sample of a 100 ms model at 5 req/s reads ~100 ms, never 0; over-objective counted", async () => {
    const tracker = new GatewayMetricsTracker();
    tracker.ingestPage("gw-0", await page(), 0);
    const fields = [];
    for (let second = 1; second <= 3; second++) {
      const sent = [];
      for (let i = 0; i < 5; i++) {
        sent.push(call(gw.publicPort, P("ep"), { body: hookBody({ sleep_ms: i === 4 ? 170 : 100 }) }));
        await new Promise((r) => setTimeout(r, 200));
      }
      await Promise.all(sent);
      const done = observer.records;
      await until(() => observer.records >= done, 500);
      await new Promise((r) => setTimeout(r, 50));
      tracker.ingestPage("gw-0", await page(), second * 1000);
      const s = tracker.samples(second * 1000, 5000).get("ep")?.sample;
      assert.ok(s, "a sample");
      fields.push(s);
    }
    for (const s of fields) {
      assert.ok(s.serviceTimeMs! >= 100 && s.serviceTimeMs! < 200, `service ${s.serviceTimeMs} ms`);
      assert.ok(s.queueTimeMs! >= 0 && s.queueTimeMs! < 50, `queue ${s.queueTimeMs} ms`);
      assert.ok(s.latencyP50Ms! >= 98 && s.latencyP50Ms! <= s.latencyP99Ms!, JSON.stringify(s));
      assert.ok(s.overObjective! >= 1, `the 170 ms request is over the 150 ms objective: ${JSON.stringify(s)}`);
      assert.equal(s.completions, 5);
    }
    const empty = tracker.samples(3000, 5000).get("empty")?.sample;
    assert.equal(empty?.serviceTimeMs, undefined, "an endpoint that served nothing has no service time (not 0)");
  });
});

