/**
 * How the pack recognises serving endpoints in a stack: the ServingEndpoint custom resource, the
 * namespaces that hold one, and the workloads inside those namespaces.
 */
import { at, k8sNamespace, obj, str, stringMap, type Json } from "./read.ts";
import { DEPLOYMENT, STATEFULSET, podLabels } from "./workloads.ts";
import type { ResourceView } from "../types.ts";

/** Type token of the ServingEndpoint custom resource (group `serving.autopilot.dev`, `v1alpha1`). */
export const SERVING_ENDPOINT = "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint";
export const NAMESPACE = "kubernetes:core/v1:Namespace";
export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
export const POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";
export const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
export const SERVICE = "kubernetes:core/v1:Service";

/** Namespaces that hold an endpoint: a ServingEndpoint lives there, or the Namespace carries `labelKey`. */
export function endpointNamespaces(resources: readonly ResourceView[], labelKey: string): Set<string> {
  const out = new Set<string>();
  for (const r of resources) {
    if (r.type === SERVING_ENDPOINT) out.add(k8sNamespace(r.props));
    if (r.type === NAMESPACE && stringMap(at(r.props, "metadata", "labels"))[labelKey] !== undefined) {
      const name = str(at(r.props, "metadata", "name"));
      if (name !== undefined) out.add(name);
    }
  }
  return out;
}

/** Endpoint workloads: Deployments/StatefulSets in an endpoint namespace or whose pods carry `labelKey`. */
export function endpointWorkloads(resources: readonly ResourceView[], labelKey: string): ResourceView[] {
  const namespaces = endpointNamespaces(resources, labelKey);
  return resources.filter(
    (r) =>
      (r.type === DEPLOYMENT || r.type === STATEFULSET) &&
      (namespaces.has(k8sNamespace(r.props)) || podLabels(r.type, r.props)[labelKey] !== undefined),
  );
}

/**
 * True when a label selector (`matchLabels` + `matchExpressions` In/NotIn/Exists/DoesNotExist) selects
 * pods with `labels`. An absent selector selects nothing; an empty one selects everything.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const sel = obj(selector);
  if (sel === undefined) return false;
  const matchLabels = stringMap(sel["matchLabels"]);
  if (!Object.entries(matchLabels).every(([k, v]) => labels[k] === v)) return false;
  const exprs = sel["matchExpressions"];
  if (!Array.isArray(exprs)) return true;
  return exprs.every((e: unknown) => {
    const key = str(at(e, "key")) ?? "";
    const values = (Array.isArray(at(e, "values")) ? (at(e, "values") as unknown[]) : []).filter(
      (v): v is string => typeof v === "string",
    );
    switch (str(at(e, "operator"))) {
      case "In":
        return labels[key] !== undefined && values.includes(labels[key]);
      case "NotIn":
        return labels[key] === undefined || !values.includes(labels[key]);
      case "Exists":
        return labels[key] !== undefined;
      case "DoesNotExist":
        return labels[key] === undefined;
      default:
        return false;
    }
  });
}

/** `kind/namespace/name` of a Kubernetes object, or the Pulumi name when metadata is missing. */
export function describe(r: ResourceView): string {
  const name = str(at(r.props, "metadata", "name")) ?? r.name;
  const kind = r.type.split(":").pop() ?? r.type;
  return `${kind} ${k8sNamespace(r.props as Json)}/${name}`;
}
