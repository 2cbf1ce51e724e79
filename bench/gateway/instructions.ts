/**
 * `npm run bench:gateway-instructions`: where the gateway's CPU per request goes, in a measure load on the machine
 * cannot move — user-space instructions per request counted by valgrind's callgrind (an instruction count is the
 * same on an idle and on a busy machine; CPU time is not). HAProxy runs the config the agent renders for
 * bench:gateway, and variants with one group of rules taken out (config-variants.ts), each under callgrind for a
 * fixed number of requests at a fixed rate; the minimal HTTP passthrough of bench:gateway is the reference.
 * Kernel time (the socket calls, the same for every arm but the log's one datagram) is not counted: bench:gateway's
 * CPU µs per request includes it. Prints the report; `--write-docs` writes docs/benchmarks/gateway-instructions.md.
 * Needs HAProxy and valgrind (checked first).
 */
import { execFile, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { intOption } from "../../controller/src/cli-options.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { startModelProcess } from "../../controller/src/local/model-process.ts";
import { emitReport, HAPROXY, reportOptions, requirePrerequisites, type Prerequisite } from "../bench-cli.ts";
import { runOpenLoopProcess, startBenchGateway } from "./bench-processes.ts";
import { CONFIG_VARIANTS, parseAnnotate, passthroughConfig, profiledConfig, type InstructionCounts } from "./config-variants.ts";

const run = promisify(execFile);
const DOC = "docs/benchmarks/gateway-instructions.md";
const KEY = "bench-key";
const BODY = JSON.stringify({ dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } });
const VALGRIND: Prerequisite = { command: "valgrind", probe: ["--version"], install: "sudo apt-get install -y valgrind   (brings callgrind, callgrind_control, callgrind_annotate)" };

interface Options {
  requests: number;
  rate: number;
  parallel: number;
  writeDocs?: boolean;
  out?: string;
}

interface Row {
  readonly name: string;
  readonly removes: string;
  readonly requests: number;
  readonly perRequest: InstructionCounts;
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** One arm: HAProxy with `cfg` under callgrind; warm-up, counters zeroed, `requests` at `rate`; per-request counts. */
async function measure(dir: string, name: string, cfgFor: (port: number) => string, path: string, o: Options): Promise<Row["perRequest"] & { requests: number }> {
  const port = await freePort();
  const file = join(dir, `${name}.cfg`);
  const out = join(dir, `${name}.callgrind`);
  await writeFile(file, cfgFor(port));
  const child = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, "/usr/sbin/haproxy", "-f", file, "-db"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const deadline = Date.now() + 180_000;
    while (!(await listening(port))) {
      if (child.exitCode !== null) throw new Error(`${name}: haproxy under valgrind exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`${name}: haproxy under valgrind did not listen within 180 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const url = `http://127.0.0.1:${port}${path}`;
    await runOpenLoopProcess({ url, ratePerS: 50, durationS: 2, body: BODY, bearerKey: KEY });
    await run("callgrind_control", ["--zero", `${child.pid}`]);
    const res = await runOpenLoopProcess({ url, ratePerS: o.rate, durationS: o.requests / o.rate, body: BODY, bearerKey: KEY });
    if (res.errors + res.non2xx > 0) throw new Error(`${name}: ${res.errors} errors and ${res.non2xx} non-2xx answers; the arm must serve every request`);
    child.kill("SIGTERM");
    await exited;
    const { stdout } = await run("callgrind_annotate", ["--inclusive=yes", "--threshold=100", out], { maxBuffer: 64 << 20 });
    const c = parseAnnotate(stdout);
    const n = Math.max(1, Math.round(res.rps * (o.requests / o.rate)));
    return { total: c.total / n, requestRules: c.requestRules / n, log: c.log / n, requests: n };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

function render(rows: readonly Row[], o: Options, meta: { startedAt: number; finishedAt: number; loadBefore: number[]; loadAfter: number[] }): string {
  const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;
  const gw = rows.find((r) => r.name === "gateway");
  const pt = rows.find((r) => r.name === "passthrough");
  const lines = [
    `# Gateway instructions per request`,
    ``,
    `Command: \`npm run bench:gateway-instructions -- --requests ${o.requests} --rate ${o.rate} --parallel ${o.parallel} --write-docs\` (writes this file; about ${Math.round((meta.finishedAt - meta.startedAt) / 1000)} s).`,
    ``,
    `Run on ${new Date(meta.startedAt).toISOString()}; load average (1 / 5 / 15 min) ${meta.loadBefore.map((x) => x.toFixed(2)).join(" / ")} at the start, ${meta.loadAfter.map((x) => x.toFixed(2)).join(" / ")} at the end`,
    `(an instruction count does not depend on it).`,
    ``,
    `HAProxy 2.6 under valgrind's callgrind, one foreground process per arm, the config bench:gateway runs (the agent's rendering:`,
    `API-key auth, routing, request ids, trace context, header checks, per-request log line, per-pod limits) without`,
    `master-worker and stats socket; ${o.requests} requests at ${o.rate}/s after a 2 s warm-up, counters zeroed in between. Each`,
    `variant takes one group of rules out (\`bench/gateway/config-variants.ts\`; for measuring only, never deployed): its cost is`,
    `the difference from the full config. **Total** = user-space instructions per request of the whole process (it also`,
    `holds fixed costs spread over the requests: health checks, shutdown); **request rules** = under \`http_process_req_common\``,
    `(the http-request rules of frontend and backend; no fixed costs); **log line** = under \`strm_log\`. Kernel time is not`,
    `counted (bench:gateway's CPU µs per request has it). Between runs the counts move by up to about 2k instructions per`,
    `request (how HAProxy's reads and wake-ups split the same requests), so smaller differences are not resolved.`,
    ``,
    `| arm | takes out | total instr/request | vs passthrough | request rules instr/request | saved vs gateway (rules) | log line instr/request |`,
    `|---|---|---|---|---|---|---|`,
    ...rows.map((r) => `| ${r.name} | ${r.removes} | ${k(r.perRequest.total)} | ${pt ? `${(r.perRequest.total / pt.perRequest.total).toFixed(2)}×` : "—"} | ${k(r.perRequest.requestRules)} | ${gw && r !== gw && r.name !== "passthrough" ? k(gw.perRequest.requestRules - r.perRequest.requestRules) : "—"} | ${k(r.perRequest.log)} |`),
    ``,
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const o = reportOptions(new Command()
    .name("bench:gateway-instructions")
    .description("User-space instructions per request of the gateway's HAProxy config and its variants (callgrind)")
    .option("--requests <n>", "requests per arm", intOption("--requests", 50, 100_000), 300)
    .option("--rate <n>", "requests per second (callgrind runs HAProxy ≈ 50× slower: keep it low)", intOption("--rate", 1, 1000), 100)
    .option("--parallel <n>", "arms under callgrind at once", intOption("--parallel", 1, 16), 2), DOC)
    .parse()
    .opts<Options>();
  requirePrerequisites("npm run bench:gateway-instructions", [HAPROXY, VALGRIND]);
  const startedAt = Date.now();
  const loadBefore = loadavg();
  const dir = await mkdtemp(join(tmpdir(), "apgw-instr-"));
  const model = await startModelProcess(["--sleep-ms", "5", "--cpu-ms", "0"]);
  const sink = createSocket("udp4");
  sink.on("message", () => undefined);
  await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()));
  const logPort = (sink.address() as { port: number }).port;
  try {
    const gw = await startBenchGateway(KEY, { threads: 1, lowLatency: false });
    gw.source.upsertPod("latency", { id: "m1", addr: "127.0.0.1", port: model.port, ready: true, terminating: false });
    await gw.agent.cycle();
    const rendered = await readFile(join(gw.dir, "haproxy.cfg"), "utf8");
    const mapPath = join(dir, "apikeys.map");
    await copyFile(gw.settings.apiKeyMapPath, mapPath);
    const [oldPort, oldMetrics, oldMap] = [gw.settings.publicPort, gw.settings.metricsPort, gw.settings.apiKeyMapPath];
    await gw.stop();
    const base = profiledConfig(rendered.replaceAll(oldMap, mapPath), logPort);
    const arms = [
      { name: "passthrough", removes: "everything: the minimal HTTP passthrough of bench:gateway", cfgFor: (port: number) => passthroughConfig(port, model.port), path: "/invocations" },
      ...CONFIG_VARIANTS.map((v) => ({
        name: v.name, removes: v.removes, path: "/serving-endpoints/latency/invocations",
        cfgFor: (port: number) => v.edit(base.replace(`:${oldPort} `, `:${port} `).replace(`:${oldMetrics}\n`, `:${port + 1}\n`)),
      })),
    ];
    const rows: Row[] = [];
    for (let i = 0; i < arms.length; i += o.parallel) {
      const batch = arms.slice(i, i + o.parallel);
      const got = await Promise.all(batch.map((a) => measure(dir, a.name, a.cfgFor, a.path, o)));
      batch.forEach((a, j) => {
        const g = got[j] as InstructionCounts & { requests: number };
        rows.push({ name: a.name, removes: a.removes, requests: g.requests, perRequest: g });
        console.log(`${a.name}: ${Math.round(g.total)} instructions/request (request rules ${Math.round(g.requestRules)}, log line ${Math.round(g.log)}), ${g.requests} requests (machine load ${(loadavg()[0] ?? 0).toFixed(2)})`);
      });
    }
    emitReport(o, DOC, render(rows, o, { startedAt, finishedAt: Date.now(), loadBefore, loadAfter: loadavg() }));
  } finally {
    sink.close();
    await model.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
