/**
 * One local run of the whole loop: gateway (HAProxy + agent), model-server processes (local scaler), the APA
 * engine deciding every second, optional open-loop load and a fault (SIGKILL of a replica). `npm run dev` and
 * the whole-loop tests use it.
 */
import type { EngineConfig } from "../engine/config.ts";
import type { DriverTick } from "../engine/driver.ts";
import type { EndpointSample, EndpointSpec, PodSample } from "../engine/types.ts";
import { GatewayMetricsTracker } from "../gateway/metrics-reader.ts";
import { parseServerStats, SHOW_SERVER_STATS } from "../gateway/runtime-api.ts";
import { PayloadLogger } from "../gateway/payload-logger.ts";
import { filePayloadSink } from "../gateway/payload-sink-file.ts";
import { backendStatsAnswer } from "../gateway/stats-route.ts";
import { AccessLogCollector } from "./access-log.ts";
import { CpuMeter } from "./cpu-meter.ts";
import { startLocalGateway, type LocalGateway } from "./local-gateway.ts";
import { hashApiKey } from "./local-source.ts";
import { OpenLoopLoad, type LoadPhase, type LoadSecond } from "./load.ts";
import { LocalLoop, type LoopStatus } from "./loop.ts";
import { ProcessPool } from "./process-pool.ts";
import { SecondTicker } from "./second-ticker.ts";
import { exampleModelLauncher, type ReplicaLauncher } from "./replica-launchers.ts";
import { secondP99, summariseRun, type KillEvent, type RunReport, type SecondRecord } from "./run-report.ts";

/** A further endpoint served beside the main one: its own processes and its own engine loop. */
export interface CompanionEndpoint {
  readonly name: string;
  /** Routing at the gateway (`vllm`: the OpenAI-compatible paths). */
  readonly runtime: EndpointSpec["runtime"];
  readonly spec: EndpointSpec;
  readonly launcher: ReplicaLauncher;
}

export interface LocalRunOptions {
  readonly endpoint: string;
  readonly apiKey: string;
  readonly spec: EndpointSpec;
  readonly engineConfig: EngineConfig;
  /** Example model cost per request: CPU burnt and wait without CPU, ms (when there is no launcher). */
  readonly cpuMs: number;
  readonly sleepMs: number;
  /** What the main endpoint's replicas run. @default the example model server with cpuMs/sleepMs */
  readonly launcher?: ReplicaLauncher;
  /** Body the built-in load sends. @default a dataframe_split row for the example model */
  readonly loadBody?: string;
  /** Endpoints served beside the main one (same gateway, same API key). */
  readonly companions?: readonly CompanionEndpoint[];
  readonly queueTimeoutMs: number;
  readonly maxQueue: number;
  readonly publicPort?: number;
  readonly metricsPort?: number;
  readonly phases?: readonly LoadPhase[];
  /** Second of the load at which one ready replica gets SIGKILL. */
  readonly killAtS?: number;
  /** Called every second with the record and the engine's view. */
  readonly onSecond?: (r: SecondRecord, s: LoopStatus) => void;
  readonly onNotice?: (m: string) => void;
  /** Called on every engine tick of the main endpoint with its input sample, state and decision (debug traces). */
  readonly trace?: (t: DriverTick) => void;
  /** Payload logs of the main endpoint as files under `dir` (the bucket's layout), a `sampleRate` share of requests. @default off */
  readonly payloadLog?: { readonly dir: string; readonly sampleRate: number };
}

export interface LocalRun {
  readonly url: string;
  readonly metricsUrl: string;
  readonly gateway: LocalGateway;
  readonly pool: ProcessPool;
  /** URL of each endpoint's invocations route (main and companions). */
  readonly urls: ReadonlyMap<string, string>;
  readonly records: SecondRecord[];
  /** When the clock (and the load) started, ms since the epoch: second `tS` of a record ends at this + (tS + 1) s. */
  readonly startedAtMs: number;
  readonly kills: KillEvent[];
  /** The load generator's books: requests sent in each second of the load and how they were answered ([] without load). */
  readonly loadSeconds: readonly LoadSecond[];
  /** Resolves when the load schedule has ended (immediately without load). */
  readonly loadDone: Promise<void>;
  report(): RunReport;
  stop(): Promise<void>;
}

export async function startLocalRun(o: LocalRunOptions): Promise<LocalRun> {
  const notice = o.onNotice ?? (() => undefined);
  const initial = o.spec.initialTargetConcurrency ?? o.spec.concurrency.min;
  const logs = new AccessLogCollector(() => Date.now());
  const companions = o.companions ?? [];
  const payloads = o.payloadLog === undefined ? undefined
    : new PayloadLogger({ sink: filePayloadSink(o.payloadLog.dir), writer: "dev", flushIntervalMs: 2000, log: notice });
  const gatewayEndpoint = (name: string, spec: EndpointSpec) => ({
    name, runtime: spec.runtime, auth: { apiKeys: true, jwt: false }, targetConcurrency: spec.initialTargetConcurrency ?? spec.concurrency.min,
    slots: spec.replicas.max + 2, queueTimeoutMs: o.queueTimeoutMs, maxQueue: o.maxQueue,
    maxBodyBytes: 16 * 1024 * 1024, modelTimeoutMs: 60_000,
    ...(spec.sloP99Ms !== undefined ? { latencyObjectiveMs: spec.sloP99Ms } : {}),
    ...(o.payloadLog !== undefined && name === o.endpoint ? { payloadLog: { sampleRate: o.payloadLog.sampleRate } } : {}),
  });
  const gateway = await startLocalGateway({
    endpoints: [gatewayEndpoint(o.endpoint, o.spec), ...companions.map((c) => gatewayEndpoint(c.name, c.spec))],
    apiKeys: [{ id: "dev", sha256: hashApiKey(o.apiKey), endpoints: [o.endpoint, ...companions.map((c) => c.name)] }],
    publicPort: o.publicPort ?? 0,
    metricsPort: o.metricsPort ?? 0,
    onRecord: (r) => logs.record(r),
    ...(payloads !== undefined ? { consumers: [payloads] } : {}),
    log: notice,
  });
  const poolFor = (endpoint: string, launcher: ReplicaLauncher): ProcessPool => new ProcessPool({
    endpoint,
    source: gateway.source,
    launcher,
    drained: (id) => gateway.agent.podDrained(endpoint, id),
    log: notice,
  });
  const pool = poolFor(o.endpoint, o.launcher ?? exampleModelLauncher(["--cpu-ms", `${o.cpuMs}`, "--sleep-ms", `${o.sleepMs}`]));
  pool.scaleTo(o.spec.replicas.min);
  const companionPools = companions.map((c) => {
    const p = poolFor(c.name, c.launcher);
    p.scaleTo(c.spec.replicas.min);
    return p;
  });
  const invocationsUrl = (name: string): string => `http://127.0.0.1:${gateway.settings.publicPort}/serving-endpoints/${name}/invocations`;
  const url = invocationsUrl(o.endpoint);
  const urls = new Map([o.endpoint, ...companions.map((c) => c.name)].map((n) => [n, invocationsUrl(n)]));
  const metricsUrl = `http://127.0.0.1:${gateway.settings.metricsPort}/metrics?scope=backend`;
  const tracker = new GatewayMetricsTracker();
  const cpu = new CpuMeter();

  // One gateway page per second, read by every endpoint's loop.
  let pageAtMs = -1;
  const samplesAt = async (nowMs: number) => {
    if (nowMs - pageAtMs >= 500) {
      // What the Kubernetes controller reads: the gateway agent's /stats answer (HAProxy's `show stat -1 2 -1`
      // CSV from the runtime socket and the per-request counters of the log stream), built the same way here.
      const stats = await backendStatsAnswer(gateway.api, gateway.requests.section);
      if (stats.status !== 200) throw new Error(stats.body.trim());
      tracker.ingestPage("local", stats.body, nowMs);
      pageAtMs = nowMs;
    }
    return tracker.samples(nowMs, 5000);
  };
  const sampleOf = (endpoint: string, pool: ProcessPool) => async (nowMs: number): Promise<EndpointSample> => {
    const base = (await samplesAt(nowMs)).get(endpoint)?.sample;
    const pods: PodSample[] = pool.list().filter((r) => r.state === "ready" && r.pid !== undefined).map((r) => {
      const util = cpu.read(r.pid as number, nowMs);
      return util === undefined ? { ready: true } : { ready: true, cpuUtil: Math.min(1, util) };
    });
    const s = base ?? { atMs: nowMs, intervalMs: 1000, inFlight: 0, queued: 0, arrivals: 0, completions: 0, rejections: 0 };
    // The engine gets what the Kubernetes controller gets (the metrics reader over /stats + pod CPU), nothing
    // more: service and queue time, p50/p99 and the over-objective count come from per-request gateway timings.
    return { ...s, pods };
  };
  const loopFor = (endpoint: string, spec: EndpointSpec, scaler: ProcessPool, onChange: (m: string) => void, trace?: (t: DriverTick) => void): LocalLoop => new LocalLoop(
    {
      endpoint,
      spec,
      config: o.engineConfig,
      sample: sampleOf(endpoint, scaler),
      scaler,
      setTargetConcurrency: (t) => gateway.source.setTargetConcurrency(endpoint, t),
      now: () => Date.now(),
      onChange,
      ...(trace !== undefined ? { trace } : {}),
    },
    spec.initialTargetConcurrency ?? spec.concurrency.min,
  );
  const loop = loopFor(o.endpoint, o.spec, pool, notice, o.trace);
  const companionLoops = companions.map((c, i) => loopFor(c.name, c.spec, companionPools[i] as ProcessPool, (m) => notice(`${c.name}: ${m}`)));

  // The clock (and the load) start once the first replicas serve through the gateway.
  const startBy = Date.now() + Math.max(10_000, ...[o.launcher, ...companions.map((c) => c.launcher)].map((l) => l?.startTimeoutMs ?? 0));
  const allReady = (): boolean => pool.state(initial).readyReplicas >= o.spec.replicas.min &&
    companions.every((c, i) => (companionPools[i] as ProcessPool).state(1).readyReplicas >= c.spec.replicas.min);
  while (Date.now() < startBy && !allReady()) await new Promise((r) => setTimeout(r, 50));
  await gateway.agent.cycle();

  const phases = o.phases ?? [];
  const body = o.loadBody ?? JSON.stringify({ dataframe_split: { columns: ["a", "b"], data: [[1, 2]] } });
  const load = phases.length > 0 ? new OpenLoopLoad({ url, apiKey: o.apiKey, body, phases }) : undefined;
  const records: SecondRecord[] = [];
  const kills: KillEvent[] = [];
  const startMs = Date.now();
  let killed = false;
  let lastS = 0;

  const tick = async (): Promise<void> => {
    // Wall-clock seconds since the start, the same clock the load books its seconds by.
    const tS = Math.max(lastS + 1, Math.round((Date.now() - startMs) / 1000));
    lastS = tS;
    const status = await loop.tick();
    for (const l of companionLoops) await l.tick();
    const sec = load?.seconds[tS - 1];
    const rec: SecondRecord = {
      tS: tS - 1,
      offered: load?.rateAt(tS - 1) ?? 0,
      sent: sec?.sent ?? 0, ok: sec?.ok ?? 0, rejected: sec?.rejected ?? 0, failed: sec?.failed ?? 0,
      clientP99Ms: sec ? secondP99(sec.latenciesMs) : undefined,
      inFlight: status.sample.inFlight, queued: status.sample.queued, gatewayP99Ms: logs.window(o.endpoint, 1000).p99Ms,
      desiredReplicas: status.state.desiredReplicas, readyReplicas: status.state.readyReplicas,
      startingReplicas: status.state.startingReplicas, targetConcurrency: status.targetConcurrency,
      reason: status.decision ? `${status.decision.replicasReason}/${status.decision.concurrencyReason}` : "-",
    };
    records.push(rec);
    o.onSecond?.(rec, status);
    for (const k of kills) {
      if (k.replacedAfterS === undefined && tS > k.tS && status.state.readyReplicas >= status.state.desiredReplicas) k.replacedAfterS = tS - k.tS;
    }
    if (o.killAtS !== undefined && !killed && tS >= o.killAtS) {
      killed = true;
      const victim = pool.list().find((r) => r.state === "ready");
      if (victim !== undefined) {
        const servers = parseServerStats(await gateway.api.send(SHOW_SERVER_STATS));
        const slot = servers.find((s) => s.port === victim.port && s.addr === "127.0.0.1");
        const onPod = slot?.sessions ?? 0;
        pool.kill(victim.id);
        const atMs = Date.now();
        kills.push({ tS, loadSecond: Math.floor((atMs - (load?.startedAtMs ?? startMs)) / 1000), atMs, podId: victim.id, inFlightOnPod: onPod, slot: slot ? `${slot.backend}/${slot.server}` : "?" });
        notice(`killed ${victim.id} (pid ${victim.pid}) with SIGKILL; ${onPod} requests were in flight on it`);
      }
    }
  };
  // Ticks at whole seconds of the run (no drift: a sample covers the load's second), never stacked.
  const ticker = new SecondTicker({
    startMs, periodMs: 1000, tick, now: () => Date.now(),
    setTimer: (f, ms) => setTimeout(f, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
    onError: (e) => notice(`tick failed: ${(e as Error).message}`),
  });
  ticker.start();
  const loadDone = load?.run(startMs) ?? Promise.resolve();

  return {
    url, metricsUrl, gateway, pool, urls, records, kills, loadDone, startedAtMs: startMs, loadSeconds: load?.seconds ?? [],
    report: () => {
      for (const k of kills) {
        const after = logs.failures.filter((f) => f.atMs >= k.atMs - 1000);
        k.failedOnPod = after.filter((f) => f.slot === k.slot).length;
        k.failedElsewhere = after.length - k.failedOnPod;
      }
      // Answers are booked to the second their request was sent, and many arrive after that second's record was
      // taken: refresh the client counts from the load generator's final books.
      const final = records.map((r) => {
        const sec = load?.seconds[r.tS];
        return sec === undefined ? r : { ...r, sent: sec.sent, ok: sec.ok, rejected: sec.rejected, failed: sec.failed, clientP99Ms: secondP99(sec.latenciesMs) };
      });
      records.splice(0, records.length, ...final);
      return summariseRun(final, phases, { sloP99Ms: o.spec.sloP99Ms ?? Infinity, downWindowS: o.engineConfig.scaleDownWindowMs / 1000, kills });
    },
    async stop() {
      ticker.stop();
      load?.stop();
      await Promise.all([pool.close(), ...companionPools.map((p) => p.close())]);
      await gateway.stop();
      // Every request HAProxy logged is in: write the last payload-log batches.
      await payloads?.close();
    },
  };
}
