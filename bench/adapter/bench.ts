/**
 * `npm run bench:adapter`: what the Triton adapter adds. Two arms in the same run, alternating rounds, closed loop
 * at concurrency 1 on 127.0.0.1 against a KServe-v2 TEST DOUBLE of Triton (bench/adapter/kserve-v2-double.ts;
 * Triton cannot run here) serving the example onnx model:
 *   direct   POST /v2/models/iris/infer with the v2 tensor body the adapter would send
 *   adapter  POST /invocations with the MLflow dataframe_split body, through the adapter process
 * Added latency = adapter − direct (p50, p99; median over rounds), and the adapter process's CPU per request
 * (from /proc, not wall time), for 1-row and 32-row requests.
 *
 *   npm run bench:adapter [-- --requests 2000 --rounds 5 --write-docs]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { intOption } from "../../controller/src/cli-options.ts";
import { prepareTritonRepository } from "../../controller/src/serving/triton-repository.ts";
import { startKserveV2Double } from "./kserve-v2-double.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ADAPTER_MAIN = join(REPO, "controller/src/serving/adapter-main.ts");
const MODEL = join(REPO, "examples/models/iris-onnx");
const DOC = join(REPO, "docs/benchmarks/adapter.md");

const o = new Command()
  .name("bench:adapter")
  .option("--requests <n>", "requests per arm per round", intOption("--requests", 10, 1_000_000), 2000)
  .option("--rounds <n>", "rounds (arms alternate within each)", intOption("--rounds", 1, 100), 5)
  .option("--write-docs", "write docs/benchmarks/adapter.md", false)
  .parse()
  .opts<{ requests: number; rounds: number; writeDocs: boolean }>();

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** utime + stime of a process, µs. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100);
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const median = (xs: number[]): number => pct(xs, 50);

const work = mkdtempSync(join(tmpdir(), "bench-adapter-"));
const load0 = loadavg()[0] ?? 0;
prepareTritonRepository(MODEL, join(work, "repo"), "iris");
const double = await startKserveV2Double({ repository: join(work, "repo"), defaultMaxBatchSize: 64 });
const adapter = spawn(process.execPath, [ADAPTER_MAIN, "serve", "--model-name", "iris", "--server", double.url, "--model-dir", MODEL, "--host", "127.0.0.1", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const adapterPort = await new Promise<number>((resolve, reject) => {
  adapter.once("exit", (c) => reject(new Error(`adapter exited ${c}`)));
  createInterface({ input: adapter.stdout! }).once("line", (l) => resolve(Number(/:(\d+)$/.exec(l)?.[1])));
});

const expected = JSON.parse(readFileSync(join(REPO, "examples/models/expected.json"), "utf8")) as { columns: string[]; rows: number[][] };
const lines: string[] = [];
const say = (l: string): void => {
  lines.push(l);
  console.log(l);
};
say(`| rows | direct p50 / p99 (ms) | adapter p50 / p99 (ms) | added p50 / p99 (ms) | adapter CPU per request (µs) |`);
say(`|---|---|---|---|---|`);
for (const rows of [1, 32]) {
  const data = Array.from({ length: rows }, (_, i) => expected.rows[i % expected.rows.length] as number[]);
  const mlflowBody = JSON.stringify({ dataframe_split: { columns: expected.columns, data } });
  const v2Body = JSON.stringify({ inputs: [{ name: "X", shape: [rows, 4], datatype: "FP32", data: data.flat() }], outputs: [{ name: "label" }] });
  for (let i = 0; i < 200; i++) {
    await post(double.port, "/v2/models/iris/infer", v2Body);
    await post(adapterPort, "/invocations", mlflowBody);
  }
  const added50: number[] = [];
  const added99: number[] = [];
  const direct: number[][] = [];
  const viaAdapter: number[][] = [];
  const cpu: number[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const d: number[] = [];
    for (let i = 0; i < o.requests; i++) d.push(await post(double.port, "/v2/models/iris/infer", v2Body));
    const c0 = cpuMicros(adapter.pid as number);
    const a: number[] = [];
    for (let i = 0; i < o.requests; i++) a.push(await post(adapterPort, "/invocations", mlflowBody));
    cpu.push((cpuMicros(adapter.pid as number) - c0) / o.requests);
    direct.push(d);
    viaAdapter.push(a);
    added50.push(pct(a, 50) - pct(d, 50));
    added99.push(pct(a, 99) - pct(d, 99));
  }
  const f = (x: number): string => x.toFixed(2);
  const signed = (x: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`;
  say(`| ${rows} | ${f(median(direct.map((d) => pct(d, 50))))} / ${f(median(direct.map((d) => pct(d, 99))))} | ${f(median(viaAdapter.map((a) => pct(a, 50))))} / ${f(median(viaAdapter.map((a) => pct(a, 99))))} | ${signed(median(added50))} / ${signed(median(added99))} | ${median(cpu).toFixed(0)} |`);
}
adapter.kill("SIGTERM");
await double.close();
agent.destroy();
rmSync(work, { recursive: true, force: true });
const cond = `${o.rounds} rounds × ${o.requests} requests per arm, concurrency 1, keep-alive, load average ${load0.toFixed(2)} at start, ${new Date().toISOString().slice(0, 10)}`;
console.log(cond);
if (o.writeDocs) {
  writeFileSync(DOC, [
    "# Triton adapter: added latency and CPU",
    "",
    "What the MLflow-protocol adapter in a Triton pod adds to a request, against the same model served by a KServe-v2",
    "test double of Triton (ONNX Runtime; Triton itself cannot run on our machines). Medians over rounds; the adapter's",
    "CPU comes from /proc (user + system time of its process), so machine load does not move it much.",
    "",
    "Command: `npm run bench:adapter -- --write-docs`",
    "",
    ...lines,
    "",
    `Conditions: ${cond}. Loopback only: in a pod the adapter talks to Triton over localhost too, so the figure is what`,
    "the pod adds; Triton's own time is not part of it. On a loaded machine the p99 columns are noise (a negative",
    "added p99 says so); the p50 and CPU columns are the figures to read.",
    "",
  ].join("\n"));
  console.log(`wrote ${DOC}`);
}
process.exit(0);
