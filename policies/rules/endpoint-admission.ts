/**
 * Policy 17: every endpoint namespace keeps the cluster's own second line of defence. Its Namespace carries a Pod
 * Security Admission enforce level; where that level is weaker than `restricted` (the node cache's hostPath needs
 * `privileged`), a ValidatingAdmissionPolicy of the stack, bound with `Deny` to that namespace and failing closed,
 * takes over the restricted rules the pack checks before apply.
 */
import { arr, at, str, stringMap } from "../lib/read.ts";
import { NAMESPACE, endpointNamespaces, selectorMatches } from "../lib/endpoints.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const VAP_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const ENFORCE = "pod-security.kubernetes.io/enforce";

export interface EndpointAdmissionConfig {
  /** Label on Namespaces (and pods) that marks a serving endpoint. */
  endpointLabelKey: string;
}

export const endpointAdmission: StackPolicyDefinition<EndpointAdmissionConfig> = {
  kind: "stack",
  name: "endpoint-admission-second-line",
  description: "Every endpoint namespace enforces a Pod Security level, and one weaker than restricted is covered by a denying ValidatingAdmissionPolicy.",
  enforcementLevel: "mandatory",
  remediation:
    "Keep the ServingEndpoint component's Namespace labels (pod-security.kubernetes.io/enforce) and the ServingPlatform's " +
    "ValidatingAdmissionPolicy autopilot-endpoint-pod-security with its binding (validationActions [Deny], namespaceSelector " +
    "on the endpoint label, failurePolicy Fail).",
  defaults: { endpointLabelKey: "serving.autopilot.dev/endpoint" },
  configSchema: {
    endpointLabelKey: { type: "string", default: "serving.autopilot.dev/endpoint", description: "Label marking endpoint namespaces and pods." },
  },
  check: (resources, config) => {
    const out: Violation[] = [];
    // A policy with matchConditions checks only the requests they select (one user, say): not a second line for pods.
    const policies = new Map(resources.filter((r) => r.type === VAP && str(at(r.props, "spec", "failurePolicy")) !== "Ignore" && arr(at(r.props, "spec", "matchConditions")).length === 0)
      .map((r) => [str(at(r.props, "metadata", "name")) ?? "", r]));
    const bindings = resources.filter((b) => b.type === VAP_BINDING && arr(at(b.props, "spec", "validationActions")).includes("Deny") &&
      policies.has(str(at(b.props, "spec", "policyName")) ?? "\0"));
    for (const ns of [...endpointNamespaces(resources, config.endpointLabelKey)].sort()) {
      const nsObject = resources.find((r) => r.type === NAMESPACE && str(at(r.props, "metadata", "name")) === ns);
      // A namespace the stack does not create (an existing one) is outside what the pack can see.
      if (nsObject === undefined) continue;
      const labels: Record<string, string> = { ...stringMap(at(nsObject.props, "metadata", "labels")), "kubernetes.io/metadata.name": ns };
      const level = labels[ENFORCE];
      if (level === undefined) {
        out.push({ message: `endpoint namespace "${ns}" has no ${ENFORCE} label; Pod Security Admission enforces nothing there.`, urn: nsObject.urn });
        continue;
      }
      if (level === "restricted") continue;
      if (!bindings.some((b) => covers(b, labels))) {
        out.push({
          message: `endpoint namespace "${ns}" enforces Pod Security "${level}", and no ValidatingAdmissionPolicyBinding of the stack ` +
            "(validationActions Deny, of a policy that fails closed) selects it.",
          urn: nsObject.urn,
        });
      }
    }
    return out;
  },
};

/** True when a binding's namespaceSelector selects a namespace with `labels` (absent selector: every namespace). */
function covers(binding: ResourceView, labels: Record<string, string>): boolean {
  const selector = at(binding.props, "spec", "matchResources", "namespaceSelector");
  return selector === undefined || selectorMatches(selector, labels);
}
