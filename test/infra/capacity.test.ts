/**
 * The local stack fits one laptop kind node: the summed requests of every pod it runs after `pulumi up` — its
 * own workloads at their initial replicas, the charts' workloads and the pods the charts' operators create —
 * plus kind's own control-plane pods, within 4 CPUs and 8 GiB (kind reserves nothing: allocatable = capacity).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KIND_SYSTEM_REQUESTS, podSpecRequests, quantity, stackPodRequests, totalRequests } from "../../infra/capacity.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { evaluated } from "./helpers.ts";

const NODE = { cpu: 4, memoryBytes: 8 * 2 ** 30 };

describe("capacity", () => {
  const variants = [
    { what: "the example set", evaluation: () => evaluated("local"), endpoints: ["fraud-classifier-c-", "text-embedder-c-"] },
    { what: "the example set with the custom-runtime agent (exampleCustomImage)", evaluation: () => evaluateStack("local", { overrides: { exampleCustomImage: "ghcr.io/acme/support-agent:1.4.2" } }), endpoints: ["fraud-classifier-c-", "text-embedder-c-", "support-agent-c-"] },
  ];
  for (const v of variants) it(`the local stack's requests fit a 4-CPU / 8-GiB kind node, kind's own pods included: ${v.what}`, async () => {
    const pods = stackPodRequests((await v.evaluation()).resources);
    const t = totalRequests([...pods, { what: "kind control plane", replicas: 1, ...KIND_SYSTEM_REQUESTS }]);
    const table = pods.map((p) => `  ${(p.cpu * p.replicas).toFixed(2)} CPU ${((p.memoryBytes * p.replicas) / 2 ** 30).toFixed(2)} GiB  ${p.what} ×${p.replicas}`).join("\n");
    assert.ok(t.cpu <= NODE.cpu, `requests ${t.cpu.toFixed(2)} CPU > ${NODE.cpu}:\n${table}`);
    assert.ok(t.memoryBytes <= NODE.memoryBytes, `requests ${(t.memoryBytes / 2 ** 30).toFixed(2)} GiB > 8 GiB:\n${table}`);
    // Observability, the store, the gateway and every example endpoint are in the sum.
    for (const what of ["prometheus-kps-prometheus", "minio", "gateway", ...v.endpoints]) {
      assert.ok(pods.some((p) => p.what.includes(what)), `${what} is not counted`);
    }
  });

  it("counts a pod the way the scheduler does: max(largest init container, sum of containers)", () => {
    const pod = {
      initContainers: [{ resources: { requests: { cpu: "2", memory: "256Mi" } } }],
      containers: [{ resources: { requests: { cpu: "250m", memory: "512Mi" } } }, { resources: { requests: { cpu: "250m", memory: "1Gi" } } }],
    };
    assert.deepEqual(podSpecRequests(pod), { cpu: 2, memoryBytes: 1.5 * 2 ** 30 });
    assert.equal(quantity("100m"), 0.1);
    assert.equal(quantity("64Mi"), 64 * 2 ** 20);
  });
});
