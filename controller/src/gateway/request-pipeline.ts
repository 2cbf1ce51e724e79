/**
 * Wires the per-request stream for one gateway (the agent in Kubernetes, the local loop): the UDP reader
 * HAProxy logs to, the observer that counts every request (for `/stats` and Prometheus), and the consumers of
 * each record (payload logs, traces). Endpoint objectives and pod versions are read from the desired state
 * and the agent's slot plan when a record arrives.
 */
import type { Registry } from "prom-client";
import { Gauge } from "prom-client";
import type { GatewayAgent } from "./agent.ts";
import { agentLogTarget } from "./render-observe.ts";
import type { RequestRecord } from "./request-log.ts";
import { startRequestLogReader, type RequestLogReader } from "./request-log-reader.ts";
import { RequestObserver } from "./request-observer.ts";
import { formatRequestSection } from "./request-stats-wire.ts";
import type { DesiredState, DesiredStateSource, GatewayEndpoint } from "./types.ts";

/** Something that takes each record of a known endpoint (payload logger, span exporter). */
export interface RecordConsumer {
  consume(record: RequestRecord, endpoint: GatewayEndpoint, version: string): void;
}

export interface RequestPipelineOptions {
  readonly source: DesiredStateSource;
  /** UDP port of the reader; 0 = a free one. @default 0 */
  readonly port?: number;
  readonly registry?: Registry;
  readonly consumers?: readonly RecordConsumer[];
  /** HAProxy lines that are not request records (alerts, notices). */
  readonly onOtherLine?: (line: string) => void;
  /** Every record, before counting (tests, the local loop's display). */
  readonly onRecord?: (record: RequestRecord) => void;
}

export interface RequestPipeline {
  /** The HAProxy `log` target for `GatewaySettings.logTarget`. */
  readonly logTarget: string;
  readonly reader: RequestLogReader;
  readonly observer: RequestObserver;
  /** The agent whose slot plan maps a record's slot to its pod's version (set once the agent exists). */
  attach(agent: GatewayAgent): void;
  /** The `/stats` request section (request-stats-wire.ts). */
  section(): string;
  close(): Promise<void>;
}

export async function startRequestPipeline(o: RequestPipelineOptions): Promise<RequestPipeline> {
  let agent: GatewayAgent | undefined;
  let seen: DesiredState | undefined;
  let byName = new Map<string, GatewayEndpoint>();
  let versions = new Map<string, string>();
  const desired = (): void => {
    const d = o.source.current();
    if (d === seen) return;
    seen = d;
    byName = new Map(d.endpoints.map((e) => [e.name, e]));
    versions = new Map();
    for (const pods of d.pods.values()) for (const p of pods) if (p.version !== undefined) versions.set(p.id, p.version);
  };
  const observer = new RequestObserver({
    ...(o.registry !== undefined ? { registry: o.registry } : {}),
    endpointObjective: (name) => {
      desired();
      const ep = byName.get(name);
      return { known: ep !== undefined, objectiveMs: ep?.latencyObjectiveMs };
    },
    versionOf: (backend, server) => {
      const podId = agent?.slotValues(backend.slice(3))?.get(server)?.podId;
      return podId === undefined ? undefined : versions.get(podId);
    },
    onRecord: (r, version) => {
      const ep = r.endpoint === undefined ? undefined : byName.get(r.endpoint);
      if (ep === undefined) return;
      for (const c of o.consumers ?? []) c.consume(r, ep, version);
    },
  });
  const reader = await startRequestLogReader({
    ...(o.port !== undefined ? { port: o.port } : {}),
    onRecord: (r) => {
      o.onRecord?.(r);
      observer.ingest(r);
    },
    ...(o.onOtherLine !== undefined ? { onOtherLine: o.onOtherLine } : {}),
  });
  if (o.registry !== undefined) {
    new Gauge({
      name: "autopilot_gateway_request_log_dropped", help: "Request log datagrams the kernel dropped on the agent's socket (receive buffer full)",
      registers: [o.registry], collect() { this.set(reader.drops() ?? 0); },
    });
    new Gauge({ name: "autopilot_gateway_request_log_unparsed", help: "Lines on the request log socket that were not request records", registers: [o.registry], collect() { this.set(reader.unparsed()); } });
  }
  return {
    logTarget: agentLogTarget(reader.port),
    reader,
    observer,
    attach: (a) => { agent = a; },
    section: () => {
      desired();
      // Endpoints no longer served stop being reported.
      for (const name of observer.counters().keys()) if (!byName.has(name)) observer.forget(name);
      return formatRequestSection(observer.counters());
    },
    close: () => reader.close(),
  };
}
