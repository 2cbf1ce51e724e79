/**
 * Pod resource and runtime metrics, polled slower than the gateway (metrics-server itself refreshes every
 * 15 s or so): CPU and memory from metrics.k8s.io relative to the Deployment template's limits (requests when
 * unlimited); GPU, vLLM and Triton signals from Prometheus when a URL is configured. Result: the latest
 * `PodSample`s per endpoint key (`namespace/name`), attached to the gateway samples by the controller.
 */
import type { PodMetric, V1Deployment } from "@kubernetes/client-node";
import type { PodSample } from "../engine/types.ts";
import { ENDPOINT_LABEL, VERSION_LABEL } from "../contract/labels.ts";

/**
 * The leading decimal number of `q` (digits and one point) and where it ends; NaN when there is none. By
 * character code: the pod-metrics poll reads two quantities per container of every endpoint pod.
 */
function leadingNumber(q: string): { value: number; end: number } {
  let i = 0;
  let intPart = 0;
  let digits = 0;
  while (i < q.length) {
    const d = q.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    intPart = intPart * 10 + d;
    digits += 1;
    i += 1;
  }
  if (q.charCodeAt(i) === 46 /* . */) {
    let j = i + 1;
    while (j < q.length && q.charCodeAt(j) >= 48 && q.charCodeAt(j) <= 57) j += 1;
    if (j === i + 1 && digits === 0) return { value: NaN, end: i };
    return { value: Number(q.slice(0, j)), end: j };
  }
  return { value: digits === 0 ? NaN : intPart, end: i };
}

const CPU_SCALE: Readonly<Record<string, number>> = { "": 1, m: 1e-3, u: 1e-6, n: 1e-9 };
const MEMORY_SCALE: Readonly<Record<string, number>> = { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

function quantity(q: string | undefined, scales: Readonly<Record<string, number>>): number | undefined {
  if (q === undefined) return undefined;
  const t = q.length > 0 && q.charCodeAt(0) > 32 && q.charCodeAt(q.length - 1) > 32 ? q : q.trim();
  const { value, end } = leadingNumber(t);
  if (Number.isNaN(value)) return undefined;
  const scale = scales[end === t.length ? "" : t.slice(end)];
  return scale === undefined ? undefined : value * scale;
}

/** Kubernetes CPU quantity → cores ("250m" → 0.25, "2" → 2, "1500000n" → 0.0015). */
export function cpuCores(q: string | undefined): number | undefined {
  return quantity(q, CPU_SCALE);
}

/** Kubernetes memory quantity → bytes ("4Gi", "512Mi", "1G", "1000Ki", "123"). */
export function memoryBytes(q: string | undefined): number | undefined {
  return quantity(q, MEMORY_SCALE);
}

/** Per-pod CPU cores and memory bytes the template allows (sum over containers; limits, else requests). */
export function podCapacity(d: V1Deployment): { cpu?: number; memory?: number } {
  let cpu = 0;
  let memory = 0;
  let cpuKnown = true;
  let memKnown = true;
  for (const c of d.spec?.template?.spec?.containers ?? []) {
    const r = c.resources ?? {};
    const cc = cpuCores((r.limits?.["cpu"] ?? r.requests?.["cpu"]) as string | undefined);
    const mm = memoryBytes((r.limits?.["memory"] ?? r.requests?.["memory"]) as string | undefined);
    if (cc === undefined) cpuKnown = false;
    else cpu += cc;
    if (mm === undefined) memKnown = false;
    else memory += mm;
  }
  return { ...(cpuKnown && cpu > 0 ? { cpu } : {}), ...(memKnown && memory > 0 ? { memory } : {}) };
}

/** Runtime signals from Prometheus per `namespace/pod`. */
export type RuntimeSignals = ReadonlyMap<string, Partial<Pick<PodSample, "gpuUtil" | "gpuMemoryUtil" | "kvCacheUtil" | "runtimeQueueLength">>>;

/**
 * Pure join: PodMetrics (labelled with the endpoint) + capacity of the endpoint's Deployment + runtime signals
 * → PodSamples per endpoint key.
 */
export function podSamplesByEndpoint(
  podMetrics: readonly PodMetric[],
  capacityOf: (namespace: string, endpoint: string, version: string | undefined) => { cpu?: number; memory?: number } | undefined,
  runtime: RuntimeSignals,
): Map<string, PodSample[]> {
  const out = new Map<string, PodSample[]>();
  // An endpoint's pods come one after another in the list: its key, list and capacity are kept across them.
  let lastNs: string | undefined;
  let lastEndpoint: string | undefined;
  let lastVersion: string | undefined;
  let list: PodSample[] | undefined;
  let cap: { cpu?: number; memory?: number } | undefined;
  for (const pm of podMetrics) {
    const labels = pm.metadata.labels;
    const endpoint = labels?.[ENDPOINT_LABEL];
    if (endpoint === undefined) continue;
    const ns = pm.metadata.namespace;
    const version = labels?.[VERSION_LABEL];
    if (ns !== lastNs || endpoint !== lastEndpoint || version !== lastVersion) {
      lastNs = ns;
      lastEndpoint = endpoint;
      lastVersion = version;
      cap = capacityOf(ns, endpoint, version);
      const key = `${ns}/${endpoint}`;
      list = out.get(key);
      if (list === undefined) out.set(key, (list = []));
    }
    let cpu = 0;
    let mem = 0;
    for (const c of pm.containers) {
      cpu += cpuCores(c.usage.cpu) ?? 0;
      mem += memoryBytes(c.usage.memory) ?? 0;
    }
    const sample: { -readonly [K in keyof PodSample]: PodSample[K] } = { ready: true };
    if (cap?.cpu !== undefined) sample.cpuUtil = cpu / cap.cpu;
    if (cap?.memory !== undefined) sample.memoryUtil = mem / cap.memory;
    if (runtime.size > 0) {
      const signals = runtime.get(`${ns}/${pm.metadata.name}`);
      if (signals !== undefined) Object.assign(sample, signals);
    }
    list?.push(sample);
  }
  return out;
}

/** PromQL used for runtime signals; each returns one series per (namespace, pod). */
export const PROMETHEUS_QUERIES = {
  gpuUtil: "avg by (namespace, pod) (DCGM_FI_DEV_GPU_UTIL) / 100",
  gpuMemoryUtil: "avg by (namespace, pod) (DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE))",
  kvCacheUtil: 'max by (namespace, pod) ({__name__=~"vllm:kv_cache_usage_perc|vllm:gpu_cache_usage_perc"})',
  runtimeQueueLength: 'sum by (namespace, pod) ({__name__=~"vllm:num_requests_waiting|nv_inference_pending_request_count"})',
} as const;

interface PromVector {
  readonly status: string;
  readonly data?: { readonly resultType: string; readonly result: readonly { metric: Record<string, string>; value: [number, string] }[] };
}

/** Runs the runtime-signal queries against Prometheus' HTTP API; a failing query just leaves its signal out. */
export async function queryRuntimeSignals(
  baseUrl: string,
  timeoutMs: number,
  onError: (query: string, err: unknown) => void,
): Promise<RuntimeSignals> {
  const out = new Map<string, Record<string, number>>();
  await Promise.all(
    Object.entries(PROMETHEUS_QUERIES).map(async ([field, query]) => {
      try {
        const url = `${baseUrl.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`;
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as PromVector;
        for (const r of body.data?.result ?? []) {
          const key = `${r.metric["namespace"] ?? ""}/${r.metric["pod"] ?? ""}`;
          const v = Number(r.value[1]);
          if (!Number.isFinite(v)) continue;
          const rec = out.get(key) ?? {};
          rec[field] = v;
          out.set(key, rec);
        }
      } catch (err) {
        onError(query, err);
      }
    }),
  );
  return out;
}
