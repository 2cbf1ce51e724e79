/**
 * The local runner's `DesiredStateSource`: an in-memory store of endpoints, pods and API keys that the local
 * scaler and the dev command change, and the gateway agent follows. (In Kubernetes the same interface is fed
 * from EndpointSlices and the ServingEndpoint status.)
 */
import { createHash } from "node:crypto";
import type { ApiKeyEntry, DesiredState, DesiredStateSource, GatewayEndpoint, PodTarget } from "../gateway/types.ts";

/** sha256 of an API key, lower-case hex: the only form the gateway stores. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export class LocalDesiredStateSource implements DesiredStateSource {
  private endpoints = new Map<string, GatewayEndpoint>();
  private pods = new Map<string, PodTarget[]>();
  private apiKeys: ApiKeyEntry[] = [];
  private gatewayReplicas: number | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(init?: { endpoints?: readonly GatewayEndpoint[]; apiKeys?: readonly ApiKeyEntry[] }) {
    for (const ep of init?.endpoints ?? []) this.endpoints.set(ep.name, ep);
    this.apiKeys = [...(init?.apiKeys ?? [])];
  }

  current(): DesiredState {
    return {
      endpoints: [...this.endpoints.values()],
      pods: new Map([...this.pods].map(([k, v]) => [k, [...v]])),
      apiKeys: [...this.apiKeys],
      ...(this.gatewayReplicas !== undefined ? { gatewayReplicas: this.gatewayReplicas } : {}),
    };
  }

  /** Gateway replicas sharing the pods (starting, ready and terminating); undefined: the agent's setting. */
  setGatewayReplicas(n: number | undefined): void {
    this.gatewayReplicas = n;
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  endpoint(name: string): GatewayEndpoint | undefined {
    return this.endpoints.get(name);
  }

  /** Adds or replaces an endpoint. */
  setEndpoint(ep: GatewayEndpoint): void {
    this.endpoints.set(ep.name, ep);
    this.changed();
  }

  removeEndpoint(name: string): void {
    this.endpoints.delete(name);
    this.pods.delete(name);
    this.changed();
  }

  /** Changes the target concurrency of an endpoint (applied live, no reload). */
  setTargetConcurrency(name: string, target: number): void {
    const ep = this.endpoints.get(name);
    if (ep === undefined) throw new Error(`endpoint ${JSON.stringify(name)} does not exist`);
    if (ep.targetConcurrency === target) return;
    this.endpoints.set(name, { ...ep, targetConcurrency: target });
    this.changed();
  }

  /** Adds or replaces one pod of an endpoint. */
  upsertPod(endpoint: string, pod: PodTarget): void {
    const list = (this.pods.get(endpoint) ?? []).filter((p) => p.id !== pod.id);
    list.push(pod);
    this.pods.set(endpoint, list);
    this.changed();
  }

  removePod(endpoint: string, podId: string): void {
    this.pods.set(endpoint, (this.pods.get(endpoint) ?? []).filter((p) => p.id !== podId));
    this.changed();
  }

  setApiKeys(keys: readonly ApiKeyEntry[]): void {
    this.apiKeys = [...keys];
    this.changed();
  }
}
