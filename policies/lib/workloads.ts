/**
 * Pod-template access for Kubernetes workload resources (Deployment, StatefulSet, DaemonSet, Job,
 * CronJob, ReplicaSet, Pod) as the `@pulumi/kubernetes` provider receives them.
 */
import { arr, at, num, obj, str, stringMap, type Json } from "./read.ts";

/** Extended resource name of NVIDIA GPUs (device plugin / GKE managed drivers). */
export const GPU_RESOURCE = "nvidia.com/gpu";

export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
export const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
export const DAEMONSET = "kubernetes:apps/v1:DaemonSet";
export const REPLICASET = "kubernetes:apps/v1:ReplicaSet";
export const JOB = "kubernetes:batch/v1:Job";
export const CRONJOB = "kubernetes:batch/v1:CronJob";
export const POD = "kubernetes:core/v1:Pod";

/** Every workload type whose pods the pack inspects. */
export const WORKLOAD_TYPES: readonly string[] = [DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET, JOB, CRONJOB, POD];

/** The pod spec and pod-template metadata of a workload's props, or undefined for other types. */
export function podTemplate(type: string, props: Json): { spec: Json; metadata: Json } | undefined {
  let template: unknown;
  if (type === POD) template = props;
  else if (type === CRONJOB) template = at(props, "spec", "jobTemplate", "spec", "template");
  else if (WORKLOAD_TYPES.includes(type)) template = at(props, "spec", "template");
  else return undefined;
  return { spec: obj(at(template, "spec")) ?? {}, metadata: obj(at(template, "metadata")) ?? {} };
}

/** A container with where it sits, for messages (`containers[0] "vllm"`). */
export interface ContainerView {
  readonly where: string;
  readonly name: string;
  readonly props: Json;
  readonly isInit: boolean;
}

/** Containers and init containers of a pod spec. */
export function containersOf(spec: Json): ContainerView[] {
  const out: ContainerView[] = [];
  for (const [field, isInit] of [["initContainers", true], ["containers", false]] as const) {
    arr(spec[field]).forEach((c, i) => {
      const props = obj(c) ?? {};
      const name = str(props["name"]) ?? `#${i}`;
      out.push({ where: `${field}[${i}] "${name}"`, name, props, isInit });
    });
  }
  return out;
}

/** Quantity of `resource` in a container's `resources.requests` or `resources.limits`. */
export function quantity(container: Json, section: "requests" | "limits", resource: string): string | undefined {
  const v = at(container, "resources", section, resource);
  if (typeof v === "number") return String(v);
  return str(v);
}

/** GPUs a container asks for (limits win, as for extended resources). */
export function gpuCount(container: Json): number {
  return num(quantity(container, "limits", GPU_RESOURCE)) ?? num(quantity(container, "requests", GPU_RESOURCE)) ?? 0;
}

/** Total GPUs requested by the (non-init) containers of a pod spec. */
export function podGpuCount(spec: Json): number {
  return containersOf(spec).filter((c) => !c.isInit).reduce((sum, c) => sum + gpuCount(c.props), 0);
}

/** Node selector of a pod spec, including required node-affinity `In` terms with a single value. */
export function nodeSelectorOf(spec: Json): Record<string, string> {
  const out = stringMap(spec["nodeSelector"]);
  const terms = arr(at(spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"));
  // Only a single term is a conjunction; several terms are OR-ed and pin nothing.
  if (terms.length === 1) {
    for (const e of arr(at(terms[0], "matchExpressions"))) {
      const key = str(at(e, "key"));
      const values = arr(at(e, "values"));
      if (key !== undefined && str(at(e, "operator")) === "In" && values.length === 1 && typeof values[0] === "string") {
        out[key] = values[0];
      }
    }
  }
  return out;
}

/** True when a pod spec tolerates a `NoSchedule` taint with this key (any value). */
export function toleratesTaint(spec: Json, taintKey: string): boolean {
  return arr(spec["tolerations"]).some((t) => {
    const key = str(at(t, "key"));
    const operator = str(at(t, "operator")) ?? "Equal";
    const effect = str(at(t, "effect"));
    const keyMatches = key === taintKey || (key === undefined && operator === "Exists");
    const effectMatches = effect === undefined || effect === "" || effect === "NoSchedule";
    return keyMatches && effectMatches;
  });
}

/** Labels of the workload's pods (template labels; the pod's own labels for a bare Pod). */
export function podLabels(type: string, props: Json): Record<string, string> {
  const t = podTemplate(type, props);
  return stringMap(t?.metadata["labels"]);
}
