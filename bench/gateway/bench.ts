/**
 * `npm run bench:gateway`: latency and throughput direct to a model-server process vs through the gateway
 * (real HAProxy + agent, API-key auth), in the same run, side by side.
 *
 * - closed loop at concurrency 1, 16, 64 (wrk, µs-precision percentiles from its Lua `done` hook);
 * - fixed rates 1K and 5K req/s with an open-loop generator (`load-generator.ts`, its own process; latency from
 *   the scheduled send time), in two CPU placements: pinned (HAProxy on one CPU, generator + model on the other,
 *   identically in every arm) and unpinned; at 1K with two control arms: "direct again" (the noise floor: the
 *   same arm measured twice) and a trivial TCP proxy (the cost of any extra process on the path);
 * - saturation: a CPU-bound model (1 ms CPU per request), c=64, requests/s through the gateway vs direct.
 * Arms are interleaved round by round (rotating order); figures are medians of the per-round figures.
 * - at 1K and 5K req/s, the proxy arms' CPU per request (HAProxy's threads' CPU time from /proc over the run ÷
 *   requests answered): the gateway vs a minimal HTTP passthrough HAProxy vs the TCP proxy; and the agent's.
 * The latency runs use a 5 ms model (`--model-ms 5`). Prints the report; `--write-docs` writes docs/benchmarks/gateway.md,
 * `--out FILE` another file. Needs wrk and HAProxy (checked first).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { intOption, numberOption } from "../../controller/src/cli-options.ts";
import { startModelProcess } from "../../controller/src/local/model-process.ts";
import { hasTaskset, pin, processTree, runAutocannon, runOpenLoopProcess, runWrk, startBenchGateway, startTcpProxy, wrkScript } from "./bench-processes.ts";
import { emitReport, HAPROXY, reportOptions, requirePrerequisites, WRK } from "../bench-cli.ts";
import { renderReport, type BenchOptions, type ClosedRow, type RateBlock } from "./bench-report.ts";
import { armOrder, compareRounds, medianResult, type ArmResult } from "./bench-rounds.ts";
import { cpuPerRequest, startHttpPassthrough } from "./bench-cpu.ts";

const KEY = "bench-key";
const BODY = JSON.stringify({ dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } });

const DOC = "docs/benchmarks/gateway.md";

function parseOptions(): BenchOptions {
  return reportOptions(new Command()
    .name("bench:gateway")
    .description("Model server direct vs through the gateway (HAProxy + agent), same run")
    .option("--duration <s>", "seconds per closed-loop (wrk) run (whole seconds: wrk)", intOption("--duration", 1, 3600), 2)
    .option("--rounds <n>", "closed-loop rounds per side, alternating which side goes first", intOption("--rounds", 1, 1000), 3)
    .option("--rate-duration <s>", "seconds per fixed-rate (open-loop) run", numberOption("--rate-duration", 0.5, 3600), 2)
    .option("--rate-rounds <n>", "fixed-rate rounds per arm and placement (arms rotate each round)", intOption("--rate-rounds", 1, 1000), 4)
    .option("--model-ms <ms>", "latency of the model for the latency runs", numberOption("--model-ms", 0.001, 1_000_000), 5)
    .option("--threads <n>", "HAProxy nbthread of every proxy arm (the gateway's default is 1)", intOption("--threads", 1, 64), 1)
    .option("--placements <list>", "CPU placements for the fixed-rate runs: pinned,unpinned (pinned needs taskset and ≥ 2 CPUs)", "pinned,unpinned")
    .option("--no-autocannon", "skip the diagnostic run of the rate-budget method (autocannon overallRate, in this process) at 1K req/s")
    .option("--low-latency", "with tune.sched.low-latency on (the production gateway leaves it off, so the bench does too)"), DOC)
    .parse()
    .opts<BenchOptions>();
}

async function main(): Promise<void> {
  const o = parseOptions();
  requirePrerequisites("npm run bench:gateway", [WRK, HAPROXY]);
  const placements = o.placements.split(",").map((p) => p.trim());
  for (const p of placements) {
    if (p !== "pinned" && p !== "unpinned") throw new Error(`--placements: ${JSON.stringify(p)} is not allowed; use pinned and/or unpinned`);
  }
  const nCpu = cpus().length;
  const allCpus = `0-${nCpu - 1}`;
  if (placements.includes("pinned") && (nCpu < 2 || !hasTaskset())) {
    throw new Error(`--placements pinned needs taskset (util-linux) and ≥ 2 CPUs (found ${nCpu}); use --placements unpinned`);
  }
  const startedAt = Date.now();
  const loadBefore = loadavg();
  const dir = await mkdtemp(join(tmpdir(), "apgw-bench-"));
  const scripts = { direct: join(dir, "direct.lua"), gateway: join(dir, "gateway.lua") };
  await writeFile(scripts.direct, wrkScript(BODY));
  await writeFile(scripts.gateway, wrkScript(BODY, KEY));
  const latencyModel = await startModelProcess(["--sleep-ms", `${o.modelMs}`, "--cpu-ms", "0"]);
  const cpuModel = await startModelProcess(["--cpu-ms", "1"]);
  const gw = await startBenchGateway(KEY, { threads: o.threads, lowLatency: o.lowLatency === true });
  const tcp = await startTcpProxy(dir, latencyModel.port, o.threads);
  const passthrough = await startHttpPassthrough(dir, latencyModel.port, o.threads);
  try {
    gw.source.upsertPod("latency", { id: "m1", addr: "127.0.0.1", port: latencyModel.port, ready: true, terminating: false });
    gw.source.upsertPod("cpu", { id: "c1", addr: "127.0.0.1", port: cpuModel.port, ready: true, terminating: false });
    await gw.agent.cycle();
    const urls = {
      direct: `http://127.0.0.1:${latencyModel.port}/invocations`,
      tcpProxy: `http://127.0.0.1:${tcp.port}/invocations`,
      passthrough: `http://127.0.0.1:${passthrough.port}/invocations`,
      gateway: `http://127.0.0.1:${gw.settings.publicPort}/serving-endpoints/latency/invocations`,
      cpuDirect: `http://127.0.0.1:${cpuModel.port}/invocations`,
      cpuGateway: `http://127.0.0.1:${gw.settings.publicPort}/serving-endpoints/cpu/invocations`,
    };
    // Proxy side: HAProxy (master + worker), the TCP proxy and this process (the agent, which in production runs
    // next to HAProxy). Client side: the load generator and the model process.
    const place = (placement: string): string | undefined => {
      const proxyCpus = placement === "pinned" ? "0" : allCpus;
      const clientCpus = placement === "pinned" ? "1" : allCpus;
      pin([...processTree(gw.haproxy.masterPid as number), ...processTree(tcp.child.pid as number), ...processTree(passthrough.child.pid as number), process.pid], proxyCpus);
      pin([latencyModel.child.pid as number, cpuModel.child.pid as number], clientCpus);
      return placement === "pinned" ? clientCpus : undefined;
    };
    if (hasTaskset()) place("unpinned");
    await runWrk(urls.direct, scripts.direct, 4, 1);
    await runWrk(urls.gateway, scripts.gateway, 4, 1);

    // Closed loop: two arms, alternating which goes first.
    const closed: ClosedRow[] = [];
    const pair = async (label: string, direct: () => Promise<ArmResult>, gateway: () => Promise<ArmResult>): Promise<ClosedRow> => {
      const as: ArmResult[] = [];
      const bs: ArmResult[] = [];
      for (let r = 0; r < o.rounds; r++) {
        for (const arm of armOrder(["direct", "gateway"], r)) {
          if (arm === "direct") as.push(await direct());
          else bs.push(await gateway());
        }
      }
      const row = { label, direct: medianResult(as), gateway: medianResult(bs), cmp: compareRounds(as, bs) };
      console.log(`${label}: direct p99 ${row.direct.p99Ms.toFixed(2)} gateway p99 ${row.gateway.p99Ms.toFixed(2)} added p99 ${row.cmp.medianAdded99Ms.toFixed(2)} ms`);
      closed.push(row);
      return row;
    };
    // c=256 is 4× the pod's maxconn (64): the gateway queues most requests, direct does not limit them.
    for (const c of [1, 16, 64, 256]) {
      const label = `c=${c}, ${o.modelMs} ms model (wrk)${c > 64 ? ", above the pod's maxconn 64: the gateway queues" : ""}`;
      await pair(label, () => runWrk(urls.direct, scripts.direct, c, o.duration), () => runWrk(urls.gateway, scripts.gateway, c, o.duration));
    }

    // Fixed rates per placement: open loop (and, with --autocannon, the rate-budget method as a diagnostic).
    const blocks: RateBlock[] = [];
    const specs: Array<{ rate: number; arms: string[]; rounds: number; generator: "open loop" | "autocannon" }> = [
      { rate: 1000, arms: ["direct", "direct again", "tcp proxy", "http passthrough", "gateway"], rounds: o.rateRounds, generator: "open loop" },
      { rate: 5000, arms: ["direct", "tcp proxy", "http passthrough", "gateway"], rounds: Math.min(o.rateRounds, 3), generator: "open loop" },
      ...(o.autocannon ? [{ rate: 1000, arms: ["direct", "gateway"], rounds: Math.min(o.rateRounds, 2), generator: "autocannon" as const }] : []),
    ];
    for (const placement of placements) {
      const genCpus = place(placement);
      for (const spec of specs) {
        // autocannon runs inside this process: put this process where the generator belongs.
        if (spec.generator === "autocannon" && genCpus) pin([process.pid], genCpus);
        const results = new Map<string, ArmResult[]>(spec.arms.map((a) => [a, []]));
        for (let r = 0; r < spec.rounds; r++) {
          for (const arm of armOrder(spec.arms, r)) {
            const url = arm === "gateway" ? urls.gateway : arm === "tcp proxy" ? urls.tcpProxy : arm === "http passthrough" ? urls.passthrough : urls.direct;
            const key = arm === "gateway" ? KEY : undefined;
            // The proxy whose CPU per request is measured (the gateway: HAProxy master + worker; not the agent).
            const proxyPid = arm === "gateway" ? gw.haproxy.masterPid : arm === "tcp proxy" ? tcp.child.pid : arm === "http passthrough" ? passthrough.child.pid : undefined;
            const open = () => runOpenLoopProcess({ url, ratePerS: spec.rate, durationS: o.rateDuration, body: BODY, ...(key ? { bearerKey: key } : {}), ...(genCpus ? { cpus: genCpus } : {}) });
            const agentBefore = process.cpuUsage();
            const measured =
              spec.generator === "autocannon"
                ? await runAutocannon(url, spec.rate, o.rateDuration, BODY, key)
                : proxyPid !== undefined ? await cpuPerRequest([proxyPid], o.rateDuration, open) : await open();
            // The agent (this process: its request-log reader parses every gateway log line) on the gateway arm.
            const agentUs = process.cpuUsage(agentBefore);
            const res: ArmResult = arm === "gateway" && spec.generator === "open loop"
              ? { ...measured, agentCpuUsPerRequest: (agentUs.user + agentUs.system) / Math.max(1, measured.rps * o.rateDuration) }
              : measured;
            (results.get(arm) as ArmResult[]).push(res);
            const cpu = (res.cpuUsPerRequest !== undefined ? `, proxy CPU ${res.cpuUsPerRequest.toFixed(1)} µs/request` : "") + (res.agentCpuUsPerRequest !== undefined ? `, agent ${res.agentCpuUsPerRequest.toFixed(1)} µs/request` : "");
            console.log(`${placement} ${spec.generator} ${spec.rate}/s round ${r + 1} ${arm}: p50 ${res.p50Ms.toFixed(2)} p99 ${res.p99Ms.toFixed(2)} ms, ${res.rps.toFixed(0)} req/s${cpu} (machine load ${(loadavg()[0] ?? 0).toFixed(2)})`);
          }
        }
        if (spec.generator === "autocannon" && genCpus) place(placement);
        blocks.push({ placement, ratePerS: spec.rate, generator: spec.generator, arms: spec.arms, results });
      }
    }
    if (hasTaskset()) place("unpinned");

    const sat = await pair(`saturation c=64, 1 ms CPU model (wrk)`, () => runWrk(urls.cpuDirect, scripts.direct, 64, o.duration), () => runWrk(urls.cpuGateway, scripts.gateway, 64, o.duration));
    const md = renderReport({
      options: o, closed, blocks, saturation: sat, cpus: nCpu, loadBefore, loadAfter: loadavg(), startedAt, finishedAt: Date.now(),
    });
    emitReport(o, DOC, md.markdown);
    console.log(md.verdict.join("\n"));
  } finally {
    await tcp.stop();
    await passthrough.stop();
    await gw.stop();
    await latencyModel.stop();
    await cpuModel.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
