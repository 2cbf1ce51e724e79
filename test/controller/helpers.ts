/** Shared helpers for the controller tests: polling, object builders for the FakeApiServer test double. */
import type { Obj } from "./fake-api-server.ts";

/** Polls `cond` every 5 ms (real time) until true; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function deploymentObj(ns: string, name: string, replicas: number, labels: Record<string, string>, ready = replicas): Obj {
  return {
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "model", image: "x@sha256:1", resources: { limits: { cpu: "2", memory: "4Gi" } } }] },
      },
    },
    status: { observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: ready },
  };
}

export function servingEndpointObj(ns: string, name: string, spec: Partial<Record<string, unknown>> = {}): Obj {
  return {
    apiVersion: "serving.autopilot.dev/v1alpha1",
    kind: "ServingEndpoint",
    metadata: { name, namespace: ns },
    spec: {
      model: { uri: `s3://models/${name}/1`, flavor: "sklearn" },
      runtime: { kind: "auto" },
      computePool: "cpu",
      concurrency: { min: 1, max: 16 },
      replicas: { min: 1, max: 20 },
      provisionedConcurrency: 0,
      scaleToZero: false,
      ...spec,
    },
  };
}

export function endpointSliceObj(ns: string, name: string, labels: Record<string, string>, ips: readonly string[], port = 8080): Obj {
  return {
    metadata: { name, namespace: ns, labels },
    addressType: "IPv4",
    ports: [{ name: "http", port, protocol: "TCP" }],
    endpoints: ips.map((ip, i) => ({
      addresses: [ip],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: "Pod", namespace: ns, name: `${name}-pod-${i}` },
    })),
  };
}
