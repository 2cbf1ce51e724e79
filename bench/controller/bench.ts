/**
 * `npm run bench:controller`: CPU time of the APA controller's 1 s cycle at 10,000 endpoints × 10 pods.
 *
 * Runs the real `ApaController.runCycle` (gateway scrape → metrics reader → history → engine → guard → status
 * diff) against an in-memory double of the Kubernetes API (writes counted, not sent) and the gateway page the
 * controller scrapes: HAProxy's `show stat -1 2 -1` CSV as the agent's `/stats` serves it, of real size
 * (generated from a captured 2.6.12 answer, stat-csv-page.ts: one ~290-byte row per backend), followed by the
 * agent's request section with every endpoint busy (request-section-page.ts). The pod-metrics poll runs the
 * real path every 15 s inside the measured cycles: the PodMetrics list of every pod as JSON text, parsed
 * (as the client parses the API server's answer), joined through the controller's Deployment index
 * (`PodMetricsPoller`).
 * CPU per cycle comes from `process.cpuUsage()` around each cycle; the pages are rendered by a child process
 * (page-renderer.ts: the gateway's work, its CPU and garbage not the controller's) and received as text. Two
 * modes in the same run: the engine as scheduled (each endpoint when its `nextRunAtMs` is due) and the engine
 * for every endpoint every cycle. Baselines in the same run: the metrics
 * reader alone on the same page; the promex `/metrics?scope=backend` page of the same load (promex-page.ts,
 * from a captured 2.6.12 page: ~79 lines, ~5 KB per backend) with its reader and with the maintained library
 * parser (parse-prometheus-text-format).
 * Prints the report; `--write-docs` writes docs/benchmarks/controller.md, `--out FILE` another file.
 */
import { emitReport, reportOptions } from "../bench-cli.ts";
import { processTreeCpuMs, startMachineLoad } from "../machine-load.ts";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { cpus } from "node:os";
import { constants, PerformanceObserver } from "node:perf_hooks";
import { Command } from "commander";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { parseBackendPage } from "../../controller/src/gateway/metrics-reader.ts";
import { parseStatCsv } from "../../controller/src/gateway/stat-csv.ts";
import { REQUEST_SECTION_HEADER } from "../../controller/src/gateway/request-stats-wire.ts";
import { RequestSectionReader } from "../../controller/src/gateway/request-section-reader.ts";
import { generateCluster, MemoryKubeApi, SLO_P99_MS, summarizeScaleWrites } from "./bench-fixtures.ts";
import { startPageRenderer } from "./page-renderer.ts";
import { PodMetricsPoller } from "../../controller/src/kube/pod-metrics-poller.ts";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { loadConfig } from "../../controller/src/kube/config.ts";
import { ApaController, type ControllerDeps } from "../../controller/src/kube/controller.ts";
import { GatewayScraper } from "../../controller/src/kube/gateway-scraper.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { makeControllerMetrics } from "../../controller/src/kube/own-metrics.ts";
import { intOption } from "../../controller/src/cli-options.ts";
import { defaultWarmPoolConfig } from "../../controller/src/kube/warm-pool.ts";


const DOC = "docs/benchmarks/controller.md";
const opts = reportOptions(new Command("bench:controller")
  .option("--endpoints <n>", "endpoints", intOption("--endpoints", 0, 1_000_000_000), 10_000)
  .option("--pods <n>", "pods per endpoint", intOption("--pods", 0, 1_000_000_000), 10)
  .option("--gateways <n>", "gateway replicas (pages per cycle)", intOption("--gateways", 0, 1_000_000_000), 1)
  .option("--warmup <n>", "warm-up cycles (fill the engine's 300 s history and let the first scale-down wave pass)", intOption("--warmup", 0, 1_000_000_000), 420)
  .option("--cycles <n>", "measured cycles per mode", intOption("--cycles", 1, 1_000_000_000), 30)
  .option("--settle-max <n>", "most cycles after the warm-up spent waiting for the write queue to empty (steady state)", intOption("--settle-max", 0, 1_000_000_000), 900)
  .option("--kube-api-qps <n>", "the controller's --kube-api-qps (its default when unset)")
  .option("--skip-library", "skip the library-parser baseline")
  .option("--no-request-section", "scrape the CSV alone (no per-request section)")
  .option("--no-pod-metrics", "leave the pod-metrics poll out"), DOC)
  .parse()
  .opts<{
    endpoints: number; pods: number; gateways: number; warmup: number; cycles: number; settleMax: number; kubeApiQps?: string; skipLibrary?: boolean;
    requestSection: boolean; podMetrics: boolean; writeDocs?: boolean; out?: string;
  }>();

// A full collection before each measured series (not before each cycle: the controller's steady state includes
// the major collections its retained objects cause, and `process.cpuUsage()` counts V8's helper threads too).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
// Main-thread GC pauses, to say how much of a cycle's CPU is collection.
const gcPauses: { start: number; ms: number; major: boolean }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    gcPauses.push({ start: e.startTime, ms: e.duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR });
  }
}).observe({ entryTypes: ["gc"] });

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const fmt = (x: number, d = 1): string => x.toFixed(d);
const POD_METRICS_INTERVAL_MS = 15_000;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

// The generated PodMetrics objects are dropped once the API double holds their JSON text (the controller's heap
// holds what a controller holds, not the API server's objects).
const { se, deployments, slices, podMetricsCount, api } = ((cluster) => ({
  ...cluster,
  podMetricsCount: cluster.podMetrics.length,
  api: new MemoryKubeApi(cluster.se, cluster.deployments, cluster.slices, opts.podMetrics ? cluster.podMetrics : []),
}))(generateCluster(opts.endpoints, opts.pods));
const clock = new ManualClock(1_700_000_000_000);
const config = loadConfig(["--gateway-url", "http://gw-0/metrics", ...(opts.kubeApiQps !== undefined ? ["--kube-api-qps", opts.kubeApiQps] : [])], {}, { hostname: "bench" });
const pages = new Map<string, string>();
const gatewayIds = Array.from({ length: opts.gateways }, (_, g) => `gw-${g}`);
const scraper = new GatewayScraper({
  targets: () => gatewayIds.map((id) => ({ id, url: id })),
  fetchText: async (url) => pages.get(url) ?? "",
  timeoutMs: 1000,
  graceMs: 10_000,
  log: silentLogger,
});
let controllerRef: ApaController | undefined;
const poller = new PodMetricsPoller({
  listPodMetrics: (selector) => api.listPodMetrics(selector),
  deploymentsByEndpoint: () => controllerRef?.deploymentsByEndpoint() ?? new Map(),
  clock,
  log: silentLogger,
  intervalMs: POD_METRICS_INTERVAL_MS,
});
const deps: ControllerDeps & { decideEveryCycle: boolean } = {
  api,
  clock,
  log: silentLogger,
  metrics: makeControllerMetrics({ defaultMetrics: false }),
  config,
  scraper,
  isLeader: () => true,
  podSamples: () => poller.latest(),
  warmPool: defaultWarmPoolConfig,
  decideEveryCycle: false,
};
const controller = new ApaController(deps);
controllerRef = controller;
controller.startCaches();
while (!controller.synced) await new Promise((r) => setImmediate(r));

// The pod-metrics poll on its own period (metrics-server refreshes every 15 s), inside the cycle it falls in.
let nextPollAtMs = clock.nowMs();
const pollStats = { polls: 0, cpuMs: 0 };
async function cycle(nowMs: number): Promise<void> {
  if (opts.podMetrics && nowMs >= nextPollAtMs) {
    const c0 = cpuMs();
    await poller.pollOnce();
    pollStats.polls += 1;
    pollStats.cpuMs += cpuMs() - c0;
    nextPollAtMs = nowMs + POD_METRICS_INTERVAL_MS;
  }
  await controller.runCycle(nowMs);
}

const endpointNames = se.map((x) => x.metadata.name);
// The gateway's pages come from a child process (page-renderer.ts): its rendering CPU and garbage are not the
// controller's; the controller reads each page as text, as from the network.
const renderer = await startPageRenderer({ endpointNames, gateways: opts.gateways, requestSection: opts.requestSection, objectiveMs: SLO_P99_MS });
let sectionBytes = 0;
const previousPages = new Map<string, string>();
// The page the controller scrapes: the agent's /stats CSV and its request section (the promex page is measured
// once, at the end).
const render = async (): Promise<number> => {
  const rendered = await renderer.next();
  let bytes = 0;
  rendered.pages.forEach((text, g) => {
    const old = pages.get(`gw-${g}`);
    if (old !== undefined) previousPages.set(`gw-${g}`, old);
    pages.set(`gw-${g}`, text);
    bytes = text.length;
  });
  sectionBytes = rendered.sectionChars;
  return bytes;
};

const t0 = performance.now();
// The last 120 warm-up cycles are timed too: a longer series, with whatever major collections it brings.
const tailFrom = Math.max(0, opts.warmup - 120);
const warmTail = { cpuMs: 0, cycles: 0, majorGcs: 0, gcPauseMs: 0 };
const warmWindows: [number, number][] = [];
for (let i = 0; i < opts.warmup; i++) {
  await render();
  await clock.advance(1000);
  const c0 = cpuMs();
  const w0 = performance.now();
  await cycle(clock.nowMs());
  if (i >= tailFrom) {
    warmTail.cpuMs += cpuMs() - c0;
    warmTail.cycles += 1;
    warmWindows.push([w0, performance.now()]);
  }
}
await new Promise((r) => setTimeout(r, 20));
for (const [w0, w1] of warmWindows) {
  for (const g of gcPauses) {
    if (g.start < w0 || g.start >= w1) continue;
    warmTail.gcPauseMs += g.ms;
    if (g.major) warmTail.majorGcs += 1;
  }
}
// Steady state: every endpoint's engine leaves its start-up hold within the same few seconds, and the first
// scale-down wave goes out at the write rate limit (--kube-api-qps). Cycle on until no write has been pending or
// deferred for 10 cycles, so the measured cycles see the steady load's writes only.
let settleCycles = 0;
for (let quiet = 0; quiet < 10 && settleCycles < opts.settleMax; settleCycles++) {
  const deferred = controller.queue.stats.deferred;
  await render();
  await clock.advance(1000);
  await cycle(clock.nowMs());
  quiet = controller.queue.size === 0 && controller.queue.stats.deferred === deferred ? quiet + 1 : 0;
}
const settled = settleCycles < opts.settleMax;
const warmupS = (performance.now() - t0) / 1000;

interface ModeResult {
  readonly cpuMs: number[];
  readonly wallMs: number[];
  readonly parseMs: number[];
  readonly sectionMs: number[];
  readonly engineCalls: number[];
  readonly engineWallMs: number[];
  readonly scrapeWallMs: number[];
  readonly gcPauseMs: number[];
  majorGcs: number;
}
let pageBytes = 0;
// what the rest of the machine did during the measured cycles (the figure moves with it)
const machine = startMachineLoad();
const ownCpu0 = process.cpuUsage();
// This process and its page renderer: the renderer's CPU is the benchmark's own, not the machine's other load.
const treeCpu0Ms = processTreeCpuMs();
async function measure(everyCycle: boolean): Promise<ModeResult> {
  deps.decideEveryCycle = everyCycle;
  const out: ModeResult = { cpuMs: [], wallMs: [], parseMs: [], sectionMs: [], engineCalls: [], engineWallMs: [], scrapeWallMs: [], gcPauseMs: [], majorGcs: 0 };
  gc();
  const windows: [number, number][] = [];
  for (let i = 0; i < opts.cycles; i++) {
    pageBytes = await render();
    await clock.advance(1000);
    const c0 = cpuMs();
    const w0 = performance.now();
    await cycle(clock.nowMs());
    const w1 = performance.now();
    out.wallMs.push(w1 - w0);
    out.cpuMs.push(cpuMs() - c0);
    out.engineCalls.push(controller.lastCycle.engineCalls);
    out.engineWallMs.push(controller.lastCycle.engineMs);
    out.scrapeWallMs.push(controller.lastCycle.scrapeMs);
    windows.push([w0, w1]);
  }
  // GC entries reach the observer after a timer turn, not at once: read them when the series is over.
  await new Promise((r) => setTimeout(r, 20));
  for (const [w0, w1] of windows) {
    const inCycle = gcPauses.filter((g) => g.start >= w0 && g.start < w1);
    out.gcPauseMs.push(inCycle.reduce((a, g) => a + g.ms, 0));
    out.majorGcs += inCycle.filter((g) => g.major).length;
  }
  // The reader alone on the last pages (after the series, so its garbage is not billed to a measured cycle).
  for (let i = 0; i < 5; i++) {
    let csvMs = 0;
    let secMs = 0;
    for (const [id, text] of pages) {
      const at = text.indexOf(REQUEST_SECTION_HEADER);
      const reader = new RequestSectionReader();
      reader.read(previousPages.get(id) ?? "");
      const p0 = cpuMs();
      parseStatCsv(at < 0 ? text : text.slice(0, at));
      const p1 = cpuMs();
      // The controller's reader: this page's increase over the previous one.
      if (at >= 0) reader.read(text, at);
      csvMs += p1 - p0;
      secMs += cpuMs() - p1;
    }
    out.parseMs.push(csvMs);
    out.sectionMs.push(secMs);
  }
  return out;
}
const replicasBefore = new Map(deployments.map((d) => [`${d.metadata?.namespace}/${d.metadata?.name}`, d.spec?.replicas ?? 0]));
api.resetWrites();
const scheduled = await measure(false);
const scheduledWrites = { ...api.writes, summary: summarizeScaleWrites(api.scaleLog, replicasBefore) };
const every = await measure(true);

// Comparison in the same run: the promex backend page of the last measured load, read by its reader 3 times to
// warm it up (the CSV reader ran every cycle), then 5 times measured.
const promexPage = await renderer.promex();
renderer.stop();
const promexMs: number[] = [];
for (let i = 0; i < 8; i++) {
  gc();
  const c0 = cpuMs();
  parseBackendPage(promexPage);
  if (i >= 3) promexMs.push(cpuMs() - c0);
}
let libraryMs: number | undefined;
if (opts.skipLibrary !== true) {
  gc();
  const c0 = cpuMs();
  parsePrometheusTextFormat(promexPage);
  libraryMs = cpuMs() - c0;
}
await controller.stop();

const ownCpu = process.cpuUsage(ownCpu0);
const treeCpu1Ms = processTreeCpuMs();
const machineLoad = machine.stop(
  treeCpu0Ms !== undefined && treeCpu1Ms !== undefined ? treeCpu1Ms - treeCpu0Ms : (ownCpu.user + ownCpu.system) / 1000,
);
const rows = [
  ["engine as scheduled (controller default)", scheduled],
  ["engine for every endpoint every cycle", every],
] as const;
const goalMs = 100;
const ownCpuS = (ownCpu.user + ownCpu.system) / 1e6;
const lines: string[] = [];
const flags = `${opts.requestSection ? "" : " --no-request-section"}${opts.podMetrics ? "" : " --no-pod-metrics"}${opts.settleMax !== 900 ? ` --settle-max ${opts.settleMax}` : ""}${opts.kubeApiQps !== undefined ? ` --kube-api-qps ${opts.kubeApiQps}` : ""}`;
lines.push("# Controller cycle benchmark", "");
lines.push(`Command: \`npm run bench:controller -- --endpoints ${opts.endpoints} --pods ${opts.pods} --gateways ${opts.gateways} --warmup ${opts.warmup} --cycles ${opts.cycles}${flags} --write-docs\``, "");
lines.push(
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}. ` +
    `${opts.endpoints} endpoints × ${opts.pods} pods = ${opts.endpoints * opts.pods} pods; ${opts.gateways} gateway replica(s); ` +
    `page ${fmt(pageBytes / 1e6)} MB per replica: HAProxy \`show stat -1 2 -1\` CSV from the agent's /stats (real format)` +
    (opts.requestSection ? ` and the agent's request section (${fmt(sectionBytes / 1e6)} MB, every endpoint busy every second)` : ", no request section") +
    `; ${opts.warmup} warm-up cycles fill the engine's 300 s history first, then ${settleCycles} more until no write was pending or deferred for 10 cycles` +
    `${settled ? "" : ` (NOT settled: --settle-max ${opts.settleMax} reached)`} (${fmt(warmupS, 0)} s in all); write limit ${config.kubeApiQps} per second, burst ${config.kubeApiBurst}.`,
  "",
);
lines.push(
  opts.podMetrics
    ? `Pod metrics: the real poll every 15 s inside the cycle it falls in (PodMetrics list of ${podMetricsCount} pods as JSON text, parsed, joined through the controller's Deployment index): ${pollStats.polls} polls, ${fmt(pollStats.cpuMs / Math.max(1, pollStats.polls))} ms CPU each (${fmt(pollStats.cpuMs / Math.max(1, pollStats.polls) / 15)} ms per second).`
    : "Pod metrics: off.",
  "",
);
lines.push(
  `**Machine load during the measured cycles: ${machineLoad.text}**; this process used ${fmt(ownCpuS, 2)} s of CPU over them` +
    (treeCpu0Ms !== undefined && treeCpu1Ms !== undefined ? ` and its page renderer ${fmt((treeCpu1Ms - treeCpu0Ms) / 1000 - ownCpuS, 2)} s (not counted as other load)` : "") +
    ". The CPU time below is this process's own; the rest of the machine is reported beside it because the figure moves with it (caches, frequency, memory bandwidth).",
  "",
);
lines.push("CPU per 1 s cycle (`process.cpuUsage()` around the cycle, pod-metrics polls included), fraction of one core; goal 10% (100 ms):", "");
lines.push("| mode | mean CPU ms/cycle | max CPU ms/cycle | mean core fraction | vs goal | CSV reader CPU ms | request-section reader CPU ms | engine calls/cycle | wall ms in engine | wall ms in scrape+samples | GC pause ms/cycle (major GCs) | wall ms cycle |");
lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const [name, r] of rows) {
  const m = mean(r.cpuMs);
  lines.push(
    `| ${name} | ${fmt(m)} | ${fmt(Math.max(...r.cpuMs))} | ${fmt((m / 1000) * 100)}% | ${fmt(m / goalMs, 2)}× | ${fmt(mean(r.parseMs))} | ${fmt(mean(r.sectionMs))} | ${fmt(mean(r.engineCalls), 0)} | ${fmt(mean(r.engineWallMs))} | ${fmt(mean(r.scrapeWallMs))} | ${fmt(mean(r.gcPauseMs))} (${r.majorGcs}) | ${fmt(mean(r.wallMs))} |`,
  );
}
lines.push("");
if (warmTail.cycles > 0) {
  const m = warmTail.cpuMs / warmTail.cycles;
  lines.push(
    `Longer series, same mode as the first row: the last ${warmTail.cycles} warm-up cycles averaged ${fmt(m)} CPU ms/cycle (${fmt((m / 1000) * 100)}% of one core), ` +
      `with ${warmTail.majorGcs} major GC(s) and ${fmt(warmTail.gcPauseMs / warmTail.cycles)} ms/cycle of main-thread GC pauses.`,
    "",
  );
}
lines.push("Reader columns: the readers alone on the last page (the request section's as the controller reads it: its increase over the page before), measured after the series. Wall-clock columns are `performance.now()` inside the cycle; on a shared machine they exceed CPU time. CPU includes garbage collection (main-thread pauses, shown, and V8's helper threads); no collection is forced between measured cycles.", "");
{
  const csvMs = mean(scheduled.parseMs) / opts.gateways;
  lines.push(
    `Gateway page, same load, one replica: CSV reader ${fmt(csvMs)} ms CPU; ` +
      `promex \`/metrics?scope=backend\` ${fmt(promexPage.length / 1e6)} MB, its reader ${fmt(mean(promexMs))} ms CPU (mean of ${promexMs.length}; ${fmt(mean(promexMs) / Math.max(1e-9, csvMs), 1)}× the CSV's)` +
      (libraryMs !== undefined ? `; the maintained library parser (parse-prometheus-text-format) on it: ${fmt(libraryMs, 0)} ms.` : "."),
    "",
  );
}
{
  const m = mean(scheduled.cpuMs);
  lines.push(
    `**Goal (≤ 10% of one core per 1 s cycle at ${opts.endpoints} endpoints / ${opts.endpoints * opts.pods} pods${opts.podMetrics ? ", pod metrics on" : ""}): ${m <= goalMs ? "met" : "NOT met"}** — ` +
      `${fmt((m / 1000) * 100)}% of one core (${fmt(m)} ms CPU per second) at ${machineLoad.text}.`,
    "",
  );
}
const replicasNow = deployments.map((d) => d.spec?.replicas ?? 0);
lines.push(
  `Replicas per endpoint when measured: mean ${fmt(mean(replicasNow))} (min ${Math.min(...replicasNow)}, max ${Math.max(...replicasNow)}). ` +
    `Writes during the ${opts.cycles} measured cycles of the first row (in-memory double): ${scheduledWrites.scale} scale (${scheduledWrites.summary}), ${scheduledWrites.status} status, ${scheduledWrites.events} events; ` +
    `both rows: ${api.writes.scale} scale, ${api.writes.status} status, ${api.writes.events} events.`,
  "",
);
emitReport(opts, DOC, lines.join("\n"));
