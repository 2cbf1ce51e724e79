/**
 * `npx node bench/gateway/bench-pages.ts [--backends 10000] [--reads 5]`: what each gateway page costs
 * on real HAProxy (Debian's 2.6.12) with the gateway's own config (real agent, `--backends` endpoints, no pods):
 * the exporter's `/metrics?scope=backend` over HTTP vs `show stat -1 2 -1` from the runtime socket (what the
 * agent's `/stats` serves, also fetched through the agent's route over HTTP), side by side in the same run: page
 * size, HAProxy worker CPU per page (from /proc/<pid>/stat), wall time to fetch, and the controller's reader CPU
 * per page. Prints markdown.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { intOption } from "../../controller/src/cli-options.ts";
import { hashApiKey } from "../../controller/src/local/local-source.ts";
import { startLocalGateway } from "../../controller/src/local/local-gateway.ts";
import { parseBackendPage } from "../../controller/src/gateway/metrics-reader.ts";
import { parseInfoPid } from "../../controller/src/gateway/runtime-api.ts";
import { parseStatCsv, SHOW_BACKEND_STATS } from "../../controller/src/gateway/stat-csv.ts";
import { backendStatsAnswer, STATS_PATH } from "../../controller/src/gateway/stats-route.ts";
import { startHealthServer } from "../../controller/src/kube/health-server.ts";
import { Registry } from "prom-client";
import { fetchText } from "../../controller/src/kube/gateway-scraper.ts";
import type { GatewayEndpoint } from "../../controller/src/gateway/types.ts";
import { HAPROXY, requirePrerequisites } from "../bench-cli.ts";

const opts = new Command("bench-pages")
  .option("--backends <n>", "gateway endpoints (HAProxy backends)", intOption("--backends", 1, 100_000), 10_000)
  .option("--reads <n>", "reads of each page", intOption("--reads", 1, 100), 5)
  .parse()
  .opts<{ backends: number; reads: number }>();
requirePrerequisites("bench-pages", [HAPROXY]);

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** utime + stime of a process, ms (clock ticks of 10 ms on Linux). */
const procCpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
};
// The controller's own fetch (undici `fetch`), so the fetching CPU is what the controller spends.
const get = (url: string): Promise<string> => fetchText(url, 120_000);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const endpoints: GatewayEndpoint[] = Array.from({ length: opts.backends }, (_, i) => ({
  name: `ep-${i}`, runtime: "mlflow", auth: { apiKeys: true, jwt: false }, targetConcurrency: 4, slots: 1,
  queueTimeoutMs: 1000, maxQueue: 64, maxBodyBytes: 65536, modelTimeoutMs: 5000,
}));
const t0 = performance.now();
const gw = await startLocalGateway({ endpoints, apiKeys: [{ id: "k", sha256: hashApiKey("bench"), endpoints: [] }], agentIntervalMs: 60_000 });
const startS = (performance.now() - t0) / 1000;
const health = await startHealthServer(0, { healthy: () => undefined, ready: () => undefined }, new Registry(), {
  [STATS_PATH]: () => backendStatsAnswer(gw.api),
});
try {
  const worker = parseInfoPid(await gw.api.send("show info"));
  const promexUrl = `http://127.0.0.1:${gw.settings.metricsPort}/metrics?scope=backend`;
  const pages = [
    { name: "`/metrics?scope=backend` (promex, HTTP)", fetch: () => get(promexUrl), parse: parseBackendPage },
    { name: "`show stat -1 2 -1` (CSV, runtime socket)", fetch: () => gw.api.send(SHOW_BACKEND_STATS), parse: parseStatCsv },
    { name: "the agent's `GET /stats` (the same CSV over HTTP; what the controller scrapes)", fetch: () => get(`http://127.0.0.1:${health.port}${STATS_PATH}`), parse: parseStatCsv },
  ];
  const rows: string[] = [];
  const results: { bytes: number; haproxyMs: number; wallMs: number; fetchCpuMs: number; parseMs: number }[] = [];
  for (const p of pages) {
    const hap: number[] = [], wall: number[] = [], parse: number[] = [], fetchCpu: number[] = [];
    let bytes = 0;
    // Unmeasured reads first: JIT warm-up of the reader.
    for (let i = 0; i < 3; i++) p.parse(await p.fetch());
    for (let i = 0; i < opts.reads; i++) {
      const h0 = procCpuMs(worker);
      const f0 = cpuMs();
      const w0 = performance.now();
      const text = await p.fetch();
      wall.push(performance.now() - w0);
      fetchCpu.push(cpuMs() - f0);
      hap.push(procCpuMs(worker) - h0);
      const c0 = cpuMs();
      const stats = p.parse(text);
      parse.push(cpuMs() - c0);
      if (stats.size !== opts.backends) throw new Error(`${p.name}: read ${stats.size} backends, want ${opts.backends}`);
      bytes = text.length;
    }
    results.push({ bytes, haproxyMs: mean(hap), wallMs: mean(wall), fetchCpuMs: mean(fetchCpu), parseMs: mean(parse) });
    const r = results.at(-1) as (typeof results)[number];
    rows.push(`| ${p.name} | ${(r.bytes / 1e6).toFixed(2)} MB | ${r.haproxyMs.toFixed(0)} ms | ${r.wallMs.toFixed(0)} ms | ${r.fetchCpuMs.toFixed(1)} ms | ${r.parseMs.toFixed(1)} ms |`);
  }
  const [pm, , csv] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
  process.stdout.write([
    `# Gateway page cost: ${opts.backends} backends (real HAProxy 2.6.12, the gateway's config, no pods), mean of ${opts.reads} reads`,
    "",
    `Command: \`npx node bench/gateway/bench-pages.ts --backends ${opts.backends} --reads ${opts.reads}\` (HAProxy started in ${startS.toFixed(1)} s)`,
    "",
    "| page | size | HAProxy worker CPU per read (10 ms ticks) | wall per fetch | fetching process CPU per fetch | reader CPU per page |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    "Fetching process CPU: the controller's `fetchText` (undici) receiving the page; for `/stats` it also holds the agent's " +
      "work (socket read and HTTP answer), which runs in this same process here.",
    "",
    `\`/stats\` vs promex: ${(pm.bytes / csv.bytes).toFixed(1)}× smaller, HAProxy CPU ${csv.haproxyMs > 0 ? `${(pm.haproxyMs / csv.haproxyMs).toFixed(1)}× less` : pm.haproxyMs > 0 ? `${pm.haproxyMs.toFixed(0)} ms vs under one 10 ms tick` : "both under one 10 ms tick"}, ` +
      `fetch ${(pm.wallMs / csv.wallMs).toFixed(1)}× faster, reader ${(pm.parseMs / csv.parseMs).toFixed(1)}× cheaper.`,
    "",
  ].join("\n"));
} finally {
  health.server.close();
  await gw.stop();
}
