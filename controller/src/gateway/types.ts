/**
 * Input types of the gateway: what the config renderer and the gateway agent consume.
 *
 * Pure leaf module (no Node I/O): the Pulumi Gateway component and the Kubernetes controller import these
 * shapes. Units are in the names (`...Ms` milliseconds, `...Bytes` bytes).
 */
import type { RuntimeKind } from "../engine/types.ts";

export type { RuntimeKind };

/** JWT signature algorithms the gateway verifies (HAProxy 2.6 `jwt_verify`, public key from a PEM file). */
export type JwtAlgorithm = "RS256" | "ES256";

/** One trusted JWT issuer. Keys are read when HAProxy starts: rotating one needs a reload. */
export interface JwtIssuer {
  readonly alg: JwtAlgorithm;
  /** Path of the PEM public key (SPKI, `-----BEGIN PUBLIC KEY-----`) on the gateway's file system. */
  readonly publicKeyPath: string;
  /** The `iss` claim a token must carry. */
  readonly issuer: string;
  /** The audience a token's `aud` must name (as the string, or among the first 8 elements of an array). */
  readonly audience: string;
}

/** How callers of one endpoint prove who they are. At least one must be enabled. */
export interface EndpointAuth {
  /** Accept API keys (`Authorization: Bearer <key>`) whose sha256 is scoped to this endpoint. */
  readonly apiKeys: boolean;
  /** Accept JWTs from `GatewaySettings.jwtIssuers` whose endpoint claim names this endpoint. */
  readonly jwt: boolean;
}

/** Native paths of the model runtime behind an endpoint. Defaults per runtime: see `runtimePaths`. */
export interface RuntimePaths {
  /** Target of `POST /serving-endpoints/{name}/invocations`. */
  readonly invocations: string;
  /** Targets of the OpenAI-compatible paths (LLM runtimes only). */
  readonly chatCompletions?: string;
  readonly completions?: string;
  readonly embeddings?: string;
  /** Target of `GET /serving-endpoints/{name}/v1/models`. */
  readonly models?: string;
}

/** One serving endpoint as the gateway sees it. */
export interface GatewayEndpoint {
  /** DNS-label name, used in the URL and as the backend name `be_<name>`. */
  readonly name: string;
  readonly runtime: RuntimeKind;
  /** Override of the runtime's native paths. @default runtimePaths(runtime) */
  readonly paths?: RuntimePaths;
  readonly auth: EndpointAuth;
  /** Requests one pod serves at once (before division across gateway replicas). */
  readonly targetConcurrency: number;
  /** Pre-made server slots (upper bound of pods without a reload). */
  readonly slots: number;
  /** Longest wait in the endpoint queue before a 429. */
  readonly queueTimeoutMs: number;
  /** Queue length at which new requests get an immediate 429. */
  readonly maxQueue: number;
  /** Largest accepted request body (Content-Length); larger → 413. */
  readonly maxBodyBytes: number;
  /** Longest time a pod may take to answer; then 504. */
  readonly modelTimeoutMs: number;
  /** p99 latency objective, ms: requests slower than this are counted over the objective. @default none */
  readonly latencyObjectiveMs?: number;
  /** Payload logging (inference table records) for a sample of requests. @default off */
  readonly payloadLog?: PayloadLogSettings;
}

/** Per-endpoint payload logging: which requests are recorded and how their bodies are cut down. */
export interface PayloadLogSettings {
  /** Share of requests recorded, (0, 1]. */
  readonly sampleRate: number;
  /** Bytes kept of each body (request and response), 1..12000 (their base64 must fit HAProxy's buffer). @default 8192 */
  readonly maxBodyBytes?: number;
  /** JSON object keys whose values are replaced by "[REDACTED]" at any depth of either body. @default [] */
  readonly redactFields?: readonly string[];
}

/** Gateway-wide settings. */
export interface GatewaySettings {
  /** Address the public frontend binds to, e.g. "127.0.0.1" or "0.0.0.0". */
  readonly bindAddress: string;
  readonly publicPort: number;
  /** Prometheus exporter port (own frontend; not reachable through the public one). */
  readonly metricsPort: number;
  /** Path of the admin stats socket (runtime API). */
  readonly statsSocketPath: string;
  /** Path of the API-key map file (`sha256hex` → key id, `sha256hex/endpoint` → key id). */
  readonly apiKeyMapPath: string;
  /** Number of gateway replicas sharing the pods; per-pod maxconn = max(1, floor(target / replicas)). */
  readonly gatewayReplicas: number;
  readonly jwtIssuers: readonly JwtIssuer[];
  /** JWT claim that must equal the endpoint name. @default "endpoint" */
  readonly jwtEndpointClaim?: string;
  /** Clock skew allowed for `nbf` and `iat` (a token is refused when either is further ahead), s. @default 60 */
  readonly jwtClockSkewS?: number;
  /** Longest time to receive a request's headers, and then its body (the body deadline); then 408. @default 10000 */
  readonly clientRequestTimeoutMs?: number;
  /**
   * Request bodies up to this size are received in full before the request takes a pod slot (HAProxy's buffer,
   * `tune.bufsize`, is sized to hold them and the headers). Larger bodies (up to an endpoint's `maxBodyBytes`)
   * take the slot once this much is in and stream the rest. Memory: up to two buffers per active request.
   * @default 65536
   */
  readonly bodyBufferBytes?: number;
  /** Requests one API key, or one JWT identity (issuer + subject), may have in flight (queued or at a pod) on one gateway replica; over it, 429. @default 256 */
  readonly keyMaxInFlight?: number;
  /** Connections HAProxy holds at once (global `maxconn`; HAProxy refuses to start unless the file-descriptor limit allows two each). @default 5000 */
  readonly maxConnections?: number;
  /**
   * Per client address: connections held at once and new connections per 10 s; over either, a new connection is
   * closed at once. Only where HAProxy sees the client's address (in Kubernetes the TLS front enforces them).
   * @default none
   */
  readonly perSource?: PerSourceLimits;
  /** How long old processes may live after a reload. @default 60000 */
  readonly hardStopAfterMs?: number;
  /** HAProxy `log` target. @default "stdout format raw local0" */
  readonly logTarget?: string;
  /**
   * Worker threads. One by default: with two, the threads contend for the gateway's shared state (the per-key
   * stick table, server queues, the leastconn tree, maps), and on shared cores the gateway spent about twice the
   * CPU per request (`npm run bench:gateway -- --threads 2`); more gateway replicas scale it out. @default 1
   */
  readonly threads?: number;
  /** `tune.sched.low-latency on`: favour latency over throughput when CPU is contended. @default false */
  readonly lowLatency?: boolean;
  /** Seconds sent in `Retry-After` on 429. @default 1 */
  readonly retryAfterS?: number;
  /** Share of requests without a `traceparent` whose gateway-started trace is sampled, [0, 1]. @default 0 */
  readonly traceSampleRate?: number;
}

/** Connection limits per client address. */
export interface PerSourceLimits {
  readonly maxConnections: number;
  readonly connectionsPer10s: number;
}

/** Administrative state of one slot. */
export type SlotState = "ready" | "drain" | "maint";

/** What one server slot should hold (desired) or holds (observed). */
export interface SlotValue {
  /** Pod identity (desired side), undefined for an empty slot. */
  readonly podId?: string;
  readonly addr: string;
  readonly port: number;
  readonly state: SlotState;
  readonly maxconn: number;
}

/** Runtime values of an endpoint's slots, written into the config so a reload reverts nothing. */
export type SlotValues = ReadonlyMap<string, SlotValue>;

/** Everything the renderer needs. */
export interface GatewayConfigInput {
  readonly settings: GatewaySettings;
  readonly endpoints: readonly GatewayEndpoint[];
  /** Current runtime slot values per endpoint name (from the running HAProxy); absent = all slots empty. */
  readonly runtime?: ReadonlyMap<string, SlotValues>;
}

/** One model pod behind an endpoint, as the desired-state source reports it. */
export interface PodTarget {
  /** Stable identity (pod name / local process id). */
  readonly id: string;
  readonly addr: string;
  readonly port: number;
  /** Ready to take traffic. */
  readonly ready: boolean;
  /** Going away: drain it (finish in-flight, take no new requests). */
  readonly terminating: boolean;
  /** Model version the pod serves (the endpoint's `trafficSplit[].version`), when known. */
  readonly version?: string;
}

/** A named API key, stored only as the sha256 of the key. */
export interface ApiKeyEntry {
  /** Key id (shown in logs, never the key). */
  readonly id: string;
  /** Lower-case hex sha256 of the key. */
  readonly sha256: string;
  /** Endpoints the key may call; `["*"]`: every endpoint the gateway serves. */
  readonly endpoints: readonly string[];
  /** Requests this key may have in flight on one gateway replica. @default GatewaySettings.keyMaxInFlight */
  readonly maxInFlight?: number;
}

/** What the gateway should look like now. */
export interface DesiredState {
  readonly endpoints: readonly GatewayEndpoint[];
  /** Pods per endpoint name. */
  readonly pods: ReadonlyMap<string, readonly PodTarget[]>;
  readonly apiKeys: readonly ApiKeyEntry[];
  /**
   * Gateway replicas sharing the pods now, counting starting and terminating ones (each takes its share of a
   * pod's target until it is gone): the divisor of the per-pod maxconn. @default GatewaySettings.gatewayReplicas
   */
  readonly gatewayReplicas?: number;
}

/**
 * Where the agent gets the desired state. Kubernetes: EndpointSlices + ServingEndpoint status (controller);
 * locally: the local runner (`LocalDesiredStateSource`).
 */
export interface DesiredStateSource {
  /** The desired state now. */
  current(): DesiredState;
  /** Subscribe to changes; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}
