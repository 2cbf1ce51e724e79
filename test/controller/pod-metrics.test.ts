/**
 * The pod-metrics poll: real client-node against the FakeApiServer test double. Endpoint pods only (label
 * selector on the list), one index lookup per pod, capacity by the pod's version under a traffic split, and
 * an absent metrics.k8s.io backs off with one log line per change of state.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Deployment } from "@kubernetes/client-node";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { indexByEndpoint } from "../../controller/src/kube/cluster-state.ts";
import { kubeConfigForUrl, makeKubeApi } from "../../controller/src/kube/kube-api.ts";
import type { Logger } from "../../controller/src/kube/logger.ts";
import { joinPodMetrics, PodMetricsPoller } from "../../controller/src/kube/pod-metrics-poller.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { deploymentObj } from "./helpers.ts";

const L = "serving.autopilot.dev/endpoint";
const V = "serving.autopilot.dev/version";

function recordingLogger(lines: string[]): Logger {
  const l: Logger = {
    debug: () => {},
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m) => void lines.push(`error ${m}`),
    child: () => l,
  };
  return l;
}

const podMetric = (ns: string, name: string, labels: Record<string, string>, cpu: string) => ({
  metadata: { name, namespace: ns, labels },
  timestamp: "2026-12-01T00:00:00Z",
  window: "15s",
  containers: [{ name: "model", usage: { cpu, memory: "1Gi" } }],
});

describe("PodMetricsPoller (real client-node, FakeApiServer test double)", () => {
  it("lists endpoint pods only, joins them through the Deployment index, picks capacity by version", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    try {
      const deployments = [
        deploymentObj("ns-a", "fraud", 2, { [L]: "fraud" }),
        deploymentObj("ns-a", "split-v1", 1, { [L]: "split", [V]: "v1" }),
        { ...deploymentObj("ns-a", "split-v2", 1, { [L]: "split", [V]: "v2" }), spec: { template: { spec: { containers: [{ name: "m", resources: { limits: { cpu: "4", memory: "8Gi" } } }] } } } },
      ] as unknown as V1Deployment[];
      fake.put("pods", podMetric("ns-a", "fraud-1", { [L]: "fraud" }, "500m") as never);
      fake.put("pods", podMetric("ns-a", "fraud-2", { [L]: "fraud" }, "1") as never);
      fake.put("pods", podMetric("ns-a", "split-1", { [L]: "split", [V]: "v2" }, "1") as never);
      fake.put("pods", podMetric("kube-system", "coredns-1", { "k8s-app": "kube-dns" }, "100m") as never);
      const api = makeKubeApi(kubeConfigForUrl(fake.url));
      const clock = new ManualClock();
      const poller = new PodMetricsPoller({
        listPodMetrics: (s) => api.listPodMetrics(s),
        deploymentsByEndpoint: () => indexByEndpoint(deployments),
        clock,
        log: recordingLogger([]),
        intervalMs: 15_000,
      });
      await poller.pollOnce();
      const req = fake.requests.find((r) => r.path === "/apis/metrics.k8s.io/v1beta1/pods");
      assert.equal(req?.query["labelSelector"], L, "the list asks for endpoint pods only");
      const snap = poller.latest();
      assert.equal(snap?.atMs, clock.nowMs());
      assert.deepEqual(
        snap?.byEndpoint.get("ns-a/fraud")?.map((p) => p.cpuUtil),
        [0.25, 0.5],
      );
      assert.deepEqual(snap?.byEndpoint.get("ns-a/split")?.map((p) => p.cpuUtil), [0.25], "v2 pod against v2's 4-core limit");
      assert.equal(snap?.byEndpoint.size, 2);
      assert.deepEqual(poller.availability, { available: true, reason: "PodMetricsListed", failures: 0 });
    } finally {
      await fake.stop();
    }
  });

  it("metrics.k8s.io absent: polls back off 15 s, 30 s, 60 s … capped, one warning per state, recovery logged", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    try {
      const lines: string[] = [];
      const api = makeKubeApi(kubeConfigForUrl(fake.url));
      const gauge: number[] = [];
      const poller = new PodMetricsPoller({
        listPodMetrics: (s) => api.listPodMetrics(s),
        deploymentsByEndpoint: () => new Map(),
        clock: new ManualClock(),
        log: recordingLogger(lines),
        intervalMs: 15_000,
        maxBackoffMs: 120_000,
        availableGauge: { set: (v) => void gauge.push(v) },
      });
      fake.faults.push({ path: /metrics\.k8s\.io/, status: 404, times: 6 });
      const delays: number[] = [];
      for (let i = 0; i < 6; i++) {
        await poller.pollOnce();
        delays.push(poller.nextDelayMs());
      }
      assert.deepEqual(delays, [30_000, 60_000, 120_000, 120_000, 120_000, 120_000]);
      assert.equal(poller.availability.available, false);
      assert.match(poller.availability.reason, /metrics\.k8s\.io not served \(HTTP 404\)/);
      assert.deepEqual(lines, ["warn pod metrics unavailable; backing off"], "one warning, not one per poll");
      await poller.pollOnce();
      assert.equal(poller.nextDelayMs(), 15_000);
      assert.deepEqual(lines, ["warn pod metrics unavailable; backing off", "info pod metrics available again"]);
      assert.deepEqual(gauge, [0, 0, 0, 0, 0, 0, 1]);
    } finally {
      await fake.stop();
    }
  });

  it("the join is linear: 10,000 endpoints × 10 pods in one pass, one index lookup per endpoint", () => {
    const deployments: V1Deployment[] = [];
    const pods = [];
    for (let e = 0; e < 10_000; e++) {
      deployments.push(deploymentObj(`ns-${e}`, `ep-${e}`, 10, { [L]: `ep-${e}` }) as unknown as V1Deployment);
      for (let p = 0; p < 10; p++) pods.push(podMetric(`ns-${e}`, `ep-${e}-${p}`, { [L]: `ep-${e}` }, "1"));
    }
    const index = indexByEndpoint(deployments);
    let lookups = 0;
    const counting = new Map(index);
    const get = counting.get.bind(counting);
    counting.get = (k: string) => {
      lookups += 1;
      return get(k);
    };
    const out = joinPodMetrics(pods as never, counting, new Map());
    assert.equal(out.size, 10_000);
    assert.equal(lookups, 10_000, "one index lookup per endpoint (its pods come together), no scan of the Deployments");
    assert.equal(out.get("ns-9999/ep-9999")?.[0]?.cpuUtil, 0.5);
  });
});
