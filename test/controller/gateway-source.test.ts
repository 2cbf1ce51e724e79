/** The gateway agent's Kubernetes source: pure mapping, and live updates from the FakeApiServer test double. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import type { ServingEndpoint } from "../../controller/src/contract/crd/types.ts";
import { desiredStateFrom, KubeDesiredStateSource, type EndpointDefaults } from "../../controller/src/kube/gateway-source.ts";
import { kubeConfigForUrl, makeKubeApi } from "../../controller/src/kube/kube-api.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { endpointSliceObj, servingEndpointObj, waitFor } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
const defaults: EndpointDefaults = { auth: { apiKeys: true, jwt: false }, minSlots: 4, queueTimeoutMs: 5000, maxQueue: 100, maxBodyBytes: 1 << 20, modelTimeoutMs: 60_000, portName: "http" };

describe("desiredStateFrom", () => {
  it("maps endpoints, target concurrency, slots and pods; older object wins a name clash", () => {
    const objA = servingEndpointObj("ep-a", "fraud");
    objA.metadata["creationTimestamp"] = "2026-11-22T10:00:00Z";
    const a = { ...objA, status: { targetConcurrency: 6 } } as unknown as ServingEndpoint;
    const objZ = servingEndpointObj("ep-z", "fraud");
    objZ.metadata["creationTimestamp"] = "2026-11-22T11:00:00Z";
    const clash = objZ as unknown as ServingEndpoint;
    const llm = servingEndpointObj("ep-l", "chat", { model: { uri: "models:/m/1", flavor: "llm" }, replicas: { min: 1, max: 2 } }) as unknown as ServingEndpoint;
    const slice = endpointSliceObj("ep-a", "fraud-1", { [L]: "fraud" }, ["10.0.0.2", "10.0.0.1"]) as unknown as V1EndpointSlice;
    const second = slice.endpoints?.[1];
    assert.ok(second);
    second.conditions = { ready: false, terminating: true };
    const foreign = endpointSliceObj("ep-z", "fraud-2", { [L]: "fraud" }, ["10.9.9.9"]) as unknown as V1EndpointSlice;
    const { state, skipped } = desiredStateFrom([clash, llm, a], [slice, foreign], defaults, []);
    assert.deepEqual(skipped, [{ key: "ep-z/fraud", reason: "name fraud is already served from namespace ep-a" }]);
    assert.deepEqual(
      state.endpoints.map((e) => [e.name, e.runtime, e.targetConcurrency, e.slots]),
      [
        ["chat", "vllm", 1, 4],
        ["fraud", "mlflow", 6, 20],
      ],
    );
    assert.deepEqual(state.pods.get("fraud"), [
      { id: "fraud-1-pod-0", addr: "10.0.0.2", port: 8080, ready: true, terminating: false },
      { id: "fraud-1-pod-1", addr: "10.0.0.1", port: 8080, ready: false, terminating: true },
    ]);
    assert.deepEqual(state.pods.get("chat"), []);
  });
});

describe("KubeDesiredStateSource (real client-node, FakeApiServer test double)", () => {
  it("follows status target concurrency and pod changes, notifying the agent", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const api = makeKubeApi(kubeConfigForUrl(fake.url));
    fake.put("servingendpoints", servingEndpointObj("ep-a", "fraud"));
    fake.put("endpointslices", endpointSliceObj("ep-a", "fraud-1", { [L]: "fraud" }, ["10.0.0.1"]));
    const source = new KubeDesiredStateSource({ api, defaults, apiKeys: [], log: silentLogger, delayFn: async () => {} });
    let changes = 0;
    source.onChange(() => void (changes += 1));
    source.start();
    try {
      await waitFor(() => source.synced, 5000, "sync");
      assert.equal(source.current().endpoints[0]?.targetConcurrency, 1, "spec.concurrency.min before the controller publishes");
      const se = fake.get("servingendpoints", "ep-a", "fraud");
      assert.ok(se);
      fake.put("servingendpoints", { ...se, status: { targetConcurrency: 9 } });
      await waitFor(() => source.current().endpoints[0]?.targetConcurrency === 9, 5000, "target from status");
      fake.put("endpointslices", endpointSliceObj("ep-a", "fraud-1", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.7"]));
      await waitFor(() => source.current().pods.get("fraud")?.length === 2, 5000, "new pod");
      fake.delete("servingendpoints", "ep-a", "fraud");
      await waitFor(() => source.current().endpoints.length === 0, 5000, "endpoint removed");
      assert.ok(changes >= 3);
    } finally {
      await source.stop();
      await fake.stop();
    }
  });
});
