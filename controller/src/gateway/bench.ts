/**
 * `npm run bench:gateway`: latency and throughput direct to a model-server process vs through the gateway
 * (real HAProxy + agent, API-key auth), in the same run, side by side.
 *
 * - closed loop at concurrency 1, 16, 64 (wrk, µs-precision percentiles from its Lua `done` hook);
 * - fixed rates 1K and 5K req/s (autocannon `overallRate`; latencies from its per-response timings in ms
 *   with fractions, because its own histogram rounds to whole ms);
 * - saturation: a CPU-bound model (1 ms CPU per request), c=64, requests/s through the gateway vs direct.
 * The latency runs use a 5 ms model (`--sleep-ms 5`: latency without CPU, so the 2-core box is not the limit).
 * Writes docs/benchmarks/gateway.md (or --out).
 */
import autocannon from "autocannon";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { numberOption } from "../cli-options.ts";
import { hashApiKey } from "../local/local-source.ts";
import { startLocalGateway } from "../local/local-gateway.ts";
import { startModelProcess } from "../local/model-process.ts";

const KEY = "bench-key";
const BODY = JSON.stringify({ dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } });

interface Result {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}


function wrkScript(withKey: boolean): string {
  return [
    `wrk.method = "POST"`,
    `wrk.body = '${BODY}'`,
    `wrk.headers["Content-Type"] = "application/json"`,
    withKey ? `wrk.headers["Authorization"] = "Bearer ${KEY}"` : "",
    `done = function(summary, latency, requests)`,
    `  local e = summary.errors`,
    `  io.write(string.format('RESULT {"requests":%.0f,"duration_us":%.0f,"errors":%.0f,"non2xx":%.0f,"p50":%.0f,"p99":%.0f}\\n',`,
    `    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))`,
    `end`,
  ].join("\n");
}

function runWrk(url: string, script: string, connections: number, durationS: number): Promise<Result> {
  const threads = connections === 1 ? 1 : 2;
  return new Promise((resolve, reject) => {
    execFile("wrk", ["-t", `${threads}`, "-c", `${connections}`, "-d", `${durationS}s`, "--timeout", "10s", "-s", script, url], (err, stdout, stderr) => {
      const m = /RESULT (\{.*\})/.exec(stdout);
      if (err || !m) return reject(new Error(`wrk failed: ${stderr || stdout || err?.message}`));
      const r = JSON.parse(m[1] as string);
      resolve({ rps: r.requests / (r.duration_us / 1e6), p50Ms: r.p50 / 1000, p99Ms: r.p99 / 1000, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function runRate(url: string, withKey: boolean, rate: number, durationS: number): Promise<Result> {
  const times: number[] = [];
  let non2xx = 0;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (withKey) headers.authorization = `Bearer ${KEY}`;
  const opts = { url, method: "POST" as const, headers, body: BODY, connections: Math.max(8, Math.ceil(rate / 80)), overallRate: rate, duration: durationS };
  let inst: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
  inst!.on("response", (_c: unknown, status: number, _b: number, ms: number) => {
    if (status >= 200 && status < 300) times.push(ms);
    else non2xx++;
  });
  const r = await done;
  times.sort((a, b) => a - b);
  return { rps: times.length / (r.duration || durationS), p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), errors: r.errors + r.timeouts, non2xx };
}

const f2 = (n: number): string => n.toFixed(2);
const f0 = (n: number): string => n.toFixed(0);

async function main(): Promise<void> {
  const o = new Command()
    .name("bench:gateway")
    .description("Model server direct vs through the gateway (HAProxy + agent), same run")
    .option("--duration <s>", "seconds per run", numberOption("--duration", 0.001, 1_000_000), 5)
    .option("--rounds <n>", "runs per side and scenario, alternating which side goes first (medians reported)", numberOption("--rounds", 0.001, 1_000_000), 3)
    .option("--model-ms <ms>", "latency of the model for the latency runs", numberOption("--model-ms", 0.001, 1_000_000), 5)
    .option("--threads <n>", "HAProxy nbthread", numberOption("--threads", 0.001, 1_000_000), 2)
    .option("--no-low-latency", "without tune.sched.low-latency (on by default: the bench shares a loaded machine)")
    .option("--out <file>", "markdown report", "docs/benchmarks/gateway.md")
    .parse()
    .opts<{ duration: number; rounds: number; modelMs: number; threads: number; lowLatency: boolean; out: string }>();

  const { loadavg, cpus } = await import("node:os");
  const loadBefore = loadavg()[0] ?? 0;
  const dir = await mkdtemp(join(tmpdir(), "apgw-bench-"));
  const scripts = { direct: join(dir, "direct.lua"), gateway: join(dir, "gateway.lua") };
  await writeFile(scripts.direct, wrkScript(false));
  await writeFile(scripts.gateway, wrkScript(true));
  const latencyModel = await startModelProcess(["--sleep-ms", `${o.modelMs}`, "--cpu-ms", "0"]);
  const cpuModel = await startModelProcess(["--cpu-ms", "1"]);
  const ep = (name: string) => ({
    name, runtime: "mlflow" as const, auth: { apiKeys: true, jwt: false }, targetConcurrency: 64, slots: 2,
    queueTimeoutMs: 10_000, maxQueue: 10_000, maxBodyBytes: 1_048_576, modelTimeoutMs: 30_000,
  });
  const gw = await startLocalGateway({
    endpoints: [ep("latency"), ep("cpu")],
    apiKeys: [{ id: "bench", sha256: hashApiKey(KEY), endpoints: ["latency", "cpu"] }],
    // No access log during the benchmark (stdout is not read).
    settings: { logTarget: "stdout format raw local0 err", threads: Math.floor(o.threads), lowLatency: o.lowLatency },
  });
  try {
    gw.source.upsertPod("latency", { id: "m1", addr: "127.0.0.1", port: latencyModel.port, ready: true, terminating: false });
    gw.source.upsertPod("cpu", { id: "c1", addr: "127.0.0.1", port: cpuModel.port, ready: true, terminating: false });
    await gw.agent.cycle();
    const urls = {
      direct: `http://127.0.0.1:${latencyModel.port}/invocations`,
      gateway: `http://127.0.0.1:${gw.settings.publicPort}/serving-endpoints/latency/invocations`,
      cpuDirect: `http://127.0.0.1:${cpuModel.port}/invocations`,
      cpuGateway: `http://127.0.0.1:${gw.settings.publicPort}/serving-endpoints/cpu/invocations`,
    };
    // Warm up both paths.
    await runWrk(urls.direct, scripts.direct, 4, 1);
    await runWrk(urls.gateway, scripts.gateway, 4, 1);

    const rows: string[] = [];
    const d = o.duration;
    const median = (xs: number[]): number => {
      const v = [...xs].sort((a, b) => a - b);
      const m = Math.floor(v.length / 2);
      return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
    };
    // Rounds alternate which side runs first, and the figures are medians (added latency: the median of the
    // per-round differences), so a burst of load from other processes hits both sides alike.
    const pair = async (label: string, direct: () => Promise<Result>, gateway: () => Promise<Result>) => {
      const as: Result[] = [];
      const bs: Result[] = [];
      for (let r = 0; r < o.rounds; r++) {
        if (r % 2 === 0) {
          as.push(await direct());
          bs.push(await gateway());
        } else {
          bs.push(await gateway());
          as.push(await direct());
        }
      }
      const med = (xs: Result[]): Result => ({
        rps: median(xs.map((x) => x.rps)), p50Ms: median(xs.map((x) => x.p50Ms)), p99Ms: median(xs.map((x) => x.p99Ms)),
        errors: xs.reduce((n, x) => n + x.errors, 0), non2xx: xs.reduce((n, x) => n + x.non2xx, 0),
      });
      const a = med(as);
      const b = med(bs);
      const added50 = median(as.map((x, i) => (bs[i] as Result).p50Ms - x.p50Ms));
      const added99 = median(as.map((x, i) => (bs[i] as Result).p99Ms - x.p99Ms));
      const ratio = median(as.map((x, i) => (bs[i] as Result).rps / x.rps));
      const row = `| ${label} | ${f0(a.rps)} | ${f2(a.p50Ms)} | ${f2(a.p99Ms)} | ${f0(b.rps)} | ${f2(b.p50Ms)} | ${f2(b.p99Ms)} | ${f2(added50)} | ${f2(added99)} | ${(ratio * 100).toFixed(0)}% | ${a.errors + a.non2xx}/${b.errors + b.non2xx} |`;
      console.log(row);
      rows.push(row);
      return { a, b, added99, ratio };
    };
    const header = [
      `| run | direct req/s | direct p50 ms | direct p99 ms | gateway req/s | gateway p50 ms | gateway p99 ms | added p50 ms | added p99 ms | gateway/direct req/s | errors+non-2xx (direct/gateway) |`,
      `|---|---|---|---|---|---|---|---|---|---|---|`,
    ];
    console.log(header.join("\n"));
    for (const c of [1, 16, 64]) {
      await pair(`c=${c}, ${o.modelMs} ms model (wrk)`, () => runWrk(urls.direct, scripts.direct, c, d), () => runWrk(urls.gateway, scripts.gateway, c, d));
    }
    const at1k = await pair(`1K req/s, ${o.modelMs} ms model (autocannon)`, () => runRate(urls.direct, false, 1000, d), () => runRate(urls.gateway, true, 1000, d));
    await pair(`5K req/s, ${o.modelMs} ms model (autocannon)`, () => runRate(urls.direct, false, 5000, d), () => runRate(urls.gateway, true, 5000, d));
    const sat = await pair(`saturation c=64, 1 ms CPU model (wrk)`, () => runWrk(urls.cpuDirect, scripts.direct, 64, d), () => runWrk(urls.cpuGateway, scripts.gateway, 64, d));

    const added99 = at1k.added99;
    const ratio = sat.ratio;
    const verdict = [
      `- Added p99 at 1K req/s with a ${o.modelMs} ms model: **${f2(added99)} ms** (acceptance: ≤ 1 ms) → ${added99 <= 1 ? "met" : "NOT met"}`,
      `- Throughput at saturation through the gateway: **${(ratio * 100).toFixed(1)}%** of direct (acceptance: ≥ 90%) → ${ratio >= 0.9 ? "met" : "NOT met"}`,
    ];
    console.log(verdict.join("\n"));
    console.log(`load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)} on ${cpus().length} cores`);
    const md = [
      `# Gateway benchmark`,
      ``,
      `Command: \`npm run bench:gateway -- --duration ${d} --rounds ${o.rounds} --model-ms ${o.modelMs} --threads ${o.threads}${o.lowLatency ? "" : " --no-low-latency"}\` (writes this file).`,
      ``,
      `Direct = wrk/autocannon → example model server process on 127.0.0.1. Gateway = the same load → HAProxy 2.6.12`,
      `(API-key auth with the sha256 map, routing, path rewrite, per-pod maxconn 64, leastconn, nbthread ${o.threads},`,
      `tune.sched.low-latency ${o.lowLatency ? "on" : "off"}) → the same model process.`,
      `Both measured in the same run: ${o.rounds} rounds per row, alternating which side runs first; each cell is the median`,
      `over the rounds, "added" is the median of the per-round differences. Latency runs use a model that waits ${o.modelMs} ms per request`,
      `without CPU; the saturation run uses a model that burns 1 ms of CPU per request (one Node process).`,
      `wrk gives µs-precision percentiles; autocannon runs the fixed rates (its per-response timings, not its ms-rounded histogram).`,
      ``,
      `Machine: ${cpus().length} cores; 1-minute load average ${loadBefore.toFixed(1)} at the start and ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
      `(other work shares the machine: a load above the core count means every process, HAProxy included, waits for CPU,`,
      `which shows up in p99). Compare the columns of one row. Run on ${new Date().toISOString()}.`,
      ``,
      ...header,
      ...rows,
      ``,
      ...verdict,
      ``,
      `Reading the figures: a fixed-rate row whose achieved req/s is below its target means the load generator or the`,
      `machine was the limit, not the gateway. On a loaded 2-core machine every extra process on the path (HAProxy) also`,
      `waits for CPU, which inflates the gateway's p99; the reference measurement on an idle machine of the same kind`,
      `(design brief §2.2: HAProxy 2.6.12, loopback) was +50 µs p50 and +160 µs p99 at concurrency 1. Re-run on a quiet machine to judge`,
      `the ≤ 1 ms criterion.`,
      ``,
    ].join("\n");
    await writeFile(o.out, md);
    console.log(`wrote ${o.out}`);
  } finally {
    await gw.stop();
    await latencyModel.stop();
    await cpuModel.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
