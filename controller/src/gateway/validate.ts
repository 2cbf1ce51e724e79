/**
 * Validation of the gateway's input. Every problem names the field, the value and what is allowed;
 * all problems are reported together and nothing is rendered or applied when there is one. Pure.
 */
import { ENDPOINT_NAME_MAX_LENGTH, isEndpointName, MAX_CONCURRENCY_LIMIT, MAX_REPLICAS_LIMIT } from "../contract/crd/limits.ts";
import { observeProblems, observeSettingsProblems } from "./render-observe.ts";
import type { GatewayEndpoint, GatewaySettings } from "./types.ts";

/** Inclusive bounds of the numeric endpoint fields. */
export const ENDPOINT_LIMITS = {
  targetConcurrency: { min: 1, max: MAX_CONCURRENCY_LIMIT },
  slots: { min: 1, max: MAX_REPLICAS_LIMIT },
  queueTimeoutMs: { min: 1, max: 600_000 },
  maxQueue: { min: 1, max: 100_000 },
  maxBodyBytes: { min: 1, max: 1_073_741_824 },
  modelTimeoutMs: { min: 1, max: 3_600_000 },
} as const;

/** Bounds of `settings.bodyBufferBytes` (HAProxy's buffer holds it plus the headers, per active request). */
export const BODY_BUFFER_LIMITS = { min: 16_384, max: 16_777_216 } as const;
/** Default of `settings.bodyBufferBytes`. */
export const DEFAULT_BODY_BUFFER_BYTES = 65_536;
/** Largest request header block, bytes (over it: 400). */
export const MAX_HEADER_BYTES = 16_384;
/** Default of `settings.maxConnections` (global `maxconn`; HAProxy needs a file-descriptor limit over twice it). */
export const DEFAULT_MAX_CONNECTIONS = 5_000;
/** Default of `settings.threads` (HAProxy `nbthread`; see `GatewaySettings.threads`). */
export const DEFAULT_THREADS = 1;
/** Default of `settings.keyMaxInFlight`. */
export const DEFAULT_KEY_MAX_IN_FLIGHT = 256;

/**
 * HAProxy's `tune.bufsize` for a body buffer: the body, the largest header block, the rewrite reserve
 * (`tune.maxrewrite`, 1024) and room for HTX block headers.
 */
export function bufsizeFor(bodyBufferBytes: number): number {
  return bodyBufferBytes + MAX_HEADER_BYTES + 1024 + 1024;
}

const PATH_RE = /^\/[A-Za-z0-9._~\/-]*$/;
/** Characters that would break out of an HAProxy config argument. */
const FILE_PATH_RE = /^\/[A-Za-z0-9._\/-]+$/;
const RUNTIMES = ["mlflow", "vllm", "triton", "custom"];

/** Raised by `assertValidGateway`; `problems` lists every problem found. */
export class GatewayConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid gateway configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "GatewayConfigError";
    this.problems = problems;
  }
}

function checkInt(problems: string[], field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field}: ${JSON.stringify(value)} is not allowed; must be an integer in ${min}..${max}`);
  }
}

/** Problems with one endpoint (`at` prefixes field names, e.g. `endpoints[2]`). */
export function endpointProblems(ep: GatewayEndpoint, at: string, settings?: GatewaySettings): string[] {
  const problems: string[] = [];
  if (!isEndpointName(ep.name)) {
    problems.push(
      `${at}.name: ${JSON.stringify(ep.name)} is not allowed; must be a DNS label ` +
        `(lower-case letters, digits and '-', starting and ending with a letter or digit, 1..${ENDPOINT_NAME_MAX_LENGTH} characters)`,
    );
  }
  if (!RUNTIMES.includes(ep.runtime)) {
    problems.push(`${at}.runtime: ${JSON.stringify(ep.runtime)} is not allowed; must be one of ${RUNTIMES.join(", ")}`);
  }
  for (const [field, { min, max }] of Object.entries(ENDPOINT_LIMITS)) {
    checkInt(problems, `${at}.${field}`, (ep as unknown as Record<string, unknown>)[field], min, max);
  }
  if (ep.paths !== undefined) {
    for (const [field, value] of Object.entries(ep.paths)) {
      if (value !== undefined && (typeof value !== "string" || !PATH_RE.test(value))) {
        problems.push(
          `${at}.paths.${field}: ${JSON.stringify(value)} is not allowed; must be an absolute URL path of ` +
            `letters, digits and . _ ~ / -`,
        );
      }
    }
  }
  if (!ep.auth || (!ep.auth.apiKeys && !ep.auth.jwt)) {
    problems.push(`${at}.auth: ${JSON.stringify(ep.auth)} is not allowed; enable apiKeys, jwt or both`);
  } else if (ep.auth.jwt && settings !== undefined && settings.jwtIssuers.length === 0) {
    problems.push(`${at}.auth.jwt: true is not allowed while settings.jwtIssuers is empty; add an issuer`);
  }
  problems.push(...observeProblems(ep, at));
  return problems;
}

/** Problems with the gateway-wide settings. */
export function settingsProblems(s: GatewaySettings): string[] {
  const problems: string[] = [];
  checkInt(problems, "settings.publicPort", s.publicPort, 1, 65535);
  checkInt(problems, "settings.metricsPort", s.metricsPort, 1, 65535);
  if (s.publicPort === s.metricsPort) {
    problems.push(`settings.metricsPort: ${s.metricsPort} is not allowed; must differ from settings.publicPort`);
  }
  checkInt(problems, "settings.gatewayReplicas", s.gatewayReplicas, 1, 1000);
  if (!/^[0-9a-fA-F.:]+$/.test(s.bindAddress ?? "")) {
    problems.push(`settings.bindAddress: ${JSON.stringify(s.bindAddress)} is not allowed; must be an IP address`);
  }
  for (const field of ["statsSocketPath", "apiKeyMapPath"] as const) {
    if (typeof s[field] !== "string" || !FILE_PATH_RE.test(s[field])) {
      problems.push(`settings.${field}: ${JSON.stringify(s[field])} is not allowed; must be an absolute path of letters, digits and . _ / -`);
    }
  }
  s.jwtIssuers.forEach((iss, i) => {
    if (iss.alg !== "RS256" && iss.alg !== "ES256") {
      problems.push(`settings.jwtIssuers[${i}].alg: ${JSON.stringify(iss.alg)} is not allowed; must be RS256 or ES256`);
    }
    if (typeof iss.publicKeyPath !== "string" || !FILE_PATH_RE.test(iss.publicKeyPath)) {
      problems.push(`settings.jwtIssuers[${i}].publicKeyPath: ${JSON.stringify(iss.publicKeyPath)} is not allowed; must be an absolute path of letters, digits and . _ / -`);
    }
    for (const field of ["issuer", "audience"] as const) {
      const v = iss[field];
      if (typeof v !== "string" || !/^[A-Za-z0-9._:\/-]{1,256}$/.test(v)) {
        problems.push(`settings.jwtIssuers[${i}].${field}: ${JSON.stringify(v)} is not allowed; required: 1..256 of letters, digits and . _ : / -`);
      }
    }
  });
  const claim = s.jwtEndpointClaim ?? "endpoint";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(claim)) {
    problems.push(`settings.jwtEndpointClaim: ${JSON.stringify(claim)} is not allowed; must be an identifier`);
  }
  if (s.jwtClockSkewS !== undefined) checkInt(problems, "settings.jwtClockSkewS", s.jwtClockSkewS, 0, 3600);
  if (s.clientRequestTimeoutMs !== undefined) checkInt(problems, "settings.clientRequestTimeoutMs", s.clientRequestTimeoutMs, 100, 600_000);
  if (s.bodyBufferBytes !== undefined) checkInt(problems, "settings.bodyBufferBytes", s.bodyBufferBytes, BODY_BUFFER_LIMITS.min, BODY_BUFFER_LIMITS.max);
  if (s.keyMaxInFlight !== undefined) checkInt(problems, "settings.keyMaxInFlight", s.keyMaxInFlight, 1, 1_000_000);
  if (s.maxConnections !== undefined) checkInt(problems, "settings.maxConnections", s.maxConnections, 100, 1_000_000);
  if (s.perSource !== undefined) {
    checkInt(problems, "settings.perSource.maxConnections", s.perSource.maxConnections, 1, 1_000_000);
    checkInt(problems, "settings.perSource.connectionsPer10s", s.perSource.connectionsPer10s, 1, 10_000_000);
  }
  if (s.hardStopAfterMs !== undefined) checkInt(problems, "settings.hardStopAfterMs", s.hardStopAfterMs, 1000, 3_600_000);
  if (s.threads !== undefined) checkInt(problems, "settings.threads", s.threads, 1, 64);
  if (s.retryAfterS !== undefined) checkInt(problems, "settings.retryAfterS", s.retryAfterS, 0, 3600);
  problems.push(...observeSettingsProblems(s));
  return problems;
}

/** All problems with a gateway input: settings, each endpoint, and duplicate names. */
export function gatewayProblems(settings: GatewaySettings, endpoints: readonly GatewayEndpoint[]): string[] {
  const problems = settingsProblems(settings);
  const seen = new Map<string, number>();
  endpoints.forEach((ep, i) => {
    problems.push(...endpointProblems(ep, `endpoints[${i}]`, settings));
    const first = seen.get(ep.name);
    if (first !== undefined) {
      problems.push(`endpoints[${i}].name: ${JSON.stringify(ep.name)} is not allowed; endpoints[${first}] has the same name`);
    } else {
      seen.set(ep.name, i);
    }
  });
  return problems;
}

/** Throws a `GatewayConfigError` listing every problem, or returns normally. */
export function assertValidGateway(settings: GatewaySettings, endpoints: readonly GatewayEndpoint[]): void {
  const problems = gatewayProblems(settings, endpoints);
  if (problems.length > 0) throw new GatewayConfigError(problems);
}

/** Per-pod maxconn on one gateway replica: the target divided across replicas, never 0 (0 = unlimited). */
export function perPodMaxconn(targetConcurrency: number, gatewayReplicas: number): number {
  return Math.max(1, Math.floor(targetConcurrency / Math.max(1, gatewayReplicas)));
}
