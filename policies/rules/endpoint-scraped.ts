/** Policy 14: every endpoint is scraped by Prometheus (a PodMonitor or ServiceMonitor selects its pods). */
import { arr, at, k8sNamespace, stringMap } from "../lib/read.ts";
import { POD_MONITOR, SERVICE, SERVICE_MONITOR, describe, endpointWorkloads, selectorMatches } from "../lib/endpoints.ts";
import { podLabels } from "../lib/workloads.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

export interface EndpointScrapedConfig {
  /** Label on Namespaces (and pods) that marks a serving endpoint. */
  endpointLabelKey: string;
}

export const endpointScraped: StackPolicyDefinition<EndpointScrapedConfig> = {
  kind: "stack",
  name: "endpoint-scraped",
  description: "Every endpoint workload is selected by a PodMonitor (or by a ServiceMonitor through a Service) with at least one endpoint.",
  enforcementLevel: "mandatory",
  remediation:
    "Add a PodMonitor (monitoring.coreos.com/v1) in the endpoint namespace whose spec.selector matches the pod labels and " +
    "whose podMetricsEndpoints name the metrics port — the ServingEndpoint component creates one; don't remove it.",
  defaults: { endpointLabelKey: "serving.autopilot.dev/endpoint" },
  configSchema: {
    endpointLabelKey: { type: "string", default: "serving.autopilot.dev/endpoint", description: "Label marking endpoint namespaces and pods." },
  },
  check: (resources, config) => {
    const out: Violation[] = [];
    for (const w of endpointWorkloads(resources, config.endpointLabelKey)) {
      if (!isScraped(w, resources)) {
        out.push({ message: `${describe(w)}: no PodMonitor or ServiceMonitor selects its pods ${JSON.stringify(podLabels(w.type, w.props))}.`, urn: w.urn });
      }
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
  return k8sNamespace(monitor.props) === ns;
}

function isScraped(w: ResourceView, resources: readonly ResourceView[]): boolean {
  const ns = k8sNamespace(w.props);
  const labels = podLabels(w.type, w.props);
  const byPodMonitor = resources.some(
    (m) =>
      m.type === POD_MONITOR &&
      watchesNamespace(m, ns) &&
      selectorMatches(at(m.props, "spec", "selector"), labels) &&
      arr(at(m.props, "spec", "podMetricsEndpoints")).length > 0,
  );
  if (byPodMonitor) return true;
  // ServiceMonitor → Service (same namespace, selects the pods) → pods.
  const services = resources.filter(
    (s) => s.type === SERVICE && k8sNamespace(s.props) === ns &&
      Object.keys(stringMap(at(s.props, "spec", "selector"))).length > 0 &&
      Object.entries(stringMap(at(s.props, "spec", "selector"))).every(([k, v]) => labels[k] === v),
  );
  return resources.some(
    (m) =>
      m.type === SERVICE_MONITOR &&
      watchesNamespace(m, ns) &&
      arr(at(m.props, "spec", "endpoints")).length > 0 &&
      services.some((s) => selectorMatches(at(m.props, "spec", "selector"), stringMap(at(s.props, "metadata", "labels")))),
  );
}
