/**
 * `npm run bench:observe`: what seeing every request costs.
 * 1. Payload logging's added latency and HAProxy CPU per request: one real HAProxy with two endpoints, the same
 *    model server behind each; `off` has no payload logging, `on` records every request (sample rate 1, 8 KB
 *    cap, redaction on); sequential requests (c = 1) with a 1 KB JSON body, arms interleaved round by round.
 * 2. The per-request aggregation: parsing a log line and folding it into counters and Prometheus metrics, ns
 *    per request (CPU time), and the controller's side: reading the request section of 10,000 endpoints and
 *    making their samples, ms per scrape (CPU time).
 * Prints a table; figures taken on a shared machine carry its load average.
 *
 *   npm run bench:observe -- [--requests 400] [--rounds 5] [--endpoints 10000] [--part all|aggregation|payload]
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Agent, request } from "node:http";
import { Command } from "commander";
import { Registry } from "prom-client";
import { PayloadLogger } from "../../controller/src/gateway/payload-logger.ts";
import { GatewayMetricsTracker } from "../../controller/src/gateway/metrics-reader.ts";
import { parseRequestLine } from "../../controller/src/gateway/request-log.ts";
import { RequestObserver } from "../../controller/src/gateway/request-observer.ts";
import { emptyCounters, observeRequest } from "../../controller/src/gateway/request-stats.ts";
import { formatRequestSection, type EndpointRequestCounters } from "../../controller/src/gateway/request-stats-wire.ts";
import { parseInfoPid } from "../../controller/src/gateway/runtime-api.ts";
import type { GatewayEndpoint } from "../../controller/src/gateway/types.ts";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { startLocalGateway } from "../../controller/src/local/local-gateway.ts";
import { startModelServer } from "../../controller/src/model-server/server.ts";
import { intOption } from "../../controller/src/cli-options.ts";
import { HAPROXY, requirePrerequisites } from "../bench-cli.ts";

const o = new Command()
  .name("bench:observe")
  .option("--requests <n>", "requests per arm per round", intOption("--requests", 10, 100_000), 400)
  .option("--rounds <n>", "rounds (arms interleaved)", intOption("--rounds", 1, 100), 5)
  .option("--endpoints <n>", "endpoints in the controller-side read", intOption("--endpoints", 1, 100_000), 10_000)
  .option("--part <part>", "all, aggregation or payload", "all")
  .parse()
  .opts<{ requests: number; rounds: number; endpoints: number; part: string }>();
requirePrerequisites("npm run bench:observe", [HAPROXY]);
if (!["all", "aggregation", "payload"].includes(o.part)) {
  process.stderr.write(`bench:observe: --part ${JSON.stringify(o.part)} is not allowed; use all, aggregation or payload\n`);
  process.exit(2);
}

const KEY = "bench-key";
const ep = (name: string, over: Partial<GatewayEndpoint> = {}): GatewayEndpoint => ({
  name, runtime: "mlflow", auth: { apiKeys: true, jwt: false }, targetConcurrency: 4, slots: 2, queueTimeoutMs: 5000,
  maxQueue: 100, maxBodyBytes: 1 << 20, modelTimeoutMs: 10_000, ...over,
});

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime, clock ticks (100 Hz)
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const median = (xs: number[]): number => pct(xs, 50);

async function payloadArms(): Promise<void> {
  let rows = 0;
  const logger = new PayloadLogger({ sink: { put: async (_k, b) => { rows += b.length > 0 ? 1 : 0; } }, writer: "bench", flushIntervalMs: 1000 });
  const model = await startModelServer({ cpuMs: 0 });
  const gw = await startLocalGateway({
    endpoints: [ep("off"), ep("on", { payloadLog: { sampleRate: 1, maxBodyBytes: 8192, redactFields: ["ssn"] } })],
    apiKeys: [{ id: "bench", sha256: hashApiKey(KEY), endpoints: ["off", "on"] }],
    consumers: [logger],
    settings: { lowLatency: false },
  });
  for (const name of ["off", "on"]) gw.source.upsertPod(name, { id: `${name}-1`, addr: "127.0.0.1", port: model.port, ready: true, terminating: false });
  await gw.agent.cycle();
  const worker = parseInfoPid(await gw.api.send("show info"));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ dataframe_split: { columns: ["a", "b", "ssn"], data: Array.from({ length: 20 }, (_, i) => [i, i * 2, "123-45-6789"]) } }).padEnd(1024, " ");
  const once = (name: string): Promise<number> => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port: gw.settings.publicPort, path: `/serving-endpoints/${name}/invocations`, method: "POST", agent,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
  for (let i = 0; i < 50; i++) { await once("off"); await once("on"); }
  const result: Record<string, { p50: number[]; p99: number[]; cpuUs: number[] }> = { off: { p50: [], p99: [], cpuUs: [] }, on: { p50: [], p99: [], cpuUs: [] } };
  for (let round = 0; round < o.rounds; round++) {
    for (const name of round % 2 === 0 ? ["off", "on"] : ["on", "off"]) {
      const lat: number[] = [];
      const t0 = cpuTicks(worker);
      for (let i = 0; i < o.requests; i++) lat.push(await once(name));
      const ticks = cpuTicks(worker) - t0;
      result[name]!.p50.push(pct(lat, 50));
      result[name]!.p99.push(pct(lat, 99));
      result[name]!.cpuUs.push((ticks * 10_000) / o.requests);
    }
  }
  await logger.close();
  await gw.stop();
  await model.close();
  agent.destroy();
  const r = (name: string) => ({ p50: median(result[name]!.p50), p99: median(result[name]!.p99), cpu: median(result[name]!.cpuUs) });
  const off = r("off");
  const on = r("on");
  console.log(`payload logging, c=1, 1 KB body, ${o.requests} requests × ${o.rounds} rounds per arm (medians of rounds); rows written: ${logger.stats.rows}, dropped ${logger.stats.dropped}`);
  console.log(`  arm  p50 ms  p99 ms  HAProxy CPU µs/request (10 ms ticks)`);
  console.log(`  off  ${off.p50.toFixed(3)}  ${off.p99.toFixed(3)}  ${off.cpu.toFixed(0)}`);
  console.log(`  on   ${on.p50.toFixed(3)}  ${on.p99.toFixed(3)}  ${on.cpu.toFixed(0)}`);
  console.log(`  added by payload logging: p50 ${(on.p50 - off.p50).toFixed(3)} ms, p99 ${(on.p99 - off.p99).toFixed(3)} ms, HAProxy CPU ${(on.cpu - off.cpu).toFixed(0)} µs/request`);
}

function aggregationCost(): void {
  const n = 200_000;
  const lines = Array.from({ length: 1000 }, (_, i) =>
    `apgw1 ${1_796_000_000_000 + i} 0 0 rid-${i} ep${i % 10} POST invocations be_ep${i % 10} pod${1 + (i % 4)} 200 0 ${i % 5} 0 ${90 + (i % 40)} 1 ${100 + (i % 40)} ---- 300 200 k-1 ` +
      `0af7651916cd43dd8448eb211c80319c - b7ad6b7169203331 00 - - -`);
  const observer = new RequestObserver({ registry: new Registry(), endpointObjective: () => ({ known: true, objectiveMs: 120 }), versionOf: () => "v1" });
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) observer.ingest(parseRequestLine(lines[i % lines.length]!)!);
  const d = process.cpuUsage(t0);
  console.log(`agent: parse + fold + Prometheus per request: ${(((d.user + d.system) * 1000) / n).toFixed(0)} ns CPU (${n} requests)`);

  const perEndpoint = new Map<string, EndpointRequestCounters>();
  const next = new Map<string, EndpointRequestCounters>();
  for (let e = 0; e < o.endpoints; e++) {
    const c = emptyCounters();
    for (let i = 0; i < 300; i++) observeRequest(c, { queueMs: i % 3, serviceMs: 50 + (i % 120) }, 150);
    perEndpoint.set(`ep-${e}`, { objectiveMs: 150, counters: c });
    const c2 = emptyCounters();
    for (let i = 0; i < 320; i++) observeRequest(c2, { queueMs: i % 3, serviceMs: 50 + (i % 120) }, 150);
    next.set(`ep-${e}`, { objectiveMs: 150, counters: c2 });
  }
  const a = formatRequestSection(perEndpoint);
  const b = formatRequestSection(next);
  const csv = (text: string): string => `# pxname,svname,qcur,scur,stot,dreq,econ,act,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,qtime,ttime,mode,\n${[...perEndpoint.keys()].map((k) => `be_${k},BACKEND,0,1,10,0,0,1,0,10,0,0,0,0,0,0,http,`).join("\n")}\n${text}`;
  const pageA = csv(a.replace(/#r ep-/g, "#r ep-"));
  const pageB = csv(b);
  // Scrapes alternate between the two pages (the counters of page B are ahead of page A's); the first ones warm
  // the JIT. Median CPU of the rest, with the plain CSV page (no request section) for comparison.
  const scrape = (pages: readonly string[]): { ms: number; n: number } => {
    const t = new GatewayMetricsTracker();
    const ms: number[] = [];
    let n = 0;
    for (let i = 0; i < 12; i++) {
      const c0 = process.cpuUsage();
      t.ingestPage("gw", pages[i % 2]!, i * 1000);
      n = t.samples(i * 1000, 5000).size;
      const d1 = process.cpuUsage(c0);
      if (i >= 4) ms.push((d1.user + d1.system) / 1000);
    }
    return { ms: median(ms), n };
  };
  const withSection = scrape([pageA, pageB]);
  const csvOnly = scrape([csv(""), csv("")]);
  console.log(`controller: ${o.endpoints} endpoints, one gateway replica, every endpoint served requests: read + samples ${withSection.ms.toFixed(0)} ms CPU per scrape with the request section (${(b.length / 1e6).toFixed(1)} MB), ${csvOnly.ms.toFixed(0)} ms for the CSV alone (${withSection.n} samples)`);
}

console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} (cores: 2 on the project's machines)`);
if (o.part !== "payload") aggregationCost();
if (o.part !== "aggregation") await payloadArms();
