import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import {
  GatewayMetricsTracker, parseBackendPage, parseGatewayPage, sampleFromReadings, sumReplicaSamples, type BackendStats,
} from "../../controller/src/gateway/metrics-reader.ts";

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/haproxy/${name}`, import.meta.url), "utf8");

test("real HAProxy 2.6 page under load: in-flight excludes the queue", () => {
  const stats = parseBackendPage(fixture("backend-scope-under-load.prom"));
  const ep1 = stats.get("be_ep1");
  assert.ok(ep1);
  assert.equal(ep1.currentSessions, 4);
  assert.equal(ep1.currentQueue, 3);
  const s = sampleFromReadings(undefined, ep1, 1000, 1000);
  assert.equal(s.inFlight, 1);
  assert.equal(s.queued, 3);
});

test("real HAProxy 2.6 page after the burst: 429s, completions and pod 5xx are told apart", () => {
  const stats = parseBackendPage(fixture("backend-scope-after.prom"));
  const ep1 = stats.get("be_ep1");
  const ep2 = stats.get("be_ep2");
  assert.ok(ep1 && ep2);
  const zero: BackendStats = { ...ep1, requestsTotal: 0, responsesTotal: 0, responses5xxTotal: 0, responses4xxTotal: 0, deniedTotal: 0, connectionErrorsTotal: 0 };
  const s = sampleFromReadings(zero, ep1, 2000, 1000);
  assert.deepEqual(
    { arrivals: s.arrivals, rejections: s.rejections, completions: s.completions, errors: s.errors },
    { arrivals: 9, rejections: 6, completions: 3, errors: 1 },
  );
  assert.equal(ep2.requestsTotal, 3);
  assert.equal(ep2.responsesTotal, 3);
  assert.equal(ep1.activeServers, 1);
});

test("sampleFromReadings: named cases", () => {
  const base: BackendStats = {
    proxy: "be_a", currentSessions: 10, currentQueue: 4, requestsTotal: 100, responsesTotal: 90,
    responses5xxTotal: 2, deniedTotal: 5, connectionErrorsTotal: 1, queueTimeAvgMs: 20, totalTimeAvgMs: 70, activeServers: 3,
  };
  const cases: { name: string; prev: BackendStats | undefined; cur: BackendStats; want: Record<string, number | undefined> }[] = [
    {
      name: "no previous reading: gauges only, no rates",
      prev: undefined, cur: base,
      want: { inFlight: 6, queued: 4, arrivals: 0, completions: 0, rejections: 0, serviceTimeMs: undefined, queueTimeMs: undefined },
    },
    {
      name: "ordinary interval",
      prev: base,
      cur: { ...base, requestsTotal: 150, responsesTotal: 135, deniedTotal: 8, connectionErrorsTotal: 2, responses5xxTotal: 3 },
      // No instant in-flight ÷ completions estimate: times come only from the per-request section.
      want: { inFlight: 6, queued: 4, arrivals: 50, completions: 41, rejections: 4, errors: 1, serviceTimeMs: undefined, queueTimeMs: undefined },
    },
    {
      name: "HAProxy restarted: counters fell, so the new values are the increase",
      prev: base,
      cur: { ...base, requestsTotal: 7, responsesTotal: 6, deniedTotal: 0, connectionErrorsTotal: 0, responses5xxTotal: 0 },
      want: { arrivals: 7, completions: 6, rejections: 0, errors: 0 },
    },
    {
      name: "sessions below queue (racy read) never gives negative in-flight",
      prev: undefined, cur: { ...base, currentSessions: 2, currentQueue: 3 },
      want: { inFlight: 0, queued: 3 },
    },
  ];
  for (const c of cases) {
    const got = sampleFromReadings(c.prev, c.cur, 5000, 1000) as unknown as Record<string, number | undefined>;
    for (const [k, v] of Object.entries(c.want)) assert.equal(got[k], v, `${c.name}: ${k}`);
  }
});

test("sumReplicaSamples adds counts and weights time averages by completions", () => {
  const got = sumReplicaSamples([
    { atMs: 1, inFlight: 3, queued: 1, arrivals: 10, completions: 9, rejections: 1, errors: 0, serviceTimeMs: 10, queueTimeMs: 0 },
    { atMs: 1, inFlight: 5, queued: 0, arrivals: 30, completions: 27, rejections: 3, errors: 1, serviceTimeMs: 30, queueTimeMs: 4 },
  ], 1000);
  assert.ok(got);
  assert.equal(got.inFlight, 8);
  assert.equal(got.queued, 1);
  assert.equal(got.arrivals, 40);
  assert.equal(got.rejections, 4);
  assert.equal(got.errors, 1);
  assert.equal(got.serviceTimeMs, (9 * 10 + 27 * 30) / 36);
  assert.equal(got.queueTimeMs, (27 * 4) / 36);
  assert.equal(sumReplicaSamples([], 0), undefined);
});

test("tracker sums gateway replicas and drops a replica whose reading is stale", () => {
  const page = (proxy: string, sessions: number, queue: number, requests: number): string =>
    `haproxy_backend_current_sessions{proxy="${proxy}"} ${sessions}\n` +
    `haproxy_backend_current_queue{proxy="${proxy}"} ${queue}\n` +
    `haproxy_backend_sessions_total{proxy="${proxy}"} ${requests}\n`;
  const t = new GatewayMetricsTracker();
  t.ingestPage("gw-a", page("be_ep", 4, 1, 100) + page("stats", 1, 0, 5), 0);
  t.ingestPage("gw-b", page("be_ep", 6, 0, 200), 0);
  t.ingestPage("gw-a", page("be_ep", 5, 2, 130), 1000);
  t.ingestPage("gw-b", page("be_ep", 6, 0, 260), 1000);
  const both = t.samples(1000, 2500).get("ep");
  assert.ok(both);
  assert.deepEqual([both.sample.inFlight, both.sample.queued, both.sample.arrivals], [9, 2, 90]);
  assert.deepEqual([both.reportingReplicas, both.knownReplicas], [2, 2]);
  assert.equal(t.samples(1000, 2500).has("stats"), false, "non-endpoint backends are ignored");
  t.ingestPage("gw-a", page("be_ep", 5, 2, 160), 4000);
  const one = t.samples(4000, 2500).get("ep");
  assert.ok(one);
  assert.deepEqual([one.reportingReplicas, one.knownReplicas], [1, 2]);
  assert.equal(one.sample.arrivals, 30);
});

/** Reference path: the maintained parser alone, summed the same way. */
function viaLibrary(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const names: Record<string, string> = {
    haproxy_backend_current_sessions: "currentSessions", haproxy_backend_current_queue: "currentQueue",
    haproxy_backend_sessions_total: "requestsTotal", haproxy_backend_http_responses_total: "responsesTotal",
  };
  for (const fam of parsePrometheusTextFormat(text)) {
    const key = names[fam.name];
    if (key === undefined) continue;
    for (const m of fam.metrics) {
      const proxy = m.labels?.["proxy"];
      if (proxy === undefined) continue;
      const row = out.get(proxy) ?? {};
      row[key] = (key === "responsesTotal" ? row[key] ?? 0 : 0) + Number(m.value);
      out.set(proxy, row);
    }
  }
  return out;
}

test("scanner agrees with the maintained parser, including escaped label values (property)", () => {
  const proxyName = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/),
    fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes("\n")),
  );
  const escape = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  fc.assert(fc.property(
    fc.uniqueArray(proxyName, { minLength: 1, maxLength: 6 }),
    fc.array(fc.nat({ max: 1_000_000 }), { minLength: 40, maxLength: 40 }),
    (proxies, values) => {
      let text = "# HELP haproxy_backend_current_sessions Current sessions\n# TYPE haproxy_backend_current_sessions gauge\n";
      proxies.forEach((p, i) => { text += `haproxy_backend_current_sessions{proxy="${escape(p)}"} ${values[i] ?? 0}\n`; });
      text += "# TYPE haproxy_backend_current_queue gauge\n";
      proxies.forEach((p, i) => { text += `haproxy_backend_current_queue{proxy="${escape(p)}"} ${values[i + 6] ?? 0}\n`; });
      text += "# TYPE haproxy_backend_sessions_total counter\n";
      proxies.forEach((p, i) => { text += `haproxy_backend_sessions_total{proxy="${escape(p)}"} ${values[i + 12] ?? 0}\n`; });
      text += "# TYPE haproxy_backend_http_responses_total counter\n";
      proxies.forEach((p, i) => {
        ["2xx", "5xx"].forEach((code, j) => {
          text += `haproxy_backend_http_responses_total{proxy="${escape(p)}",code="${code}"} ${values[i + 18 + j * 6] ?? 0}\n`;
        });
      });
      const want = viaLibrary(text);
      const got = parseBackendPage(text);
      assert.equal(got.size, want.size);
      for (const [proxy, row] of want) {
        const g = got.get(proxy);
        assert.ok(g, `missing ${JSON.stringify(proxy)}`);
        for (const [k, v] of Object.entries(row)) assert.equal((g as unknown as Record<string, number>)[k], v, `${proxy} ${k}`);
      }
    },
  ), { numRuns: 200 });
});

test("tracker with one replica per endpoint gives what summing that one sample gives, stamped with the query time", () => {
  const csv = readFileSync(new URL("../fixtures/haproxy/show-stat-after.csv", import.meta.url), "utf8");
  const before = readFileSync(new URL("../fixtures/haproxy/show-stat-under-load.csv", import.meta.url), "utf8");
  const t = new GatewayMetricsTracker();
  t.ingestPage("gw", before, 1000);
  t.ingestPage("gw", csv, 2000);
  const got = t.samples(2500, 5000).get("ep1");
  const prev = parseGatewayPage(before).get("be_ep1");
  const cur = parseGatewayPage(csv).get("be_ep1");
  assert.ok(got && cur);
  const want = sumReplicaSamples([sampleFromReadings(prev, cur, 2000, 1000)], 2500);
  assert.deepEqual(got, { sample: want, reportingReplicas: 1, knownReplicas: 1 });
  assert.equal(got.sample.atMs, 2500);
});
