/**
 * What a stack asks the scheduler for: the summed CPU and memory requests of every pod it runs right after
 * `pulumi up` — its own workloads (at their initial replicas; DaemonSets once per node), the charts' workloads
 * and the pods the charts' operators create (components/charts/chart-facts.ts) — as the scheduler counts them:
 * a pod requests the larger of its largest init container and the sum of its containers.
 */
import { CHART_FACTS, type ChartKey, chartWorkloadObjects } from "../components/charts/chart-facts.ts";
import type { RegisteredResource } from "./mock-monitor.ts";

/** CPU cores and memory bytes. */
export interface Requests {
  readonly cpu: number;
  readonly memoryBytes: number;
}

/** One pod template's contribution, for reports. */
export interface PodRequests extends Requests {
  readonly what: string;
  readonly replicas: number;
}

/**
 * Requests of the pods a kind cluster runs itself on its single node (kind v0.2x node image: kube-apiserver 250m,
 * kube-controller-manager 200m, kube-scheduler 100m, etcd 100m/100Mi, two CoreDNS pods 100m/70Mi each, kindnet
 * 100m/50Mi; kube-proxy and local-path-provisioner request nothing).
 */
export const KIND_SYSTEM_REQUESTS: Requests = { cpu: 0.95, memoryBytes: (100 + 2 * 70 + 50) * 2 ** 20 };

const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes quantity as a number (cores or bytes): "250m" → 0.25, "512Mi" → 536870912, 2 → 2. */
export function quantity(q: unknown): number {
  if (typeof q === "number") return q;
  if (typeof q !== "string") return 0;
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (m === null) throw new Error(`not a Kubernetes quantity: ${q}`);
  const n = Number(m[1]);
  return m[2] === "m" ? n / 1000 : m[2] !== undefined ? n * UNITS[m[2]]! : n;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function containerRequests(c: Obj): Requests {
  const r = (c.resources?.requests ?? {}) as Obj;
  return { cpu: quantity(r.cpu), memoryBytes: quantity(r.memory) };
}

/** A pod spec's requests as the scheduler counts them. */
export function podSpecRequests(pod: Obj): Requests {
  const sum = ((pod.containers ?? []) as Obj[]).map(containerRequests).reduce((a, b) => ({ cpu: a.cpu + b.cpu, memoryBytes: a.memoryBytes + b.memoryBytes }), { cpu: 0, memoryBytes: 0 });
  const init = ((pod.initContainers ?? []) as Obj[]).map(containerRequests);
  return {
    cpu: Math.max(sum.cpu, ...init.map((i) => i.cpu)),
    memoryBytes: Math.max(sum.memoryBytes, ...init.map((i) => i.memoryBytes)),
  };
}

function workloadPods(obj: Obj, nodes: number): { pod: Obj; replicas: number } | undefined {
  if (obj.kind === "Deployment" || obj.kind === "StatefulSet") return { pod: obj.spec.template.spec, replicas: Number(obj.spec.replicas ?? 1) };
  if (obj.kind === "DaemonSet") return { pod: obj.spec.template.spec, replicas: nodes };
  if (obj.kind === "Job") return { pod: obj.spec.template.spec, replicas: 1 };
  return undefined;
}

/** Every pod template of an evaluation (its Kubernetes objects and its charts' workloads) with its requests. */
export function stackPodRequests(resources: readonly RegisteredResource[], nodes = 1): PodRequests[] {
  const out: PodRequests[] = [];
  const add = (what: string, obj: Obj) => {
    const w = workloadPods(obj, nodes);
    if (w !== undefined && w.replicas > 0) out.push({ what, replicas: w.replicas, ...podSpecRequests(w.pod) });
  };
  for (const r of resources) {
    if (r.fromChartFacts === true || !r.type.startsWith("kubernetes:") || r.type.startsWith("kubernetes:helm.sh")) continue;
    const obj = r.inputs as Obj;
    add(`${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`, obj);
  }
  for (const chart of resources.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart")) {
    const key = (Object.keys(CHART_FACTS) as ChartKey[]).find((k) => CHART_FACTS[k].chart.chart === chart.inputs.chart);
    if (key === undefined) throw new Error(`chart ${String(chart.inputs.chart)} has no entry in components/charts/chart-facts.ts`);
    for (const { obj, createdBy } of chartWorkloadObjects(key, String(chart.inputs.name), String(chart.inputs.namespace), (chart.inputs.values ?? {}) as Obj)) {
      add(`${obj.kind} ${(obj.metadata as Obj).namespace}/${(obj.metadata as Obj).name} (chart ${String(chart.inputs.chart)}${createdBy === "operator" ? ", created by its operator" : ""})`, obj);
    }
  }
  return out;
}

/** Σ requests × replicas. */
export function totalRequests(pods: readonly PodRequests[]): Requests {
  return pods.reduce((a, p) => ({ cpu: a.cpu + p.cpu * p.replicas, memoryBytes: a.memoryBytes + p.memoryBytes * p.replicas }), { cpu: 0, memoryBytes: 0 });
}
