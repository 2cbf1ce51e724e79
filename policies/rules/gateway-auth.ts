/**
 * Policy 8: the gateway requires authentication on every route (no anonymous invocation), checked where the
 * program expresses it: the rendered `haproxy.cfg` (ConfigMap/Secret). Every frontend that routes to a backend —
 * its own `use_backend`/`default_backend`, or one a `defaults` section hands down — must reject every request
 * without a credential before routing: a 401 rule whose condition cannot hold without a credential. (Endpoints
 * have no way to opt out: the ServingEndpoint resource has no authentication fields; the gateway renders the
 * per-endpoint API-key/JWT checks behind this gate.)
 */
import { at, str } from "../lib/read.ts";
import { proxySections, splitCondition, words, type Condition, type ProxySection, type Term } from "../lib/haproxy.ts";
import type { ResourcePolicyDefinition, ResourceView, Violation } from "../types.ts";

const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";

export interface GatewayAuthConfig {
  /** Data keys (ConfigMap/Secret) that hold the gateway's HAProxy configuration. @default ["haproxy.cfg"] */
  haproxyConfigKeys: string[];
}

const defaults: GatewayAuthConfig = { haproxyConfigKeys: ["haproxy.cfg"] };

/**
 * Sample fetches that read the request's credential (Authorization header, HTTP auth, client certificate, JWT) and
 * yield nothing — so every ACL on them is false — when the request carries none. (Counts such as `hdr_cnt` or
 * `ssl_c_verify`, which yield 0 without a credential, are not credentials.)
 */
const CREDENTIAL_FETCH = /\b(http_auth_bearer|http_auth(_group|_pass|_user)?\(|(req\.)?f?hdr(_val)?\(\s*authorization\s*[,)]|jwt_verify\(|ssl_c_used)/i;

export const gatewayAuth: ResourcePolicyDefinition<GatewayAuthConfig> = {
  kind: "resource",
  name: "gateway-requires-auth",
  description: "Every route at the gateway requires authentication: each routing HAProxy frontend rejects every request without a credential before routing.",
  enforcementLevel: "mandatory",
  remediation:
    "Render the gateway config with the Gateway component: it sets txn.bearer from http_auth_bearer and answers " +
    "`http-request return status 401 … unless { var(txn.bearer) -m found }` before any routing, for every path. A 401 " +
    "rule whose condition can hold without a credential (a constant, a path, an OR-ed alternative) does not count, " +
    "nor does one after `http-request allow`; a `default_backend` in `defaults` needs the gate in every frontend.",
  defaults,
  configSchema: {
    haproxyConfigKeys: { type: "array", items: { type: "string" }, default: defaults.haproxyConfigKeys, description: "Data keys holding haproxy.cfg." },
  },
  types: [CONFIG_MAP, SECRET],
  check: (r, config) => checkHaproxyConfig(r, config),
};

function configTexts(r: ResourceView, keys: readonly string[]): { key: string; text: string }[] {
  const out: { key: string; text: string }[] = [];
  for (const key of keys) {
    const plain = str(at(r.props, "data", key)) ?? str(at(r.props, "stringData", key));
    if (plain === undefined) continue;
    // Secret `data` is base64; ConfigMap `data` and Secret `stringData` are plain.
    const text = r.type === SECRET && str(at(r.props, "data", key)) !== undefined ? Buffer.from(plain, "base64").toString("utf8") : plain;
    out.push({ key, text });
  }
  return out;
}

function checkHaproxyConfig(r: ResourceView, config: GatewayAuthConfig): Violation[] {
  const out: Violation[] = [];
  for (const { key, text } of configTexts(r, config.haproxyConfigKeys)) {
    for (const fe of proxySections(text)) {
      const problem = frontendProblem(fe);
      if (problem !== undefined) out.push({ message: `${r.type.split(":").pop()} ${r.name} ${key}: frontend ${fe.name} ${problem}` });
    }
  }
  return out;
}

/** Why a frontend routes without rejecting credential-less requests first, or undefined. */
function frontendProblem(fe: ProxySection): string | undefined {
  const own = fe.lines.findIndex((l) => /^(use_backend|default_backend)\s/.test(l));
  const route = own >= 0 ? fe.lines[own]! : fe.inheritedDefaultBackend !== undefined ? `${fe.inheritedDefaultBackend} (from defaults)` : undefined;
  if (route === undefined) return undefined;
  const end = own >= 0 ? own : fe.lines.length;
  const credentialVars = new Set<string>();
  const acls = new Map<string, boolean>();
  const rejected: string[] = [];
  for (const line of fe.lines.slice(0, end)) {
    const ws = words(line);
    if (ws[0] === "acl" && ws[1] !== undefined) {
      const reads = readsCredential(ws.slice(2).join(" "), credentialVars);
      acls.set(ws[1], (acls.get(ws[1]) ?? true) && reads);
      continue;
    }
    if (ws[0] !== "http-request") continue;
    const { action, condition } = splitCondition(line);
    const setVar = /^set-var\((txn\.[\w.]+)\)$/.exec(action[1] ?? "");
    if (setVar !== null) {
      if (readsCredential(action.slice(2).join(" "), credentialVars)) credentialVars.add(setVar[1]!);
      else credentialVars.delete(setVar[1]!);
      continue;
    }
    if (action[1] === "allow") return `lets requests through with "${line}" before any 401 rule rejects those without credentials.`;
    if (!isUnauthorizedRule(action)) continue;
    const why = gateGap(condition, credentialVars, acls);
    if (why === undefined) return undefined;
    rejected.push(`"${condition === undefined ? "(unconditional)" : `${condition.keyword} ${condition.text}`}" ${why}`);
  }
  const base = `routes to backends without first rejecting requests that carry no credentials (no "http-request return status 401 … unless <credential>" before "${route}")`;
  return rejected.length === 0 ? `${base}.` : `${base}: the 401 rule's condition ${rejected.join("; ")}.`;
}

function isUnauthorizedRule(action: readonly string[]): boolean {
  const a = action.slice(1).join(" ");
  return /^return\s.*\bstatus\s+401\b/.test(a) || /^deny\s.*\bdeny_status\s+401\b/.test(a) || /^auth\b/.test(a);
}

function readsCredential(expr: string, credentialVars: ReadonlySet<string>): boolean {
  if (CREDENTIAL_FETCH.test(expr)) return true;
  return [...expr.matchAll(/\bvar\((txn\.[\w.]+)/g)].some((m) => credentialVars.has(m[1]!));
}

function termReadsCredential(t: Term, credentialVars: ReadonlySet<string>, acls: ReadonlyMap<string, boolean>): boolean {
  return t.anonymous ? readsCredential(t.text, credentialVars) : acls.get(t.text) === true;
}

/**
 * Why a 401 rule lets some credential-less request through, or undefined when it rejects them all: `unless C`
 * rejects when C is false, so every OR-ed branch of C must need a credential (a plain credential term);
 * `if C` rejects when C is true, so one branch must be nothing but "no credential" (negated credential terms).
 * An unconditional 401 rejects everything.
 */
function gateGap(c: Condition | undefined, credentialVars: ReadonlySet<string>, acls: ReadonlyMap<string, boolean>): string | undefined {
  if (c === undefined) return undefined;
  const reads = (t: Term) => termReadsCredential(t, credentialVars, acls);
  const show = (ts: readonly Term[]) => ts.map((t) => `${t.negated ? "!" : ""}${t.text}`).join(" ");
  if (c.keyword === "unless") {
    const open = c.disjuncts.find((d) => !d.some((t) => !t.negated && reads(t)));
    return open === undefined ? undefined : `lets a request without credentials through whenever "${show(open)}" holds`;
  }
  const closes = c.disjuncts.some((d) => d.length > 0 && d.every((t) => t.negated && reads(t)));
  if (closes) return undefined;
  const narrowed = c.disjuncts.find((d) => d.some((t) => t.negated && reads(t)));
  return narrowed === undefined
    ? "reads no credential"
    : `rejects a request without credentials only when "${show(narrowed.filter((t) => !(t.negated && reads(t))))}" also holds`;
}
