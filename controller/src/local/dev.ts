/**
 * `npm run dev`: the whole loop on one machine, for real. Starts HAProxy + the gateway agent, one example
 * model-server process per replica, and the APA engine scaling those processes through the local scaler.
 * Serves `http://127.0.0.1:<port>/serving-endpoints/<name>/invocations` and prints the live state every second.
 *
 * Besides the main endpoint (`iris`: the example model server, or a real model with `--model`) it serves `chat`,
 * an OpenAI-compatible endpoint (deterministic stand-in chat and completions, real all-MiniLM-L6-v2 embeddings).
 *
 *   npm run dev                                  # serve until Ctrl-C
 *   npm run dev -- --model examples/models/iris-onnx      # a real model (ONNX: no Python)
 *   npm run dev -- --model examples/models/iris-sklearn   # mlflow models serve, from the repository's venv
 *   npm run dev -- --demo                        # step load, a killed replica, scale-down; stops by itself
 *   npm run dev -- --load 40@20,320@60,40@90 --down-window-s 30 --kill-at 50 --record run.jsonl
 *   npm run dev -- --payload-log-dir ./payloads             # payload logs (inference tables) as JSONL files
 */
import { Command } from "commander";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { defaultEngineConfig, validateEndpointSpec, validateEngineConfig } from "../engine/index.ts";
import type { EndpointSpec } from "../engine/types.ts";
import { parseLoadPhases, type LoadPhase } from "./load.ts";
import { ensureEmbeddingModel, ensurePythonEnv, type PythonEnv } from "./python-env.ts";
import { isModelUri, downloadModel, localModelAt, LOCAL_RUNTIMES, type LocalModel, type LocalRuntime } from "./local-model.ts";
import { startLocalRun, type CompanionEndpoint } from "./local-run.ts";
import { mlflowLauncher, onnxLauncher, openAiLauncher, type ReplicaLauncher } from "./replica-launchers.ts";
import { formatStatus } from "./status-line.ts";
import { intOption as int, numberOption as num } from "../cli-options.ts";


/**
 * The demo: 10 req/s, then a step to 150 req/s (3.7× the 40 req/s the first replica serves at its start
 * concurrency of 4 with the default 101 ms model) held for 60 s, one replica killed 30 s into it, then 75 s of low
 * load with a 30 s down-window. Stops by itself after 158 s and prints the report.
 */
const DEMO = { load: "10@20,150@60,10@75", downWindowS: 30, killAt: 50 };

const program = new Command()
  .name("dev")
  .description("The whole autopilot-serving loop on 127.0.0.1: HAProxy + agent + model-server processes + APA engine")
  .option("--port <n>", "public gateway port (0 = a free one)", int("--port", 0, 65535), 8080)
  .option("--metrics-port <n>", "Prometheus exporter port (0 = a free one)", int("--metrics-port", 0, 65535), 0)
  .option("--endpoint <name>", "endpoint name", "iris")
  .option("--api-key <key>", "API key accepted for the endpoint", "dev-key")
  .option("--cpu-ms <ms>", "CPU burnt per request by the model", num("--cpu-ms", 0, 1000), 1)
  .option("--sleep-ms <ms>", "wait per request without CPU (I/O-like part of the model)", num("--sleep-ms", 0, 10_000), 100)
  .option("--min-replicas <n>", "replica floor", int("--min-replicas", 1, 16), 1)
  .option("--max-replicas <n>", "replica ceiling (2-core machine: keep it small)", int("--max-replicas", 1, 16), 8)
  .option("--min-concurrency <n>", "target concurrency floor", int("--min-concurrency", 1, 1024), 1)
  .option("--max-concurrency <n>", "target concurrency ceiling", int("--max-concurrency", 1, 1024), 16)
  .option("--initial-concurrency <n>", "target concurrency to start from", int("--initial-concurrency", 1, 1024), 4)
  .option("--slo-p99-ms <ms>", "p99 latency objective", num("--slo-p99-ms", 1, 600_000), 250)
  .option("--queue-timeout-ms <ms>", "longest wait in the gateway queue before a 429", int("--queue-timeout-ms", 1, 600_000), 1000)
  .option("--max-queue <n>", "queue length that answers 429 at once", int("--max-queue", 1, 100_000), 200)
  .option("--down-window-s <s>", "engine scale-down window (default: the engine's 300 s)", int("--down-window-s", 5, 3600))
  .option("--load <phases>", "built-in open-loop load, rate@seconds,... e.g. 10@20,150@60,10@75")
  .option("--kill-at <s>", "SIGKILL one ready model-server process at this second of the load", num("--kill-at", 0, 36_000))
  .option("--duration <s>", "stop after this many seconds (default: end of --load + 3 s, else run until Ctrl-C)", num("--duration", 1, 86_400))
  .option("--record <file>", "write one JSON line per second (the figures behind the report)")
  .option("--model <ref>", "serve a real MLflow model as the endpoint: a directory, an .onnx file, models:/<name>/<version>, models:/<name>@<alias>, runs:/<id>/<path> (MLFLOW_TRACKING_URI)")
  .option("--runtime <kind>", `runtime for --model: ${LOCAL_RUNTIMES.join(", ")} (auto: onnx flavor → ONNX server, else mlflow models serve)`, "auto")
  .option("--no-chat", "do not serve the OpenAI-compatible endpoint chat (default: served, except with --demo)")
  .option("--token-ms <ms>", "chat stand-in: wait per generated word piece", num("--token-ms", 0, 10_000), 20)
  .option("--demo", `shorthand for --load ${DEMO.load} --down-window-s ${DEMO.downWindowS} --kill-at ${DEMO.killAt}`, false)
  .option("--quiet", "no per-second lines (report only)", false)
  .option("--payload-log-dir <dir>", "payload logs (inference tables) of the endpoint as JSONL files under <dir>/payload-logs/endpoint=…/date=…/hour=… (the bucket's layout)")
  .option("--payload-log-sample-rate <r>", "share of requests recorded with --payload-log-dir", num("--payload-log-sample-rate", 0.0001, 1), 1)
  .parse();

type Opts = {
  port: number; metricsPort: number; endpoint: string; apiKey: string; cpuMs: number; sleepMs: number;
  minReplicas: number; maxReplicas: number; minConcurrency: number; maxConcurrency: number; initialConcurrency: number;
  sloP99Ms: number; queueTimeoutMs: number; maxQueue: number; downWindowS?: number; load?: string; killAt?: number;
  duration?: number; record?: string; demo: boolean; quiet: boolean; model?: string; runtime: string; chat: boolean; tokenMs: number;
  payloadLogDir?: string; payloadLogSampleRate: number;
};
const o = program.opts<Opts>();
// chat is on by default, off with --demo unless asked for (the demo measures one endpoint on two cores).
const chatWanted = program.getOptionValueSource("chat") === "cli" ? o.chat : !o.demo;
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
if (o.endpoint === "chat" && chatWanted) fail(`--endpoint chat: the name is taken by the OpenAI-compatible endpoint; pick another or add --no-chat`);
if (!(LOCAL_RUNTIMES as readonly string[]).includes(o.runtime)) fail(`--runtime: ${JSON.stringify(o.runtime)} is not allowed; one of ${LOCAL_RUNTIMES.join(", ")}`);
const setupLog = (m: string): void => void process.stdout.write(`  · setup: ${m}\n`);
let pythonEnv: PythonEnv | undefined;
const python = (why: string): PythonEnv => {
  try {
    pythonEnv ??= ensurePythonEnv(setupLog);
    return pythonEnv;
  } catch (e) {
    return fail(`${why} needs the repository's Python virtualenv: ${(e as Error).message}`);
  }
};

let model: LocalModel | undefined;
let launcher: ReplicaLauncher | undefined;
if (o.model !== undefined) {
  try {
    const dir = isModelUri(o.model) ? downloadModel(o.model, python(`--model ${o.model}`)) : o.model;
    model = localModelAt(dir, o.runtime as LocalRuntime);
  } catch (e) {
    fail((e as Error).message);
  }
  launcher = model.runtime === "onnx" ? onnxLauncher(model.path) : mlflowLauncher(python("--runtime mlflow"), model.path);
}

const companions: CompanionEndpoint[] = [];
if (chatWanted) {
  let embeddings: string | undefined;
  try {
    embeddings = ensureEmbeddingModel(ensurePythonEnv(setupLog), setupLog);
  } catch (e) {
    process.stdout.write(`  · chat: no embedding model (${(e as Error).message}); /v1/embeddings answers 404\n`);
  }
  companions.push({
    name: "chat",
    runtime: "vllm",
    spec: { concurrency: { min: 1, max: 64 }, replicas: { min: 1, max: 2 }, provisionedConcurrency: 0, scaleToZero: false, runtime: "vllm", sloP99Ms: 5000, initialTargetConcurrency: 16 },
    launcher: openAiLauncher("chat", embeddings, o.tokenMs),
  });
}

const run = await startLocalRun({
  endpoint: o.endpoint,
  apiKey: o.apiKey,
  spec,
  engineConfig,
  cpuMs: o.cpuMs,
  sleepMs: o.sleepMs,
  queueTimeoutMs: o.queueTimeoutMs,
  maxQueue: o.maxQueue,
  publicPort: o.port,
  metricsPort: o.metricsPort,
  phases,
  ...(launcher !== undefined ? { launcher } : {}),
  ...(model?.exampleBody !== undefined ? { loadBody: model.exampleBody } : {}),
  companions,
  ...(o.killAt !== undefined ? { killAtS: o.killAt } : {}),
  onSecond: (r, s) => {
    if (!o.quiet) process.stdout.write(`${formatStatus(r, s.sample)}\n`);
  },
  onNotice: (m) => process.stdout.write(`  · ${m}\n`),
  ...(o.payloadLogDir !== undefined ? { payloadLog: { dir: resolve(o.payloadLogDir), sampleRate: o.payloadLogSampleRate } } : {}),
}).catch((e: unknown) => {
  const message = (e as Error).message;
  const busy = /cannot bind|Address already in use/i.test(message)
    ? `\na port HAProxy binds is taken by another process (the address is above): --port <n> sets the public port (now ${o.port}; 0 = a free one), --metrics-port <n> the metrics port, e.g. npm run dev -- --port 8090`
    : "";
  fail(`could not start: ${message}${busy}`);
});

const body = model?.exampleBody ?? '{"dataframe_split":{"columns":["a","b"],"data":[[1,2]]}}';
const chatBase = run.urls.get("chat")?.replace(/\/invocations$/, "/v1");
process.stdout.write(
  `autopilot-serving local loop (HAProxy ${run.gateway.settings.bindAddress}:${run.gateway.settings.publicPort}, APA engine, model-server processes)\n` +
    `  endpoint  POST ${run.url}\n` +
    `  try       curl -s -H 'Authorization: Bearer ${o.apiKey}' -H 'Content-Type: application/json' \\\n` +
    `              -d '${body}' ${run.url}\n` +
    (chatBase !== undefined
      ? `  chat      OpenAI-compatible, base URL ${chatBase} (key ${o.apiKey}): chat, stream, completions (a deterministic stand-in), embeddings\n` +
        `  try       curl -s -H 'Authorization: Bearer ${o.apiKey}' -H 'Content-Type: application/json' \\\n` +
        `              -d '{"model":"chat","messages":[{"role":"user","content":"hello"}]}' ${chatBase}/chat/completions\n`
      : "") +
    `  metrics   ${run.metricsUrl}\n` +
    (model !== undefined
      ? `  model     ${model.path} (${model.flavors.join(", ")}) served by ${launcher?.label}; `
      : `  model     ${o.cpuMs} ms CPU + ${o.sleepMs} ms wait per request; `) +
    `replicas ${o.minReplicas}..${o.maxReplicas}; ` +
    `concurrency ${o.minConcurrency}..${o.maxConcurrency} (start ${o.initialConcurrency}); SLO p99 ${o.sloP99Ms} ms; ` +
    `down-window ${engineConfig.scaleDownWindowMs / 1000} s\n`,
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (phases.length > 0) process.stdout.write(`\nreport\n${run.report().lines.map((l) => `  ${l}`).join("\n")}\n`);
  if (o.record !== undefined) writeFileSync(o.record, run.records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  await run.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
process.on("SIGHUP", () => void shutdown());
const stopAfterS = o.duration ?? (phases.length > 0 ? phases.reduce((a, p) => a + p.durationS, 0) + 3 : undefined);
if (stopAfterS !== undefined) setTimeout(() => void shutdown(), stopAfterS * 1000);
