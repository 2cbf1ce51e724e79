/**
 * The dashboards' queries, as rendered, against series the real exporters produce, scraped every second by a real
 * Prometheus (Debian's `prometheus`) on loopback:
 * - the gateway agent's `RequestObserver` (its Prometheus registry), fed request records parsed from HAProxy log
 *   lines in known proportions, so p50/p99 per endpoint and per model version, the share over the objective, the
 *   mean queue wait and the 429s/5xx by reason have exact expected values;
 * - the controller's own gauges (`makeControllerMetrics`);
 * - a real HAProxy (Debian's, run by the agent as in the gateway tests) serving the endpoint with live requests,
 *   for the QPS, in-flight, queued and 429 panels on HAProxy's exporter.
 * Every panel's every query must return series.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it, test } from "node:test";
import { Registry } from "prom-client";
import { stringify } from "yaml";
import { DASHBOARD_METRICS, dashboardPanels } from "../../components/observability/dashboard.ts";
import { parseRequestLine } from "../../controller/src/gateway/request-log.ts";
import { RequestObserver } from "../../controller/src/gateway/request-observer.ts";
import { makeControllerMetrics } from "../../controller/src/kube/own-metrics.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { call, endpoint, startGateway, type Gateway } from "../gateway/harness.ts";

if (spawnSync("prometheus", ["--version"]).status !== 0) {
  test("prometheus is installed", () => assert.fail("prometheus is not installed: apt-get install prometheus (the README's set-up step)"));
}

/** One HAProxy request line for endpoint iris (fields of request-log.ts). */
const logLine = (o: { server?: string; status: number; tw?: number; tc: number; tr: number; term: string }): string =>
  `apgw1 ${Date.now()} 0 0 r-1 iris POST invocations be_iris ${o.server ?? "<NOSRV>"} ${o.status} 0 ${o.tw ?? 0} ${o.tc} ${o.tr} 0 ${Math.max(0, o.tc) + Math.max(0, o.tr)} ${o.term} 100 100 k-1 - - - 00 - - -`;
/**
 * One batch of traffic, folded in between scrapes so every scrape sees whole batches: v1 serves 8 requests in
 * 60 ms (10 ms of it queued) and 2 in 300 ms (over the 100 ms objective); v2 serves 10 in 20 ms; plus one 429 from
 * a full queue, one 503 with no ready pod and one 504 from a pod that timed out (v1).
 */
const BATCH = [
  ...Array.from({ length: 8 }, () => logLine({ server: "pod-a", status: 200, tw: 10, tc: 1, tr: 49, term: "----" })),
  ...Array.from({ length: 2 }, () => logLine({ server: "pod-a", status: 200, tc: 1, tr: 299, term: "----" })),
  ...Array.from({ length: 10 }, () => logLine({ server: "pod-b", status: 200, tc: 1, tr: 19, term: "----" })),
  logLine({ status: 429, tw: -1, tc: -1, tr: -1, term: "PR--" }),
  logLine({ status: 503, tw: -1, tc: -1, tr: -1, term: "-R--" }),
  logLine({ server: "pod-a", status: 504, tc: 1, tr: -1, term: "sH--" }),
].map((l) => parseRequestLine(l)!);

describe("dashboard queries over a real Prometheus scraping the agent's and the controller's exporters", () => {
  const dir = mkdtempSync(join(tmpdir(), "dash-live-"));
  let exporter: Server;
  let prom: ChildProcess;
  let promUrl = "";
  let feeder: NodeJS.Timeout;
  let promLog = "";
  let gw: Gateway;
  let traffic = true;
  let trafficDone: Promise<void> = Promise.resolve();
  before(async () => {
    // A real HAProxy serving iris with one pod, under a steady trickle of requests.
    gw = await startGateway({ endpoints: [endpoint("iris")] });
    await gw.addPod("iris");
    trafficDone = (async () => {
      while (traffic) {
        await call(gw.publicPort, "/serving-endpoints/iris/invocations").catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const agentRegistry = new Registry();
    const observer = new RequestObserver({
      registry: agentRegistry,
      endpointObjective: (ep) => (ep === "iris" ? { known: true, objectiveMs: 100 } : { known: false, objectiveMs: undefined }),
      versionOf: (_backend, server) => ({ "pod-a": "v1", "pod-b": "v2" })[server],
    });
    const controller = makeControllerMetrics({ defaultMetrics: false });
    controller.readyReplicas.set({ endpoint: "ep-iris/iris" }, 3);
    controller.desiredReplicas.set({ endpoint: "ep-iris/iris" }, 4);
    controller.targetConcurrency.set({ endpoint: "ep-iris/iris" }, 6);
    // prom-client collects metric by metric asynchronously: no batch is folded in while a scrape reads.
    let scraping = 0;
    exporter = createServer((req, res) => {
      const reg = req.url === "/agent" ? agentRegistry : controller.registry;
      scraping += 1;
      void reg.metrics().then((body) => res.writeHead(200, { "content-type": reg.contentType }).end(body)).finally(() => { scraping -= 1; });
    });
    const exporterPort = await freePort();
    await new Promise<void>((r) => exporter.listen(exporterPort, "127.0.0.1", r));
    // Whole batches, 4 per second (scrapes read between them).
    const feed = () => { if (scraping === 0) for (const r of BATCH) observer.ingest(r); };
    feed();
    feeder = setInterval(feed, 250);
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const target = `127.0.0.1:${exporterPort}`;
    writeFileSync(join(dir, "prometheus.yml"), stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      scrape_configs: [
        { job_name: "gateway", metrics_path: "/agent", static_configs: [{ targets: [target] }] },
        // The controller's metrics carry their own `endpoint` label (the ServiceMonitor's honorLabels).
        { job_name: "controller", metrics_path: "/controller", honor_labels: true, static_configs: [{ targets: [target] }] },
        { job_name: "haproxy", metrics_path: "/metrics", static_configs: [{ targets: [`127.0.0.1:${gw.metricsPort}`] }] },
      ],
    }));
    prom = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ["ignore", "pipe", "pipe"] });
    prom.stderr?.on("data", (d: Buffer) => { promLog += d.toString(); });
    // Ready, and at least five scrapes of each target (rate() over [1m] needs two).
    for (let i = 0; ; i++) {
      if (prom.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
      const n = await query(`min(count_over_time(up[1m]))`).catch(() => []);
      if (Number(n[0]?.value[1] ?? 0) >= 5) break;
      if (i > 300) throw new Error(`prometheus did not scrape 5 times in 60 s: ${promLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    clearInterval(feeder);
    traffic = false;
    await trafficDone;
    await gw?.stop();
    prom?.kill("SIGTERM");
    if (prom !== undefined && prom.exitCode === null) await new Promise((r) => prom.once("exit", r));
    exporter?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Evaluation time of the queries (one per test: every query of a test reads the same window). */
  let at = 0;
  beforeEach(() => { at = Date.now() / 1000; });
  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}${at > 0 ? `&time=${at}` : ""}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
    return body.data!.result;
  }
  const panel = (title: string) => {
    const p = dashboardPanels("iris").find((x) => x.title === title);
    assert.ok(p !== undefined, title);
    return p;
  };
  /** Values of a panel query by a label (or "" for a single series). */
  const values = async (title: string, i: number, by?: string): Promise<Record<string, number>> => {
    const rows = await query(panel(title).exprs[i]!.expr);
    return Object.fromEntries(rows.map((r) => [by !== undefined ? Object.entries(r.metric).filter(([k]) => by.split(",").includes(k)).map(([, v]) => v).join(" ") : "", Number(r.value[1])]));
  };
  const near = (actual: number | undefined, expected: number, what: string) => assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

  it("every query of every panel returns series; HAProxy counts the live requests", async () => {
    const checked: string[] = [];
    for (const p of dashboardPanels("iris")) {
      for (const e of p.exprs) {
        assert.ok((await query(e.expr)).length > 0, `${p.title} / ${e.legend}: no series for ${e.expr}`);
        checked.push(`${p.title}: ${e.legend}`);
      }
    }
    assert.equal(checked.length, dashboardPanels("iris").flatMap((p) => p.exprs).length);
    assert.ok((await values("QPS", 0))[""]! > 0, "QPS from HAProxy's backend counter");
    assert.ok((await values("In-flight", 0))[""]! >= 0);
    near((await values("429s", 0))[""], 0, "no 429 at this trickle");
  });

  it("p50 / p99 for the endpoint and per model version", async () => {
    // Per batch: 10 within 25 ms (v2), 8 in (50, 100] ms, 2 in (250, 500] ms; histogram_quantile interpolates.
    near((await values("Latency p50 / p99", 0))[""], 0.025, "p50");
    near((await values("Latency p50 / p99", 1))[""], 0.25 + 0.25 * (0.99 * 20 - 18) / 2, "p99");
    const p50 = await values("Latency p50 / p99 by model version", 0, "version");
    const p99 = await values("Latency p50 / p99 by model version", 1, "version");
    near(p50["v1"], 0.05 + 0.05 * (5 / 8), "p50 v1");
    near(p99["v1"], 0.25 + 0.25 * (0.99 * 10 - 8) / 2, "p99 v1");
    near(p50["v2"], 0.01 + 0.015 * (5 / 10), "p50 v2");
    near(p99["v2"], 0.01 + 0.015 * (9.9 / 10), "p99 v2");
  });

  it("share over the objective (all, per version), mean queue wait, replicas", async () => {
    near((await values("Requests over the objective", 0))[""], 2 / 20, "over the objective");
    const perVersion = await values("Requests over the objective", 1, "version");
    near(perVersion["v1"], 2 / 10, "v1 over");
    near(perVersion["v2"], 0, "v2 over");
    near((await values("Queue wait (mean)", 0))[""], (8 * 0.01) / 20, "mean queue wait");
    near((await values("Replicas", 0))[""], 3, "ready");
    near((await values("Replicas", 1))[""], 4, "desired");
    near((await values("Target concurrency", 0))[""], 6, "target concurrency");
  });

  it("429s and 5xx by reason: one of each per batch, i.e. a tenth of v1's answered rate", async () => {
    const byReason = await values("429s and 5xx by reason", 0, "code,reason");
    assert.deepEqual(Object.keys(byReason).sort(), ["429 queue_full", "503 no_ready_pod", "504 pod_timeout"]);
    const v1 = Number((await query(`sum(rate(${DASHBOARD_METRICS.latencyCount}{endpoint="iris",version="v1"}[1m]))`))[0]?.value[1]);
    assert.ok(v1 > 0);
    for (const [k, v] of Object.entries(byReason)) near(v, v1 / 10, k);
  });
});
