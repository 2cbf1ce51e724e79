/**
 * How the pack recognises serving endpoints in a stack: the ServingEndpoint custom resource, the
 * namespaces that hold one, and the workloads inside those namespaces.
 */
import { at, obj, str, stringMap } from "./read.ts";
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

/** Type token of the Kubernetes provider. */
export const KUBERNETES_PROVIDER = "pulumi:providers:kubernetes";

/**
 * The namespace a namespaced Kubernetes object lands in: `metadata.namespace`, else the `namespace` its Pulumi
 * provider sets for objects without one, else `default`. (A kubeconfig context's namespace, which the provider
 * also falls back to, is outside what the pack can see.)
 */
export function namespaceOf(r: ResourceView): string {
  const own = str(at(r.props, "metadata", "namespace"));
  if (own !== undefined && own !== "") return own;
  const fromProvider = r.provider?.type === KUBERNETES_PROVIDER ? str(r.provider.props["namespace"]) : undefined;
  return fromProvider !== undefined && fromProvider !== "" ? fromProvider : "default";
}

/** Namespaces that hold an endpoint: a ServingEndpoint lives there, or the Namespace carries `labelKey`. */
export function endpointNamespaces(resources: readonly ResourceView[], labelKey: string): Set<string> {
  const out = new Set<string>();
  for (const r of resources) {
    if (r.type === SERVING_ENDPOINT) out.add(namespaceOf(r));
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
      (namespaces.has(namespaceOf(r)) || podLabels(r.type, r.props)[labelKey] !== undefined),
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

/** `describe(r)`, followed by where the pod template sits when it is not the workload's own. */
export function describeTemplate(r: ResourceView, t: { where: string }): string {
  return t.where === "" ? describe(r) : `${describe(r)} ${t.where}`;
}

/** `kind/namespace/name` of a Kubernetes object, or the Pulumi name when metadata is missing. */
export function describe(r: ResourceView): string {
  const name = str(at(r.props, "metadata", "name")) ?? r.name;
  const kind = r.type.split(":").pop() ?? r.type;
  return `${kind} ${namespaceOf(r)}/${name}`;
}
