/**
 * Variants of the rendered gateway config for `bench:gateway-instructions` (pure): the production config with one
 * group of rules taken out at a time, so each group's cost per request is the difference from the full config.
 * A variant is for measuring only: it drops security behaviour on purpose and is never deployed.
 */

/** One config variant: a name, what it takes out, and the edit. */
export interface ConfigVariant {
  readonly name: string;
  readonly removes: string;
  readonly edit: (cfg: string) => string;
}

/** Drops every line matching one of `patterns`. */
function dropLines(cfg: string, ...patterns: RegExp[]): string {
  return cfg.split("\n").filter((l) => !patterns.some((p) => p.test(l))).join("\n");
}

export const CONFIG_VARIANTS: readonly ConfigVariant[] = [
  { name: "gateway", removes: "nothing (the production config)", edit: (c) => c },
  { name: "-log", removes: "the per-request log line (UDP to the agent)", edit: (c) => c.replace("    log global", "    no log") },
  {
    name: "-trace",
    removes: "W3C trace context (traceparent validation, ids, header)",
    edit: (c) => dropLines(c, /^\s*(acl trace|http-request set-var\(txn\.(trace|span|rnd))|set-header traceparent/),
  },
  { name: "-request-id", removes: "request ids (x-request-id check, unique id, both headers)", edit: (c) => dropLines(c, /txn\.rid\) (req|unique)|set-header x-request-id/) },
  { name: "-header-checks", removes: "header size and NUL checks, Host, Expect, absolute-form rewrite", edit: (c) => dropLines(c, /req\.hdrs|Host header|expect|set-uri/) },
  {
    name: "-api-key",
    removes: "API-key auth (sha256, three map lookups, key scope, in-flight cap)",
    edit: (c) => dropLines(c, /^\s*(acl|http-request) .*(key_|track-sc0|invalid API key|does not accept API keys|may not call)/),
  },
  {
    name: "-backend-rules",
    removes: "backend rules (route check, 413, wait-for-body, no-pod 503, queue bound, markers)",
    edit: (c) => dropLines(c, /wait-for-body|NO_READY_POD|queue is full|have_srv|from_srv|has no route|PAYLOAD_TOO/),
  },
];

/**
 * The rendered config made runnable as one foreground process under a profiler: no master-worker, no stats socket
 * (one more process and a socket per variant would only add noise), the log sent to `logPort`.
 */
export function profiledConfig(cfg: string, logPort: number): string {
  return cfg
    .replace(/^ {4}master-worker\n/m, "")
    .replace(/^ {4}stats socket .*\n/m, "")
    .replace(/^( {4}log )127\.0\.0\.1:\d+/m, `$1127.0.0.1:${logPort}`);
}

/** The minimal HTTP passthrough (the reference of bench:gateway), as a config. */
export function passthroughConfig(port: number, targetPort: number): string {
  return [
    `global`, `    nbthread 1`, `defaults`, `    mode http`, `    timeout connect 2s`, `    timeout client 30s`, `    timeout server 30s`,
    `    option http-keep-alive`, `    http-reuse safe`, `listen http_passthrough`, `    bind 127.0.0.1:${port}`, `    server model 127.0.0.1:${targetPort}`, ``,
  ].join("\n");
}

/** Totals of one callgrind output file: all instructions, and those under HAProxy's request-rule evaluation. */
export interface InstructionCounts {
  readonly total: number;
  readonly requestRules: number;
  readonly log: number;
}

/**
 * Reads `callgrind_annotate --inclusive=yes` output: the program total and the inclusive counts of
 * `http_process_req_common` (http-request rules of frontend and backend) and `strm_log` (the log line).
 */
export function parseAnnotate(text: string): InstructionCounts {
  const count = (re: RegExp): number => {
    const m = re.exec(text);
    return m ? Number((m[1] as string).replace(/,/g, "")) : 0;
  };
  return {
    total: count(/^\s*([\d,]+) \([^)]*\)\s+PROGRAM TOTALS/m),
    requestRules: count(/^\s*([\d,]+) \([^)]*\)\s+\S*:http_process_req_common /m),
    log: count(/^\s*([\d,]+) \([^)]*\)\s+\S*:strm_log /m),
  };
}
