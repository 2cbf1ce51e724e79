/** Policy 7: every endpoint namespace has a default-deny NetworkPolicy that admits only the gateway. */
import { arr, at, obj, stringMap } from "../lib/read.ts";
import { NETWORK_POLICY, endpointNamespaces, describe, namespaceOf } from "../lib/endpoints.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

/** A peer that may reach endpoint pods. */
export interface IngressSource {
  /** Namespace of the source pods. */
  namespace: string;
  /** Labels the source pods must carry (a peer must select these or a narrower set). */
  podLabels: Record<string, string>;
}

export interface EndpointNetworkPolicyConfig {
  /** Label on Namespaces (and pods) that marks a serving endpoint. */
  endpointLabelKey: string;
  /** The only sources allowed in. @default the gateway pods, and Prometheus for scraping */
  allowedSources: IngressSource[];
}

const defaults: EndpointNetworkPolicyConfig = {
  endpointLabelKey: "serving.autopilot.dev/endpoint",
  allowedSources: [
    { namespace: "autopilot-gateway", podLabels: { "app.kubernetes.io/component": "gateway" } },
    // Prometheus must reach the metrics port, or policy 14 (endpoint-scraped) could never be met in practice.
    { namespace: "autopilot-monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } },
  ],
};

export const endpointNetworkPolicy: StackPolicyDefinition<EndpointNetworkPolicyConfig> = {
  kind: "stack",
  name: "endpoint-default-deny-ingress",
  description: "Every endpoint namespace has a default-deny ingress NetworkPolicy, and ingress is admitted only from the gateway.",
  enforcementLevel: "mandatory",
  remediation:
    "Give the endpoint namespace a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] (default deny), and " +
    "admit ingress only from peers that pair namespaceSelector kubernetes.io/metadata.name=<gateway namespace> with a " +
    "podSelector on the gateway labels (Prometheus likewise, for metrics). The ServingEndpoint component creates these; " +
    "don't add wider policies — NetworkPolicies add up.",
  defaults,
  configSchema: {
    endpointLabelKey: { type: "string", default: defaults.endpointLabelKey, description: "Label marking endpoint namespaces and pods." },
    allowedSources: {
      type: "array", default: defaults.allowedSources, description: "Peers allowed to reach endpoint pods.",
      items: {
        type: "object", required: ["namespace", "podLabels"],
        properties: { namespace: { type: "string" }, podLabels: { type: "object", additionalProperties: { type: "string" } } },
      },
    },
  },
  check: (resources, config) => {
    const out: Violation[] = [];
    const policies = resources.filter((r) => r.type === NETWORK_POLICY);
    for (const ns of [...endpointNamespaces(resources, config.endpointLabelKey)].sort()) {
      const inNs = policies.filter((p) => namespaceOf(p) === ns);
      const base = inNs.find((p) => isDefaultDenyIngress(p));
      if (base === undefined) {
        out.push({ message: `endpoint namespace "${ns}" has no default-deny ingress NetworkPolicy (podSelector: {}, policyTypes: [Ingress]).` });
      }
      for (const p of inNs) {
        for (const problem of widerThanAllowed(p, config.allowedSources)) {
          out.push({ message: `${describe(p)}: ${problem}`, urn: p.urn });
        }
      }
    }
    return out;
  },
};

function isDefaultDenyIngress(p: ResourceView): boolean {
  const spec = at(p.props, "spec");
  const selector = obj(at(spec, "podSelector"));
  const selectsAll =
    selector !== undefined &&
    Object.keys(stringMap(selector["matchLabels"])).length === 0 &&
    arr(selector["matchExpressions"]).length === 0;
  const types = arr(at(spec, "policyTypes"));
  return selectsAll && types.includes("Ingress");
}

/** Reasons a NetworkPolicy admits more than the allowed sources. */
function widerThanAllowed(p: ResourceView, allowed: readonly IngressSource[]): string[] {
  const problems: string[] = [];
  arr(at(p.props, "spec", "ingress")).forEach((rule, i) => {
    const from = arr(at(rule, "from"));
    if (from.length === 0) {
      problems.push(`ingress[${i}] has no "from", which admits every source.`);
      return;
    }
    from.forEach((peer, j) => {
      if (at(peer, "ipBlock") !== undefined) {
        problems.push(`ingress[${i}].from[${j}] is an ipBlock; only the gateway pods may be admitted.`);
      } else if (!allowed.some((s) => peerWithin(peer, namespaceOf(p), s))) {
        problems.push(`ingress[${i}].from[${j}] ${JSON.stringify(peer)} admits pods other than the gateway.`);
      }
    });
  });
  return problems;
}

/** True when `peer` selects only pods that `source` describes. */
function peerWithin(peer: unknown, policyNamespace: string, source: IngressSource): boolean {
  const podSel = obj(at(peer, "podSelector"));
  if (podSel === undefined) return false;
  const podLabels = stringMap(podSel["matchLabels"]);
  if (!Object.entries(source.podLabels).every(([k, v]) => podLabels[k] === v)) return false;
  const nsSel = obj(at(peer, "namespaceSelector"));
  if (nsSel === undefined) return policyNamespace === source.namespace;
  return stringMap(nsSel["matchLabels"])["kubernetes.io/metadata.name"] === source.namespace;
}
