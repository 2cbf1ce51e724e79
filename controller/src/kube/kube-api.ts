/**
 * The narrow Kubernetes surface the controller uses, implemented with the real `@kubernetes/client-node` 2.x
 * generated clients and `Watch`. Everything above this file depends on `KubeApi`, not on client-node.
 */
import {
  AppsV1Api,
  CoordinationV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  EventsV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type EventsV1Event,
  type PodMetric,
  type V1Deployment,
  type V1EndpointSlice,
  type V1Lease,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import { SERVING_GROUP, SERVING_PLURAL, SERVING_VERSION, type ServingEndpoint, type ServingEndpointStatus } from "../contract/crd/types.ts";
import { FIELD_MANAGER } from "../contract/labels.ts";
import type { ListResult, WatchLike } from "./reflector.ts";

/** Watch collection paths (all namespaces). */
export const PATHS = {
  servingEndpoints: `/apis/${SERVING_GROUP}/${SERVING_VERSION}/${SERVING_PLURAL}`,
  deployments: "/apis/apps/v1/deployments",
  endpointSlices: "/apis/discovery.k8s.io/v1/endpointslices",
} as const;

export interface KubeApi {
  readonly watch: WatchLike;
  listServingEndpoints(): Promise<ListResult<ServingEndpoint>>;
  listDeployments(labelSelector: string): Promise<ListResult<V1Deployment>>;
  listEndpointSlices(labelSelector: string): Promise<ListResult<V1EndpointSlice>>;
  /**
   * Sets a Deployment's replicas through its scale subresource (merge patch). `resourceVersion` makes it
   * conditional: a Deployment changed since we read it answers 409 and nothing is written.
   */
  patchDeploymentScale(namespace: string, name: string, replicas: number, resourceVersion?: string): Promise<void>;
  /**
   * Server-side apply (field manager `apa-controller`, no force) of one ownerReference on a Deployment: the
   * applied configuration is that reference only, so no other field of the Deployment changes owner or value.
   */
  applyDeploymentOwner(namespace: string, name: string, owner: V1OwnerReference): Promise<void>;
  /** Merge-patches `status` through the status subresource. */
  patchServingEndpointStatus(namespace: string, name: string, status: ServingEndpointStatus): Promise<void>;
  /** Creates an Event; resolves to the created object (its server-given name). */
  createEvent(namespace: string, event: EventsV1Event): Promise<EventsV1Event>;
  /** Merge-patches an Event (the aggregated `series` and note). */
  patchEvent(namespace: string, name: string, patch: Partial<EventsV1Event>): Promise<void>;
  /** The Lease, or undefined when it does not exist (404). */
  readLease(namespace: string, name: string): Promise<V1Lease | undefined>;
  createLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replace with the lease's `metadata.resourceVersion`: 409 when someone else wrote it first. */
  replaceLease(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
  /** metrics.k8s.io PodMetrics of all namespaces whose pods match `labelSelector`. */
  listPodMetrics(labelSelector: string): Promise<readonly PodMetric[]>;
}

/** HTTP status of an error from client-node (ApiException.code or Watch's statusCode), if any. */
export function httpStatusOf(err: unknown): number | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === "number") return e.code;
  if (typeof e.statusCode === "number") return e.statusCode;
  return undefined;
}

/** Objects per list page: a 10,000-endpoint cluster is listed in pages, not one response of every object. */
export const LIST_PAGE_SIZE = 500;

interface Page<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string; readonly _continue?: string; readonly continue?: string };
}

/**
 * Lists every page (`limit` + `continue`). The pages come from one snapshot of the API server, whose
 * resourceVersion the result carries; an expired continue token answers 410 and the reflector relists.
 */
export async function listAllPages<T>(fetchPage: (page: { limit: number; _continue?: string }) => Promise<Page<T>>): Promise<ListResult<T>> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const page = await fetchPage(token === undefined ? { limit: LIST_PAGE_SIZE } : { limit: LIST_PAGE_SIZE, _continue: token });
    for (const item of page.items) items.push(item);
    resourceVersion ??= page.metadata?.resourceVersion;
    const next = page.metadata?._continue ?? page.metadata?.continue;
    token = next === undefined || next === "" ? undefined : next;
  } while (token !== undefined);
  return { items, metadata: { ...(resourceVersion !== undefined ? { resourceVersion } : {}) } };
}

/** How long a watch stream may stay silent before the client gives up on it, ms (server timeout 300 s + margin). */
export const WATCH_INACTIVITY_TIMEOUT_MS = 330_000;

const mergePatch = () => setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const serverSideApply = () => setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

/** Builds the real client from a kubeconfig (in-cluster, `KUBECONFIG`, or a test double's address). */
export function makeKubeApi(kc: KubeConfig): KubeApi {
  const apps = kc.makeApiClient(AppsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const events = kc.makeApiClient(EventsV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const watch = new Watch(kc);
  // client-node aborts a watch that has been quiet for 30 s; the server closes ours after `timeoutSeconds`
  // (300 s, reflector.ts) and bookmarks keep it alive, so allow a quiet stream that long.
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = WATCH_INACTIVITY_TIMEOUT_MS;
  return {
    watch,
    listServingEndpoints: () =>
      listAllPages<ServingEndpoint>(async (page) => (await custom.listClusterCustomObject({ group: SERVING_GROUP, version: SERVING_VERSION, plural: SERVING_PLURAL, ...page })) as Page<ServingEndpoint>),
    listDeployments: (labelSelector) =>
      listAllPages<V1Deployment>(async (page) => (await apps.listDeploymentForAllNamespaces({ labelSelector, ...page })) as Page<V1Deployment>),
    listEndpointSlices: (labelSelector) =>
      listAllPages<V1EndpointSlice>(async (page) => (await discovery.listEndpointSliceForAllNamespaces({ labelSelector, ...page })) as Page<V1EndpointSlice>),
    patchDeploymentScale: async (namespace, name, replicas, resourceVersion) => {
      const body = resourceVersion === undefined ? { spec: { replicas } } : { metadata: { resourceVersion }, spec: { replicas } };
      await apps.patchNamespacedDeploymentScale({ name, namespace, body, fieldManager: FIELD_MANAGER }, mergePatch());
    },
    applyDeploymentOwner: async (namespace, name, owner) => {
      const body = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace, ownerReferences: [owner] } };
      await apps.patchNamespacedDeployment({ name, namespace, body, fieldManager: FIELD_MANAGER }, serverSideApply());
    },
    patchServingEndpointStatus: async (namespace, name, status) => {
      await custom.patchNamespacedCustomObjectStatus(
        { group: SERVING_GROUP, version: SERVING_VERSION, plural: SERVING_PLURAL, namespace, name, body: { status }, fieldManager: FIELD_MANAGER },
        mergePatch(),
      );
    },
    createEvent: (namespace, body) => events.createNamespacedEvent({ namespace, body, fieldManager: FIELD_MANAGER }),
    patchEvent: async (namespace, name, body) => {
      await events.patchNamespacedEvent({ namespace, name, body, fieldManager: FIELD_MANAGER }, mergePatch());
    },
    readLease: async (namespace, name) => {
      try {
        return await coordination.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    },
    createLease: (namespace, body) => coordination.createNamespacedLease({ namespace, body, fieldManager: FIELD_MANAGER }),
    replaceLease: (namespace, name, body) =>
      coordination.replaceNamespacedLease({ namespace, name, body, fieldManager: FIELD_MANAGER }),
    listPodMetrics: async (labelSelector) =>
      // The generic custom-object client reaches any aggregated API (client-node's Metrics has no selector).
      ((await custom.listClusterCustomObject({ group: "metrics.k8s.io", version: "v1beta1", plural: "pods", labelSelector })) as { items: PodMetric[] }).items,
  };
}

/** Kubeconfig from the environment: in-cluster service account when available, else `KUBECONFIG`/~/.kube/config. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/** Kubeconfig pointing at a plain-HTTP server (the test double of the API server). */
export function kubeConfigForUrl(server: string, token = "test-token"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server, skipTLSVerify: true }],
    users: [{ name: "test", token }],
    contexts: [{ name: "test", cluster: "test", user: "test" }],
    currentContext: "test",
  });
  return kc;
}
