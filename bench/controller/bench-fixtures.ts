/**
 * Fixtures for `npm run bench:controller`: an IN-MEMORY DOUBLE of the Kubernetes API (`MemoryKubeApi`, not a
 * real API server: lists return the generated objects, watches stay open and silent, writes are counted), the
 * generated endpoints/Deployments/EndpointSlices, and per-cycle gateway load with a deterministic PRNG.
 */
import type { EventsV1Event, PodMetric, V1Deployment, V1EndpointSlice, V1OwnerReference } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../../controller/src/contract/crd/types.ts";
import type { KubeApi } from "../../controller/src/kube/kube-api.ts";
import { ENDPOINT_LABEL } from "../../controller/src/contract/labels.ts";
import type { BackendLoad } from "./promex-page.ts";
import type { ListResult } from "../../controller/src/kube/reflector.ts";

/** Every generated endpoint's p99 objective, ms (the agent counts requests over it in the request section). */
export const SLO_P99_MS = 200;

export class MemoryKubeApi implements KubeApi {
  readonly writes = { scale: 0, owner: 0, status: 0, events: 0 };
  /** Replica counts written per Deployment (`namespace/name`) since the last `resetWrites`. */
  readonly scaleLog = new Map<string, number[]>();
  readonly #se: ServingEndpoint[];
  readonly #deployments: V1Deployment[];
  readonly #slices: V1EndpointSlice[];
  readonly #seByKey: Map<string, ServingEndpoint>;
  readonly #deploymentByKey: Map<string, V1Deployment>;
  /** The metrics.k8s.io list as the API server sends it (JSON text): every call parses it, as the client does. */
  readonly #podMetricsJson: string;
  /** Label selectors the pod-metrics lists asked for. */
  readonly podMetricsSelectors: string[] = [];

  constructor(se: ServingEndpoint[], deployments: V1Deployment[], slices: V1EndpointSlice[], podMetrics: readonly PodMetric[] = []) {
    this.#podMetricsJson = JSON.stringify({ kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items: podMetrics });
    this.#se = se;
    this.#deployments = deployments;
    this.#slices = slices;
    this.#seByKey = new Map(se.map((x) => [`${x.metadata.namespace}/${x.metadata.name}`, x]));
    this.#deploymentByKey = new Map(deployments.map((x) => [`${x.metadata?.namespace}/${x.metadata?.name}`, x]));
  }

  readonly watch = {
    watch: async (_path: string, _q: unknown, _cb: unknown, done: (err: unknown) => void): Promise<AbortController> => {
      const abort = new AbortController();
      abort.signal.addEventListener("abort", () => done(null));
      return abort;
    },
  };

  listServingEndpoints = async (): Promise<ListResult<ServingEndpoint>> => ({ items: this.#se, metadata: { resourceVersion: "1" } });
  listDeployments = async (selector: string): Promise<ListResult<V1Deployment>> => ({
    items: this.#deployments.filter((d) => d.metadata?.labels?.[selector] !== undefined),
    metadata: { resourceVersion: "1" },
  });
  listEndpointSlices = async (): Promise<ListResult<V1EndpointSlice>> => ({ items: this.#slices, metadata: { resourceVersion: "1" } });
  /** Applies the replica count to the generated Deployment at once (as if every pod started immediately). */
  patchDeploymentScale = async (namespace: string, name: string, replicas: number): Promise<void> => {
    this.writes.scale += 1;
    const key = `${namespace}/${name}`;
    const log = this.scaleLog.get(key);
    if (log === undefined) this.scaleLog.set(key, [replicas]);
    else log.push(replicas);
    const d = this.#deploymentByKey.get(key);
    if (d?.spec === undefined) return;
    d.spec.replicas = replicas;
    d.status = { ...d.status, replicas, updatedReplicas: replicas, readyReplicas: replicas };
  };
  /** Sets the ownerReference on the generated Deployment at once (what the API server and the watch would show). */
  applyDeploymentOwner = async (namespace: string, name: string, owner: V1OwnerReference): Promise<void> => {
    this.writes.owner += 1;
    const d = this.#deploymentByKey.get(`${namespace}/${name}`);
    if (d?.metadata !== undefined) d.metadata.ownerReferences = [...(d.metadata.ownerReferences ?? []).filter((o) => o.uid !== owner.uid), owner];
  };
  /** Starts counting writes from 0. */
  resetWrites(): void {
    this.writes.scale = this.writes.owner = this.writes.status = this.writes.events = 0;
    this.scaleLog.clear();
  }

  /** Applies the status to the generated object at once (what the API server and the watch would show). */
  patchServingEndpointStatus = async (namespace: string, name: string, status: ServingEndpoint["status"]): Promise<void> => {
    this.writes.status += 1;
    const se = this.#seByKey.get(`${namespace}/${name}`);
    if (se !== undefined) (se as { status?: ServingEndpoint["status"] }).status = status;
  };
  createEvent = async (_ns: string, e: EventsV1Event): Promise<EventsV1Event> => {
    this.writes.events += 1;
    return { ...e, metadata: { ...e.metadata, name: `ev-${this.writes.events}` } };
  };
  patchEvent = async (): Promise<void> => void (this.writes.events += 1);
  readLease = async () => undefined;
  createLease = async () => ({});
  replaceLease = async () => ({});
  listPodMetrics = async (labelSelector: string): Promise<readonly PodMetric[]> => {
    this.podMetricsSelectors.push(labelSelector);
    return (JSON.parse(this.#podMetricsJson) as { items: PodMetric[] }).items;
  };
}

/**
 * `count` endpoints, each with one Deployment of `pods` ready replicas, one EndpointSlice and the PodMetrics of
 * its pods (the shape metrics-server serves: labels copied from the pod, usage per container).
 */
export function generateCluster(
  count: number,
  pods: number,
): { se: ServingEndpoint[]; deployments: V1Deployment[]; slices: V1EndpointSlice[]; podMetrics: PodMetric[] } {
  const podMetrics: PodMetric[] = [];
  const rand = prng(7);
  const se: ServingEndpoint[] = [];
  const deployments: V1Deployment[] = [];
  const slices: V1EndpointSlice[] = [];
  for (let i = 0; i < count; i++) {
    const name = `ep-${i}`;
    const ns = `ep-${i}`;
    const labels = { [ENDPOINT_LABEL]: name };
    se.push({
      apiVersion: "serving.autopilot.dev/v1alpha1",
      kind: "ServingEndpoint",
      metadata: { name, namespace: ns, resourceVersion: "1", generation: 1 },
      spec: {
        model: { uri: `s3://models/${name}/1`, flavor: "sklearn" },
        runtime: { kind: "auto" },
        computePool: i % 10 === 0 ? "gpu" : "cpu",
        concurrency: { min: 1, max: 8 },
        replicas: { min: 1, max: 50 },
        provisionedConcurrency: 0,
        scaleToZero: false,
        sloP99Ms: SLO_P99_MS,
      },
      status: { targetConcurrency: 8 },
    });
    deployments.push({
      metadata: { name, namespace: ns, labels, resourceVersion: "1", generation: 1 },
      spec: {
        replicas: pods,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "model", image: "m", resources: { limits: { cpu: "2", memory: "4Gi" } } }] } },
      },
      status: { observedGeneration: 1, replicas: pods, updatedReplicas: pods, readyReplicas: pods },
    });
    slices.push({
      metadata: { name: `${name}-abc`, namespace: ns, labels, resourceVersion: "1" },
      addressType: "IPv4",
      endpoints: Array.from({ length: pods }, (_, p) => ({ addresses: [`10.${i % 250}.${Math.floor(i / 250) % 250}.${p + 1}`], conditions: { ready: true } })),
    });
    for (let p = 0; p < pods; p++) {
      podMetrics.push({
        metadata: { name: `${name}-7d9f8c6b5-${p.toString(36).padStart(5, "x")}`, namespace: ns, labels: { ...labels, "pod-template-hash": "7d9f8c6b5" }, creationTimestamp: "2026-12-01T00:00:00Z" },
        timestamp: "2026-12-01T00:00:00Z",
        window: "15.012s",
        containers: [{ name: "model", usage: { cpu: `${Math.round(600_000_000 + 600_000_000 * rand())}n`, memory: `${Math.round(2_000_000 + 100_000 * rand())}Ki` } }],
      } as unknown as PodMetric);
    }
  }
  return { se, deployments, slices, podMetrics };
}

/** mulberry32: small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Gateway load per backend: each endpoint has its own steady level (60–65 requests in flight, 50 ms each: what
 * the engine serves with 10 pods at target concurrency 8, the top of the fixtures' concurrency range) with
 * ±5% noise per second and an occasional short queue; cumulative counters grow with it. Divided evenly over
 * `gateways` replicas.
 */
export class LoadModel {
  readonly #requests: Float64Array;
  readonly #base: Float64Array;
  readonly #rand: () => number;
  readonly #count: number;

  constructor(count: number, seed = 42) {
    this.#count = count;
    this.#requests = new Float64Array(count);
    this.#rand = prng(seed);
    this.#base = Float64Array.from({ length: count }, () => 60 + 5 * this.#rand());
  }

  next(gateways: number): BackendLoad[][] {
    const pages: BackendLoad[][] = Array.from({ length: gateways }, () => []);
    for (let i = 0; i < this.#count; i++) {
      const conc = Math.max(0, Math.round((this.#base[i] ?? 57) * (0.95 + 0.1 * this.#rand())));
      const queue = this.#rand() < 0.05 ? Math.round(4 * this.#rand()) : 0;
      const rps = conc * 20;
      this.#requests[i] = (this.#requests[i] ?? 0) + rps;
      for (let g = 0; g < gateways; g++) {
        const share = (x: number) => Math.floor(x / gateways) + (g < x % gateways ? 1 : 0);
        const req = Math.floor((this.#requests[i] ?? 0) / gateways);
        pages[g]?.push({
          proxy: `be_ep-${i}`,
          currentSessions: share(conc + queue),
          currentQueue: share(queue),
          requestsTotal: req,
          responses2xxTotal: req,
          totalTimeAvgS: 0.05,
          queueTimeAvgS: queue > 0 ? 0.002 : 0,
        });
      }
    }
    return pages;
  }
}

/**
 * What the scale writes of a series did: how many went down or up (against the replicas before the series), and
 * how many Deployments were written more than once (a count that comes back is a flap).
 */
export function summarizeScaleWrites(log: ReadonlyMap<string, readonly number[]>, before: ReadonlyMap<string, number>): string {
  let down = 0;
  let up = 0;
  let again = 0;
  let back = 0;
  const examples: string[] = [];
  for (const [key, writes] of log) {
    let prev = before.get(key) ?? 0;
    const seen = new Set<number>([prev]);
    let returned = false;
    for (const r of writes) {
      if (r < prev) down += 1;
      else if (r > prev) up += 1;
      if (seen.has(r)) returned = true;
      seen.add(r);
      prev = r;
    }
    if (writes.length > 1) again += 1;
    if (returned) back += 1;
    if (returned && examples.length < 3) examples.push(`${key} ${[before.get(key) ?? 0, ...writes].join("→")}`);
  }
  return `${down} down, ${up} up, to ${log.size} Deployments; ${again} Deployments written more than once, ${back} of them back to a count they had in the series${examples.length > 0 ? ` (${examples.join(", ")})` : ""}`;
}
