/**
 * The gateway agent's side of the gateway pod (controller/src/gateway/agent-main.ts): its flags and the
 * API-key file it reads. The agent runs HAProxy as its child process (the image carries Debian's HAProxy),
 * renders its config from the cluster (ServingEndpoints + EndpointSlices) and changes slots and limits live.
 */

/** Where the agent listens and keeps its files. */
export interface AgentLayout {
  /** Plain-HTTP public port of the agent's HAProxy (TLS is terminated in front of it, see gateway-spec.ts). */
  readonly publicPort: number;
  readonly metricsPort: number;
  readonly healthPort: number;
  /** Writable emptyDir for the rendered config, map file and sockets. */
  readonly workDir: string;
  /** Mounted Secret file with the API keys. */
  readonly apiKeysFile: string;
  readonly gatewayReplicas: number;
  /** OTLP/HTTP traces URL of the collector the program deploys; absent: no spans exported. */
  readonly otlpEndpoint?: string;
  /** Share of requests without a `traceparent` whose gateway-started trace is sampled. @default 0 */
  readonly traceSampleRate?: number;
  /** Payload logs: the environment's bucket (its name comes as `GW_PAYLOAD_LOG_BUCKET`, see `agentEnv`). */
  readonly payloadLog?: { readonly region: string; readonly prefix?: string };
}

/** Container args of the agent (the image's `node` entrypoint runs the given script). */
export function agentArgs(entry: string, l: AgentLayout): string[] {
  return [
    entry,
    // 0.0.0.0: the metrics frontend shares the bind address and must be reachable by the controller; the
    // gateway NetworkPolicy admits outside traffic only on the TLS port.
    "--bind-address", "0.0.0.0",
    "--public-port", String(l.publicPort),
    "--metrics-port", String(l.metricsPort),
    "--health-port", String(l.healthPort),
    "--work-dir", l.workDir,
    "--api-keys-file", l.apiKeysFile,
    "--gateway-replicas", String(l.gatewayReplicas),
    ...(l.otlpEndpoint !== undefined ? ["--otlp-endpoint", l.otlpEndpoint] : []),
    ...(l.traceSampleRate !== undefined ? ["--trace-sample-rate", String(l.traceSampleRate)] : []),
    ...(l.payloadLog !== undefined ? ["--payload-log-region", l.payloadLog.region, "--payload-log-prefix", l.payloadLog.prefix ?? "payload-logs"] : []),
  ];
}

/**
 * Agent environment: the payload-log bucket (a Pulumi output, so an env var rather than a flag) and the pod's
 * name (it names each payload-log object's writer).
 */
export function agentEnv(payloadLogBucket: unknown | undefined): { name: string; value?: unknown; valueFrom?: unknown }[] {
  return [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ...(payloadLogBucket !== undefined ? [{ name: "GW_PAYLOAD_LOG_BUCKET", value: payloadLogBucket }] : []),
  ];
}

/** The API-key file: `[{ id, sha256, endpoints: ["*"] }]`, each key allowed on every endpoint the gateway serves
 * (those of team stacks included, which the platform does not know). Hashes only, never keys. */
export function apiKeysFile(hashes: readonly string[]): string {
  return JSON.stringify(hashes.map((sha256, i) => ({ id: `key-${i + 1}`, sha256, endpoints: ["*"] })), null, 2) + "\n";
}
