/**
 * The gateway agent's Kubernetes input (`DesiredStateSource`): ServingEndpoints (name, runtime, bounds, and the
 * target concurrency the APA controller publishes in status) + their EndpointSlices (pod addresses, readiness,
 * termination) → the agent's desired state. The mapping is pure (`desiredStateFrom`); the source keeps two
 * list+watch caches and notifies the agent on every change.
 */
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { resolveRuntime } from "../contract/crd/resolve-runtime.ts";
import type { ServingEndpoint } from "../contract/crd/types.ts";
import type { ApiKeyEntry, DesiredState, DesiredStateSource, EndpointAuth, GatewayEndpoint, PodTarget } from "../gateway/types.ts";
import { PATHS, type KubeApi } from "./kube-api.ts";
import { ENDPOINT_LABEL, VERSION_LABEL } from "../contract/labels.ts";
import type { Logger } from "./logger.ts";
import { gatewayNameOwners } from "./name-owners.ts";
import { Reflector } from "./reflector.ts";
import { gatewayReplicaCount } from "./gateway-targets.ts";

/** Gateway settings per endpoint that the ServingEndpoint does not carry (agent flags). */
export interface EndpointDefaults {
  readonly auth: EndpointAuth;
  /** Fewest server slots per endpoint; slots = max(this, spec.replicas.max). */
  readonly minSlots: number;
  readonly queueTimeoutMs: number;
  readonly maxQueue: number;
  readonly maxBodyBytes: number;
  readonly modelTimeoutMs: number;
  /** Name of the EndpointSlice port that serves the model. @default first port */
  readonly portName?: string;
  /** Whether payload logs have somewhere to go (a bucket): without one no endpoint captures bodies. @default false */
  readonly payloadLogging?: boolean;
}

/** Where the gateway's own pods are listed: its Service's EndpointSlices, and this replica's pod name. */
export interface GatewayPods {
  readonly namespace: string;
  readonly service: string;
  readonly self: string | undefined;
}

/** Endpoints skipped and why (name clashes across namespaces, missing data). */
export interface SkippedEndpoint {
  readonly key: string;
  readonly reason: string;
}

/**
 * Pure mapping. Endpoint names are global at the gateway (`/serving-endpoints/{name}`, backend `be_<name>`), so
 * when two namespaces use the same name the older object (creation time, then namespace) wins and the other
 * is skipped. Before the controller has published a target concurrency, `spec.concurrency.min` is used: the
 * safe per-pod limit.
 */
export function desiredStateFrom(
  endpoints: readonly ServingEndpoint[],
  slices: readonly V1EndpointSlice[],
  defaults: EndpointDefaults,
  apiKeys: readonly ApiKeyEntry[],
): { state: DesiredState; skipped: SkippedEndpoint[] } {
  const chosen = gatewayNameOwners(endpoints);
  const skipped: SkippedEndpoint[] = [];
  for (const se of endpoints) {
    const winner = chosen.get(se.metadata.name);
    if (winner !== undefined && winner !== se) {
      skipped.push({ key: `${se.metadata.namespace ?? ""}/${se.metadata.name}`, reason: `name ${se.metadata.name} is already served from namespace ${winner.metadata.namespace ?? ""}` });
    }
  }
  const out: GatewayEndpoint[] = [];
  const pods = new Map<string, PodTarget[]>();
  for (const [name, se] of chosen) {
    out.push({
      name,
      runtime: resolveRuntime(se.spec.model, se.spec.runtime),
      auth: defaults.auth,
      targetConcurrency: se.status?.targetConcurrency ?? se.spec.concurrency.min,
      slots: Math.max(defaults.minSlots, se.spec.replicas.max),
      queueTimeoutMs: defaults.queueTimeoutMs,
      maxQueue: defaults.maxQueue,
      maxBodyBytes: defaults.maxBodyBytes,
      modelTimeoutMs: defaults.modelTimeoutMs,
      ...(se.spec.sloP99Ms !== undefined ? { latencyObjectiveMs: se.spec.sloP99Ms } : {}),
      ...(defaults.payloadLogging === true && se.spec.payloadLogging !== undefined ? { payloadLog: se.spec.payloadLogging } : {}),
    });
    pods.set(name, []);
  }
  for (const s of slices) {
    const name = s.metadata?.labels?.[ENDPOINT_LABEL];
    const se = name === undefined ? undefined : chosen.get(name);
    if (name === undefined || se === undefined || (s.metadata?.namespace ?? "") !== (se.metadata.namespace ?? "")) continue;
    const port = (defaults.portName === undefined ? s.ports?.[0] : s.ports?.find((p) => p.name === defaults.portName))?.port;
    if (port === undefined) continue;
    const list = pods.get(name) ?? [];
    // EndpointSlices carry their Service's labels: one Service per model version (components/endpoint).
    const version = s.metadata?.labels?.[VERSION_LABEL];
    for (const ep of s.endpoints ?? []) {
      const addr = ep.addresses[0];
      if (addr === undefined) continue;
      list.push({
        id: ep.targetRef?.name ?? addr,
        addr,
        port,
        ready: ep.conditions?.ready !== false,
        terminating: ep.conditions?.terminating === true,
        ...(version !== undefined ? { version } : {}),
      });
    }
    pods.set(name, list);
  }
  for (const list of pods.values()) list.sort((a, b) => a.id.localeCompare(b.id));
  return { state: { endpoints: out.sort((a, b) => a.name.localeCompare(b.name)), pods, apiKeys: [...apiKeys] }, skipped };
}

/** `DesiredStateSource` fed by list+watch of ServingEndpoints and their EndpointSlices. */
export class KubeDesiredStateSource implements DesiredStateSource {
  readonly endpoints: Reflector<ServingEndpoint>;
  readonly slices: Reflector<V1EndpointSlice>;
  readonly #defaults: EndpointDefaults;
  #apiKeys: readonly ApiKeyEntry[];
  readonly #log: Logger;
  readonly #listeners = new Set<() => void>();
  #cached: DesiredState | undefined;
  /** The gateway Service's EndpointSlices (the live replica count), when `gatewayPods` is given. */
  readonly gatewaySlices: Reflector<V1EndpointSlice> | undefined;
  readonly #gatewayPods: GatewayPods | undefined;

  constructor(opts: { api: KubeApi; defaults: EndpointDefaults; apiKeys: readonly ApiKeyEntry[]; log: Logger; delayFn: (ms: number) => Promise<void>; gatewayPods?: GatewayPods }) {
    this.#defaults = opts.defaults;
    this.#apiKeys = opts.apiKeys;
    this.#log = opts.log;
    const onChange = (): void => {
      this.#cached = undefined;
      for (const l of this.#listeners) l();
    };
    const common = { watch: opts.api.watch, delayFn: opts.delayFn, log: opts.log, onChange };
    this.endpoints = new Reflector<ServingEndpoint>({ ...common, name: "servingendpoints", path: PATHS.servingEndpoints, list: () => opts.api.listServingEndpoints() });
    this.slices = new Reflector<V1EndpointSlice>({
      ...common,
      name: "endpointslices",
      path: PATHS.endpointSlices,
      labelSelector: ENDPOINT_LABEL,
      list: () => opts.api.listEndpointSlices(ENDPOINT_LABEL),
    });
    this.#gatewayPods = opts.gatewayPods;
    const gp = opts.gatewayPods;
    const selector = gp === undefined ? undefined : `kubernetes.io/service-name=${gp.service}`;
    this.gatewaySlices = selector === undefined ? undefined : new Reflector<V1EndpointSlice>({
      ...common,
      name: "gateway-endpointslices",
      path: PATHS.endpointSlices,
      labelSelector: selector,
      list: () => opts.api.listEndpointSlices(selector),
    });
  }

  get synced(): boolean {
    return this.endpoints.hasSynced && this.slices.hasSynced && (this.gatewaySlices?.hasSynced ?? true);
  }

  start(): void {
    this.endpoints.start();
    this.slices.start();
    this.gatewaySlices?.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.endpoints.stop(), this.slices.stop(), this.gatewaySlices?.stop()]);
  }

  current(): DesiredState {
    if (this.#cached === undefined) {
      const { state, skipped } = desiredStateFrom(this.endpoints.list(), this.slices.list(), this.#defaults, this.#apiKeys);
      for (const s of skipped) this.#log.warn("endpoint skipped", { endpoint: s.key, reason: s.reason });
      const gp = this.#gatewayPods;
      this.#cached = gp === undefined || this.gatewaySlices === undefined ? state : { ...state, gatewayReplicas: gatewayReplicaCount(this.gatewaySlices.list(), gp.namespace, gp.self) };
    }
    return this.#cached;
  }

  /** Replaces the API keys (the agent re-reads its key file): applied in the next cycle, without a restart. */
  setApiKeys(keys: readonly ApiKeyEntry[]): void {
    this.#apiKeys = [...keys];
    this.#cached = undefined;
    for (const l of this.#listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
