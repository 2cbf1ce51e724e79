/**
 * Policy 8: the gateway requires authentication on every route (no anonymous invocation). Checked where the
 * program expresses it: the rendered `haproxy.cfg` (ConfigMap/Secret) must reject requests without credentials
 * before any routing, and no endpoint may opt out of authentication.
 */
import { arr, at, obj, str } from "../lib/read.ts";
import { SERVING_ENDPOINT, describe } from "../lib/endpoints.ts";
import type { ResourcePolicyDefinition, ResourceView, Violation } from "../types.ts";

const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";

export interface GatewayAuthConfig {
  /** Data keys (ConfigMap/Secret) that hold the gateway's HAProxy configuration. @default ["haproxy.cfg"] */
  haproxyConfigKeys: string[];
}

const defaults: GatewayAuthConfig = { haproxyConfigKeys: ["haproxy.cfg"] };

export const gatewayAuth: ResourcePolicyDefinition<GatewayAuthConfig> = {
  kind: "resource",
  name: "gateway-requires-auth",
  description: "Every route at the gateway requires authentication (API key or JWT); no endpoint allows anonymous invocation.",
  enforcementLevel: "mandatory",
  remediation:
    "Render the gateway config with the Gateway component (it answers 401 unless a Bearer credential is present, before " +
    "any use_backend), and give every endpoint auth with apiKeys and/or jwt enabled — there is no anonymous mode; put a " +
    "public demo behind an API key you hand out.",
  defaults,
  configSchema: {
    haproxyConfigKeys: { type: "array", items: { type: "string" }, default: defaults.haproxyConfigKeys, description: "Data keys holding haproxy.cfg." },
  },
  types: [SERVING_ENDPOINT, CONFIG_MAP, SECRET],
  check: (r, config) => (r.type === SERVING_ENDPOINT ? checkEndpoint(r) : checkHaproxyConfig(r, config)),
};

/** An endpoint may carry auth settings; when it does they must not be anonymous. */
function checkEndpoint(r: ResourceView): Violation[] {
  const out: Violation[] = [];
  const auth = at(r.props, "spec", "auth");
  if (auth === undefined) return out;
  if (at(auth, "anonymous") === true || str(at(auth, "mode")) === "none") {
    out.push({ message: `${describe(r)}: spec.auth ${JSON.stringify(auth)} allows anonymous invocation.` });
  } else if (obj(auth) !== undefined && "apiKeys" in (auth as object) && at(auth, "apiKeys") !== true && at(auth, "jwt") !== true) {
    out.push({ message: `${describe(r)}: spec.auth enables neither apiKeys nor jwt.` });
  }
  arr(at(r.props, "spec", "routes")).forEach((route, i) => {
    if (at(route, "anonymous") === true) out.push({ message: `${describe(r)}: spec.routes[${i}] opts out of authentication.` });
  });
  return out;
}

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

/**
 * In every HAProxy frontend that routes to backends, a `401` rule conditioned with `unless` (reject unless a
 * credential is present) must come before the first `use_backend` / `default_backend`.
 */
function checkHaproxyConfig(r: ResourceView, config: GatewayAuthConfig): Violation[] {
  const out: Violation[] = [];
  for (const { key, text } of configTexts(r, config.haproxyConfigKeys)) {
    for (const fe of frontends(text)) {
      const route = fe.lines.findIndex((l) => /^(use_backend|default_backend)\s/.test(l));
      if (route < 0) continue;
      const gate = fe.lines.findIndex((l) => /^http-request\s+(return\s+status\s+401|deny\s+deny_status\s+401|auth)\b.*\sunless\s/.test(l));
      if (gate < 0 || gate > route) {
        out.push({
          message: `${r.type.split(":").pop()} ${r.name} ${key}: frontend ${fe.name} routes to backends without first ` +
            `rejecting requests that carry no credentials (no "http-request return status 401 … unless <credential>" before "${fe.lines[route]}").`,
        });
      }
    }
  }
  return out;
}

function frontends(cfg: string): { name: string; lines: string[] }[] {
  const out: { name: string; lines: string[] }[] = [];
  let cur: { name: string; lines: string[] } | undefined;
  for (const raw of cfg.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const section = /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|http-errors|ring|cache)\b\s*(\S*)/.exec(line);
    if (section !== null && raw.trimStart() === raw) {
      cur = section[1] === "frontend" || section[1] === "listen" ? { name: section[2] ?? "", lines: [] } : undefined;
      if (cur !== undefined) out.push(cur);
      continue;
    }
    cur?.lines.push(line);
  }
  return out;
}
