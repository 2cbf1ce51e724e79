/** Policy 8: the gateway requires authentication on every route (no anonymous invocation). */
import { arr, at, str } from "../lib/read.ts";
import { SERVING_ENDPOINT, describe } from "../lib/endpoints.ts";
import type { ResourcePolicyDefinition, Violation } from "../types.ts";

export interface GatewayAuthConfig {
  /** Authentication modes that count as authenticated. @default ["apiKey", "jwt"] */
  allowedAuthModes: string[];
}

const defaults: GatewayAuthConfig = { allowedAuthModes: ["apiKey", "jwt"] };

export const gatewayAuth: ResourcePolicyDefinition<GatewayAuthConfig> = {
  kind: "resource",
  name: "gateway-requires-auth",
  description: "Every endpoint route at the gateway requires authentication (API key or JWT); anonymous invocation is never allowed.",
  enforcementLevel: "mandatory",
  remediation:
    "Set the endpoint's auth.mode to one of the allowed modes (apiKey or jwt) with at least one key or issuer; " +
    "there is no anonymous mode — put a public demo behind an API key you hand out.",
  defaults,
  configSchema: {
    allowedAuthModes: { type: "array", items: { type: "string" }, default: defaults.allowedAuthModes, description: "Authentication modes accepted." },
  },
  types: [SERVING_ENDPOINT],
  check: (r, config) => {
    const out: Violation[] = [];
    const auth = at(r.props, "spec", "auth");
    const mode = str(at(auth, "mode"));
    if (auth === undefined) {
      out.push({ message: `${describe(r)}: spec.auth is missing; every route needs ${config.allowedAuthModes.join(" or ")}.` });
    } else if (mode === undefined || !config.allowedAuthModes.includes(mode)) {
      out.push({ message: `${describe(r)}: spec.auth.mode is ${JSON.stringify(mode ?? null)}; allowed: ${config.allowedAuthModes.join(", ")}.` });
    } else if (at(auth, "anonymous") === true) {
      out.push({ message: `${describe(r)}: spec.auth.anonymous is true; anonymous invocation is not allowed.` });
    }
    arr(at(r.props, "spec", "routes")).forEach((route, i) => {
      if (at(route, "auth", "mode") === "none" || at(route, "anonymous") === true) {
        out.push({ message: `${describe(r)}: spec.routes[${i}] opts out of authentication.` });
      }
    });
    return out;
  },
};
