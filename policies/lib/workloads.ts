/**
 * Pod-template access for Kubernetes workload resources (Deployment, StatefulSet, DaemonSet, Job, CronJob,
 * ReplicaSet, ReplicationController, PodTemplate, Pod) as the `@pulumi/kubernetes` provider receives them, and for
 * custom resources that embed pod specs (Argo Rollouts, Ray clusters, training jobs, ...): any object with a
 * `containers` list of objects is read as a pod spec.
 */
import { createRequire } from "node:module";
import { UnknownValueError } from "@pulumi/policy";
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
export const REPLICATION_CONTROLLER = "kubernetes:core/v1:ReplicationController";
export const POD_TEMPLATE = "kubernetes:core/v1:PodTemplate";

/** The built-in workload types whose pods the pack inspects (custom resources: see podTemplates). */
export const WORKLOAD_TYPES: readonly string[] = [DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET, JOB, CRONJOB, POD, REPLICATION_CONTROLLER, POD_TEMPLATE];

/**
 * Kubernetes types whose objects never hold pods themselves: Pulumi's own wrappers (Helm, YAML, Kustomize: their
 * objects are registered as separate resources, or — `helm.sh/v3:Release` — not at all, see helm-release.ts) and
 * the provider.
 */
const NOT_OBJECTS = /^kubernetes:(helm\.sh|yaml|kustomize)\b|^pulumi:providers:/;

/** True for types that may carry pod templates: the built-in workloads and every other Kubernetes object kind. */
export function mayHavePodTemplates(type: string): boolean {
  return WORKLOAD_TYPES.includes(type) || (type.startsWith("kubernetes:") && !NOT_OBJECTS.test(type));
}

/** One pod template of a workload: where it sits (`""` for the built-in workloads), its pod spec and metadata. */
export interface PodTemplateView {
  readonly where: string;
  readonly spec: Json;
  readonly metadata: Json;
}

/** The pod spec and pod-template metadata of a built-in workload's props, or undefined for other types. */
export function podTemplate(type: string, props: Json): { spec: Json; metadata: Json } | undefined {
  let template: unknown;
  if (type === POD) template = props;
  else if (type === CRONJOB) template = at(props, "spec", "jobTemplate", "spec", "template");
  else if (type === POD_TEMPLATE) template = at(props, "template");
  else if (WORKLOAD_TYPES.includes(type)) template = at(props, "spec", "template");
  else return undefined;
  return { spec: obj(at(template, "spec")) ?? {}, metadata: obj(at(template, "metadata")) ?? {} };
}

const proxySentinels = createRequire(import.meta.url)("@pulumi/policy/proxy.js") as { unknownObjectValue: string; unknownArrayValue: string };
/** Deepest nesting searched for pod specs in a custom resource. */
const MAX_DEPTH = 12;

/**
 * Every pod template of a resource: the built-in workloads' one, or — for any other Kubernetes kind — each
 * object with a `containers` list of objects, wherever it sits (`spec.workerGroupSpecs[0].template.spec`). An
 * unknown (preview-time) object or list could hide a pod spec, so reading one throws (the runtime reports the
 * policy as unable to run); unknown strings, numbers and booleans cannot, and are skipped.
 */
export function podTemplates(type: string, props: Json): PodTemplateView[] {
  const builtIn = podTemplate(type, props);
  if (builtIn !== undefined) return [{ where: "", ...builtIn }];
  if (!mayHavePodTemplates(type)) return [];
  const out: PodTemplateView[] = [];
  const walk = (node: unknown, path: string, parent: Json | undefined, key: string, depth: number): void => {
    const o = obj(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) walk(readSkippingUnknownScalars(node as unknown as Json, String(i)), `${path}[${i}]`, undefined, "", depth + 1);
      return;
    }
    if (o === undefined || depth > MAX_DEPTH) return;
    const containers = readSkippingUnknownScalars(o, "containers");
    if (Array.isArray(containers) && containers.some((c) => obj(c) !== undefined)) {
      const metadata = key === "spec" && parent !== undefined ? obj(readSkippingUnknownScalars(parent, "metadata")) ?? {} : {};
      out.push({ where: path, spec: o, metadata });
      return;
    }
    for (const k of Object.keys(o)) {
      if (k === "metadata" || k === "status") continue;
      walk(readSkippingUnknownScalars(o, k), path === "" ? k : `${path}.${k}`, o, k, depth + 1);
    }
  };
  walk(props, "", undefined, "", 0);
  return out;
}

/** `o[key]`, where an unknown scalar reads as undefined and an unknown object or list throws. */
export function readSkippingUnknownScalars(o: Json, key: string): unknown {
  try {
    return o[key];
  } catch (e) {
    const sentinel = (e as { unknownTypeSentinel?: unknown }).unknownTypeSentinel;
    if (e instanceof UnknownValueError && sentinel !== proxySentinels.unknownObjectValue && sentinel !== proxySentinels.unknownArrayValue) return undefined;
    throw e;
  }
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
