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
  /**
   * Payload logs: the sink and the environment's bucket (its name comes as `GW_PAYLOAD_LOG_BUCKET`, see
   * `agentEnv`); `endpointUrl` for an S3-compatible store (the local cloud's).
   */
  readonly payloadLog?: { readonly sink: "s3" | "gcs"; readonly region: string; readonly prefix?: string; readonly endpointUrl?: string };
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
    ...(l.payloadLog !== undefined
      ? [
        "--payload-log-sink", l.payloadLog.sink, "--payload-log-region", l.payloadLog.region, "--payload-log-prefix", l.payloadLog.prefix ?? "payload-logs",
        ...(l.payloadLog.endpointUrl !== undefined ? ["--payload-log-endpoint", l.payloadLog.endpointUrl] : []),
      ]
      : []),
  ];
}

/** Secret in the gateway namespace with the payload-log store's static credentials (local stores only). */
export const PAYLOAD_LOG_CREDENTIALS_SECRET = "payload-log-credentials";

/**
 * Agent environment: the payload-log bucket (a Pulumi output, so an env var rather than a flag), the pod's name
 * (it names each payload-log object's writer) and, for a store with static credentials, the AWS SDK's key
 * variables from `PAYLOAD_LOG_CREDENTIALS_SECRET`.
 */
export function agentEnv(payloadLogBucket: unknown | undefined, staticCredentials = false): { name: string; value?: unknown; valueFrom?: unknown }[] {
  const fromSecret = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: PAYLOAD_LOG_CREDENTIALS_SECRET, key: name } } });
  return [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ...(payloadLogBucket !== undefined ? [{ name: "GW_PAYLOAD_LOG_BUCKET", value: payloadLogBucket }] : []),
    ...(payloadLogBucket !== undefined && staticCredentials ? [fromSecret("AWS_ACCESS_KEY_ID"), fromSecret("AWS_SECRET_ACCESS_KEY")] : []),
  ];
}

/** A key scoped to endpoints (`["*"]`: every endpoint, including ones created later). */
export interface ScopedKey {
  readonly id: string;
  readonly sha256: string;
  readonly endpoints: readonly string[];
}

/**
 * The API-key file: `[{ id, sha256, endpoints }]`. Hashes only, never keys. `hashes` may call every endpoint the
 * gateway serves (`["*"]`, expanded by the agent; those of team stacks included, which the platform does not
 * know); `scoped` only theirs.
 */
export function apiKeysFile(hashes: readonly string[], scoped: readonly ScopedKey[] = []): string {
  const all = hashes.map((sha256, i) => ({ id: `key-${i + 1}`, sha256, endpoints: ["*"] }));
  return JSON.stringify([...all, ...scoped.map((k) => ({ id: k.id, sha256: k.sha256, endpoints: [...k.endpoints] }))], null, 2) + "\n";
}
