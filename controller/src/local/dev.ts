/**
 * `npm run dev`: the whole loop on one machine, for real. Starts HAProxy + the gateway agent, one example
 * model-server process per replica, and the APA engine scaling those processes through the local scaler.
 * Serves `http://127.0.0.1:<port>/serving-endpoints/<name>/invocations` and prints the live state every second.
 *
 *   npm run dev                                  # serve until Ctrl-C
 *   npm run dev -- --demo                        # step load, a killed replica, scale-down; stops by itself
 *   npm run dev -- --load 40@20,320@60,40@90 --down-window-s 30 --kill-at 50 --record run.jsonl
 */
import { Command, InvalidArgumentError } from "commander";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { decide, defaultEngineConfig, validateEndpointSpec, validateEngineConfig } from "../engine/index.ts";
import type { EndpointSample, EndpointSpec, PodSample } from "../engine/types.ts";
import { GatewayMetricsTracker } from "../gateway/metrics-reader.ts";
import { parseServerStats } from "../gateway/runtime-api.ts";
import { AccessLogCollector } from "./access-log.ts";
import { CpuMeter } from "./cpu-meter.ts";
import { startLocalGateway } from "./local-gateway.ts";
import { hashApiKey } from "./local-source.ts";
import { OpenLoopLoad, parseLoadPhases, type LoadPhase } from "./load.ts";
import { LocalLoop } from "./loop.ts";
import { ProcessPool } from "./process-pool.ts";
import { secondP99, summariseRun, type KillEvent, type SecondRecord } from "./run-report.ts";
import { formatStatus } from "./status-line.ts";

const int = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name}: ${JSON.stringify(v)} is not allowed; must be an integer in ${min}..${max}`);
  return n;
};
const num = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name}: ${JSON.stringify(v)} is not allowed; must be a number in ${min}..${max}`);
  return n;
};

/** The demo: a 8× step at 20 s held for 60 s, one replica killed 30 s into it, then 75 s of low load (30 s down-window). */
const DEMO = { load: "40@20,320@60,40@75", downWindowS: 30, killAt: 50 };

const program = new Command()
  .name("dev")
  .description("The whole autopilot-serving loop on 127.0.0.1: HAProxy + agent + model-server processes + APA engine")
  .option("--port <n>", "public gateway port (0 = a free one)", int("--port", 0, 65535), 8080)
  .option("--metrics-port <n>", "Prometheus exporter port (0 = a free one)", int("--metrics-port", 0, 65535), 0)
  .option("--endpoint <name>", "endpoint name", "iris")
  .option("--api-key <key>", "API key accepted for the endpoint", "dev-key")
  .option("--cpu-ms <ms>", "CPU burnt per request by the model", num("--cpu-ms", 0, 1000), 2)
  .option("--sleep-ms <ms>", "wait per request without CPU (I/O-like part of the model)", num("--sleep-ms", 0, 10_000), 20)
  .option("--min-replicas <n>", "replica floor", int("--min-replicas", 1, 16), 1)
  .option("--max-replicas <n>", "replica ceiling (2-core machine: keep it small)", int("--max-replicas", 1, 16), 6)
  .option("--min-concurrency <n>", "target concurrency floor", int("--min-concurrency", 1, 1024), 1)
  .option("--max-concurrency <n>", "target concurrency ceiling", int("--max-concurrency", 1, 1024), 16)
  .option("--initial-concurrency <n>", "target concurrency to start from", int("--initial-concurrency", 1, 1024), 4)
  .option("--slo-p99-ms <ms>", "p99 latency objective", num("--slo-p99-ms", 1, 600_000), 250)
  .option("--queue-timeout-ms <ms>", "longest wait in the gateway queue before a 429", int("--queue-timeout-ms", 1, 600_000), 1000)
  .option("--max-queue <n>", "queue length that answers 429 at once", int("--max-queue", 1, 100_000), 200)
  .option("--down-window-s <s>", "engine scale-down window (default: the engine's 300 s)", int("--down-window-s", 5, 3600))
  .option("--load <phases>", "built-in open-loop load, rate@seconds,... e.g. 40@20,320@60,40@75")
  .option("--kill-at <s>", "SIGKILL one ready model-server process at this second of the load", num("--kill-at", 0, 36_000))
  .option("--duration <s>", "stop after this many seconds (default: end of --load + 3 s, else run until Ctrl-C)", num("--duration", 1, 86_400))
  .option("--record <file>", "write one JSON line per second (the figures behind the report)")
  .option("--demo", `shorthand for --load ${DEMO.load} --down-window-s ${DEMO.downWindowS} --kill-at ${DEMO.killAt}`, false)
  .option("--quiet", "no per-second lines (report only)", false)
  .parse();

type Opts = {
  port: number; metricsPort: number; endpoint: string; apiKey: string; cpuMs: number; sleepMs: number;
  minReplicas: number; maxReplicas: number; minConcurrency: number; maxConcurrency: number; initialConcurrency: number;
  sloP99Ms: number; queueTimeoutMs: number; maxQueue: number; downWindowS?: number; load?: string; killAt?: number;
  duration?: number; record?: string; demo: boolean; quiet: boolean;
};
const o = program.opts<Opts>();
if (o.demo) {
  o.load ??= DEMO.load;
  o.downWindowS ??= DEMO.downWindowS;
  o.killAt ??= DEMO.killAt;
}

function fail(message: string): never {
  process.stderr.write(`dev: ${message}\n`);
  process.exit(2);
}

let phases: LoadPhase[] = [];
try {
  phases = o.load !== undefined ? parseLoadPhases(o.load) : [];
} catch (e) {
  fail((e as Error).message);
}
const spec: EndpointSpec = {
  concurrency: { min: o.minConcurrency, max: o.maxConcurrency },
  replicas: { min: o.minReplicas, max: o.maxReplicas },
  provisionedConcurrency: 0,
  scaleToZero: false,
  runtime: "mlflow",
  sloP99Ms: o.sloP99Ms,
  initialTargetConcurrency: o.initialConcurrency,
};
let engineConfig = defaultEngineConfig;
try {
  validateEndpointSpec(spec);
  engineConfig = validateEngineConfig(o.downWindowS !== undefined ? { scaleDownWindowMs: o.downWindowS * 1000 } : {});
} catch (e) {
  fail((e as Error).message);
}
const downWindowS = engineConfig.scaleDownWindowMs / 1000;

const logs = new AccessLogCollector(() => Date.now());
const notices: string[] = [];
const gw = await startLocalGateway({
  endpoints: [{
    name: o.endpoint, runtime: "mlflow", auth: { apiKeys: true, jwt: false }, targetConcurrency: o.initialConcurrency,
    slots: o.maxReplicas + 2, queueTimeoutMs: o.queueTimeoutMs, maxQueue: o.maxQueue, maxBodyBytes: 16 * 1024 * 1024,
    modelTimeoutMs: 60_000,
  }],
  apiKeys: [{ id: "dev", sha256: hashApiKey(o.apiKey), endpoints: [o.endpoint] }],
  publicPort: o.port,
  metricsPort: o.metricsPort,
  onLine: (l) => logs.line(l),
  log: (m) => notices.push(m),
}).catch((e: unknown) => fail(`could not start the gateway: ${(e as Error).message}`));

const pool = new ProcessPool({
  endpoint: o.endpoint,
  source: gw.source,
  serverArgs: ["--cpu-ms", `${o.cpuMs}`, "--sleep-ms", `${o.sleepMs}`],
  drained: (id) => gw.agent.podDrained(o.endpoint, id),
  log: (m) => notices.push(m),
});
pool.scaleTo(o.minReplicas);

const url = `http://127.0.0.1:${gw.settings.publicPort}/serving-endpoints/${o.endpoint}/invocations`;
const metricsUrl = `http://127.0.0.1:${gw.settings.metricsPort}/metrics?scope=backend`;
const tracker = new GatewayMetricsTracker();
const cpu = new CpuMeter();

function fetchText(u: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(u, { timeout: 900 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(body));
    }).on("error", reject).on("timeout", function (this: { destroy(): void }) { this.destroy(); }).end();
  });
}

async function sample(nowMs: number): Promise<EndpointSample> {
  tracker.ingestPage("local", await fetchText(metricsUrl), nowMs);
  const base = tracker.samples(nowMs, 5000).get(o.endpoint)?.sample;
  const w = logs.window(o.endpoint, 1000);
  const pods: PodSample[] = pool.list().filter((r) => r.state === "ready" && r.pid !== undefined).map((r) => {
    const util = cpu.read(r.pid as number, nowMs);
    return util === undefined ? { ready: true } : { ready: true, cpuUtil: Math.min(1, util) };
  });
  const s: EndpointSample = base ?? { atMs: nowMs, intervalMs: 1000, inFlight: 0, queued: 0, arrivals: 0, completions: 0, rejections: 0 };
  return { ...s, pods, ...(w.p50Ms !== undefined ? { latencyP50Ms: w.p50Ms } : {}), ...(w.p99Ms !== undefined ? { latencyP99Ms: w.p99Ms } : {}) };
}

const loop = new LocalLoop(
  {
    endpoint: o.endpoint,
    spec,
    decide: (input) => decide(input, engineConfig),
    sample,
    scaler: pool,
    setTargetConcurrency: (t) => gw.source.setTargetConcurrency(o.endpoint, t),
    now: () => Date.now(),
  },
  o.initialConcurrency,
);

process.stdout.write(
  `autopilot-serving local loop\n` +
    `  endpoint  POST ${url}\n` +
    `  try       curl -s -H 'Authorization: Bearer ${o.apiKey}' -H 'Content-Type: application/json' \\\n` +
    `              -d '{"dataframe_split":{"columns":["a","b"],"data":[[1,2]]}}' ${url}\n` +
    `  metrics   ${metricsUrl}\n` +
    `  model     ${o.cpuMs} ms CPU + ${o.sleepMs} ms wait per request; replicas ${o.minReplicas}..${o.maxReplicas}; ` +
    `concurrency ${o.minConcurrency}..${o.maxConcurrency} (start ${o.initialConcurrency}); SLO p99 ${o.sloP99Ms} ms; down-window ${downWindowS} s\n`,
);

// Start the clock (and the load) once the first replicas serve through the gateway.
for (let i = 0; i < 200 && pool.state(o.initialConcurrency).readyReplicas < o.minReplicas; i++) await new Promise((r) => setTimeout(r, 50));
await gw.agent.cycle();

const load = phases.length > 0 ? new OpenLoopLoad({ url, apiKey: o.apiKey, body: JSON.stringify({ dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } }), phases }) : undefined;
const records: SecondRecord[] = [];
const kills: KillEvent[] = [];
const stopAfterS = o.duration ?? (load !== undefined ? load.totalS + 3 : undefined);
let stopping = false;
let killed = false;

let ticks = 0;
async function tick(): Promise<void> {
  // Seconds since the load started, counted by ticks (wall-clock flooring would skip or repeat seconds).
  const tS = ++ticks;
  const status = await loop.tick();
  const sec = load?.seconds[tS - 1];
  const rec: SecondRecord = {
    tS: tS - 1,
    offered: load?.rateAt(tS - 1) ?? 0,
    sent: sec?.sent ?? 0, ok: sec?.ok ?? 0, rejected: sec?.rejected ?? 0, failed: sec?.failed ?? 0,
    clientP99Ms: sec ? secondP99(sec.latenciesMs) : undefined,
    inFlight: status.sample.inFlight, queued: status.sample.queued, gatewayP99Ms: status.sample.latencyP99Ms,
    desiredReplicas: status.state.desiredReplicas, readyReplicas: status.state.readyReplicas,
    startingReplicas: status.state.startingReplicas, targetConcurrency: status.targetConcurrency,
    reason: status.decision ? `${status.decision.replicasReason}/${status.decision.concurrencyReason}` : "-",
  };
  if (tS >= 1) records.push(rec);
  if (!o.quiet) process.stdout.write(`${formatStatus(rec, status.sample)}\n`);
  for (const n of notices.splice(0)) process.stdout.write(`  · ${n}\n`);
  for (const k of kills) {
    if (k.replacedAfterS === undefined && tS > k.tS && status.state.readyReplicas >= status.state.desiredReplicas) k.replacedAfterS = tS - k.tS;
  }
  if (o.killAt !== undefined && !killed && tS >= o.killAt) {
    killed = true;
    const victim = pool.list().find((r) => r.state === "ready");
    if (victim !== undefined) {
      const servers = parseServerStats(await gw.api.send("show stat -1 4 -1"));
      const onPod = servers.find((s) => s.port === victim.port)?.sessions ?? 0;
      pool.killOne();
      kills.push({ tS, podId: victim.id, inFlightOnPod: onPod });
      process.stdout.write(`  · killed ${victim.id} (pid ${victim.pid}) with SIGKILL; ${onPod} requests were in flight on it\n`);
    }
  }
  if (stopAfterS !== undefined && tS >= stopAfterS) await shutdown();
}

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  load?.stop();
  if (load !== undefined) {
    const report = summariseRun(records, phases, { sloP99Ms: o.sloP99Ms, downWindowS, kills });
    process.stdout.write(`\nreport\n${report.lines.map((l) => `  ${l}`).join("\n")}\n`);
  }
  if (o.record !== undefined) writeFileSync(o.record, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  await pool.close();
  await gw.stop();
  process.exit(0);
}

const timer = setInterval(() => {
  tick().catch((e: unknown) => process.stdout.write(`  · tick failed: ${(e as Error).message}\n`));
}, 1000);
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
void load?.run();
