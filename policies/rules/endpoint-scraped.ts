/**
 * Policy 14: every endpoint is scraped by Prometheus — a PodMonitor (or a ServiceMonitor through a Service)
 * selects its pods. A runtime that exposes no metrics endpoint at all (the MLflow scoring server) is accepted
 * only when the gateway, which measures every endpoint's traffic per backend, is scraped instead.
 */
import { arr, at, labelsMatch, stringMap } from "../lib/read.ts";
import { POD_MONITOR, SERVICE, SERVICE_MONITOR, describe, endpointWorkloads, selectorMatches, namespaceOf } from "../lib/endpoints.ts";
import { DEPLOYMENT, podLabels, podTemplate } from "../lib/workloads.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

export interface EndpointScrapedConfig {
  /** Label on Namespaces (and pods) that marks a serving endpoint. */
  endpointLabelKey: string;
  /** Pod label or annotation naming the model server. */
  runtimeLabelKey: string;
  /** Runtimes that expose no Prometheus endpoint; their endpoints are covered by the gateway's scrape. */
  runtimesWithoutMetrics: string[];
  /** Where the gateway pods run and the labels they carry. */
  gateway: { namespace: string; podLabels: Record<string, string> };
}

const defaults: EndpointScrapedConfig = {
  endpointLabelKey: "serving.autopilot.dev/endpoint",
  runtimeLabelKey: "serving.autopilot.dev/runtime",
  runtimesWithoutMetrics: ["mlflow"],
  gateway: { namespace: "autopilot-gateway", podLabels: { "app.kubernetes.io/component": "gateway" } },
};

export const endpointScraped: StackPolicyDefinition<EndpointScrapedConfig> = {
  kind: "stack",
  name: "endpoint-scraped",
  description: "Every endpoint workload is selected by a PodMonitor/ServiceMonitor; runtimes without metrics need the gateway scraped instead.",
  enforcementLevel: "mandatory",
  remediation:
    "Keep the ServingEndpoint component's PodMonitor (monitoring.coreos.com/v1, spec.selector matching the pod labels, " +
    "podMetricsEndpoints naming the metrics port); for a runtime without a metrics endpoint keep the Observability " +
    "component's gateway ServiceMonitor, which carries the endpoint's QPS, latency, in-flight, queued and 429 series.",
  defaults,
  configSchema: {
    endpointLabelKey: { type: "string", default: defaults.endpointLabelKey, description: "Label marking endpoint namespaces and pods." },
    runtimeLabelKey: { type: "string", default: defaults.runtimeLabelKey, description: "Pod label or annotation naming the model server." },
    runtimesWithoutMetrics: {
      type: "array", items: { type: "string" }, default: defaults.runtimesWithoutMetrics,
      description: "Runtimes without a Prometheus endpoint (covered by the gateway scrape).",
    },
    gateway: {
      type: "object", default: defaults.gateway, description: "Namespace and pod labels of the gateway.",
      required: ["namespace", "podLabels"],
      properties: { namespace: { type: "string" }, podLabels: { type: "object", additionalProperties: { type: "string" } } },
    },
  },
  check: (resources, config) => {
    const out: Violation[] = [];
    let gatewayScraped: boolean | undefined;
    for (const w of endpointWorkloads(resources, config.endpointLabelKey)) {
      const labels = podLabels(w.type, w.props);
      if (isScraped(namespaceOf(w), labels, resources)) continue;
      const meta = podTemplate(w.type, w.props)?.metadata ?? {};
      const runtime = labels[config.runtimeLabelKey] ?? stringMap(meta["annotations"])[config.runtimeLabelKey];
      if (runtime !== undefined && config.runtimesWithoutMetrics.includes(runtime)) {
        gatewayScraped ??= isGatewayScraped(resources, config);
        if (gatewayScraped) continue;
        out.push({
          message: `${describe(w)}: runtime "${runtime}" exposes no metrics and the gateway, which measures this endpoint's traffic, ` +
            `is not scraped either (no PodMonitor/ServiceMonitor selects the gateway pods in ${config.gateway.namespace}).`,
          urn: w.urn,
        });
        continue;
      }
      out.push({ message: `${describe(w)}: no PodMonitor or ServiceMonitor selects its pods ${JSON.stringify(labels)}.`, urn: w.urn });
    }
    return out;
  },
};

/** True when the monitor watches namespace `ns` (its own namespace unless namespaceSelector says otherwise). */
function watchesNamespace(monitor: ResourceView, ns: string): boolean {
  const nsSel = at(monitor.props, "spec", "namespaceSelector");
  if (at(nsSel, "any") === true) return true;
  const names = arr(at(nsSel, "matchNames"));
  if (names.length > 0) return names.includes(ns);
  return namespaceOf(monitor) === ns;
}

/** True when pods with `labels` in `ns` are scraped: by a PodMonitor, or a ServiceMonitor → Service → pods. */
function isScraped(ns: string, labels: Record<string, string>, resources: readonly ResourceView[]): boolean {
  const byPodMonitor = resources.some(
    (m) =>
      m.type === POD_MONITOR &&
      watchesNamespace(m, ns) &&
      selectorMatches(at(m.props, "spec", "selector"), labels) &&
      arr(at(m.props, "spec", "podMetricsEndpoints")).length > 0,
  );
  if (byPodMonitor) return true;
  const services = resources.filter((s) => {
    if (s.type !== SERVICE || namespaceOf(s) !== ns) return false;
    const sel = stringMap(at(s.props, "spec", "selector"));
    return Object.keys(sel).length > 0 && labelsMatch(sel, labels);
  });
  return resources.some(
    (m) =>
      m.type === SERVICE_MONITOR &&
      watchesNamespace(m, ns) &&
      arr(at(m.props, "spec", "endpoints")).length > 0 &&
      services.some((s) => selectorMatches(at(m.props, "spec", "selector"), stringMap(at(s.props, "metadata", "labels")))),
  );
}

function isGatewayScraped(resources: readonly ResourceView[], config: EndpointScrapedConfig): boolean {
  const gateways = resources.filter(
    (r) => r.type === DEPLOYMENT && namespaceOf(r) === config.gateway.namespace && labelsMatch(config.gateway.podLabels, podLabels(r.type, r.props)),
  );
  return gateways.length > 0 && gateways.every((g) => isScraped(config.gateway.namespace, podLabels(g.type, g.props), resources));
}
