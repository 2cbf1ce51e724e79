/**
 * Scheduling of what the staging-aws stack renders, on a real control plane (kube-apiserver, kube-scheduler,
 * kube-controller-manager, built from Go modules) with kwok nodes made from the stack's own EKS node groups
 * (their labels, their taints in Kubernetes spelling, the catalog's allocatable CPU, memory and GPUs):
 * - warm-pool placeholder pods (the rendered PriorityClass, value -10) hold the GPU node until endpoint pods
 *   preempt them;
 * - the GPU endpoints' pods land only on GPU-pool nodes, and no CPU endpoint pod lands there;
 * - the rendered PodDisruptionBudget holds while two nodes are drained through the Eviction API.
 * Node counts: each group's desired size, plus four CPU nodes so two cordoned nodes still leave room for every
 * CPU pod of the stack (what the cluster autoscaler would add).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { allocatable, MACHINES } from "../../components/catalog.ts";
import type { KubeObject } from "../../tools/control-plane/kube-rest.ts";
import { evaluated, kubeObjects } from "../infra/helpers.ts";
import { eventually, useControlPlane, waitEstablished } from "./helpers.ts";
import { applyAll, kwokNode } from "./peers.ts";

const cluster = useControlPlane({ nodes: true });
const STACK = "staging-aws";
const EFFECT: Record<string, string> = { NO_SCHEDULE: "NoSchedule", NO_EXECUTE: "NoExecute", PREFER_NO_SCHEDULE: "PreferNoSchedule" };

interface Pod {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string; nodeSelector?: Record<string, string> };
  status: { phase: string; conditions?: { type: string; status: string; reason?: string }[] };
}
const podsIn = async (ns: string, selector = ""): Promise<Pod[]> =>
  (await cluster().admin.get<{ items: Pod[] }>(`/api/v1/namespaces/${ns}/pods${selector ? `?labelSelector=${encodeURIComponent(selector)}` : ""}`)).items;
const isReady = (p: Pod) => p.metadata.deletionTimestamp === undefined && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

describe(`stack ${STACK} on kwok nodes of its node groups`, () => {
  let objs: KubeObject[] = [];
  const nodePool = new Map<string, string>();
  const isGpuDeployment = (o: KubeObject) =>
    o.kind === "Deployment" && (o["spec"] as { template: { spec: { nodeSelector?: Record<string, string> } } }).template.spec.nodeSelector?.["nvidia.com/gpu.present"] === "true";
  const gpuEndpointDeployments = () => objs.filter((o) => isGpuDeployment(o) && o.metadata.namespace!.startsWith("ep-"));

  before(async () => {
    const api = cluster().admin;
    const ev = await evaluated(STACK);
    objs = kubeObjects(ev).map((x) => x.obj as KubeObject).filter((o) => o.apiVersion !== "monitoring.coreos.com/v1");
    const foundations = objs.filter((o) => ["Namespace", "CustomResourceDefinition", "PriorityClass"].includes(o.kind));
    await applyAll(api, foundations);
    await waitEstablished(api, foundations.find((o) => o.kind === "CustomResourceDefinition")!.metadata.name);
    for (const ng of ev.resources.filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")) {
      const inputs = ng.inputs as { labels: Record<string, string>; taints: { key: string; value: string; effect: string }[]; instanceTypes: string[]; scalingConfig: { desiredSize: number } };
      const pool = inputs.labels["serving.autopilot.dev/pool"]!;
      const shape = MACHINES.aws[inputs.instanceTypes[0]!]!;
      const alloc = allocatable(shape);
      const capacity: Record<string, string> = { cpu: String(alloc.cpu), memory: `${alloc.memoryGiB}Gi` };
      if (shape.gpu !== undefined) capacity["nvidia.com/gpu"] = String(shape.gpu.count);
      const count = inputs.scalingConfig.desiredSize + (pool === "cpu" ? 4 : 0);
      for (let i = 1; i <= count; i++) {
        const name = `kwok-${pool}-${i}`;
        nodePool.set(name, pool);
        await api.mustApply(kwokNode(name, inputs.labels, inputs.taints.map((t) => ({ key: t.key, value: t.value, effect: EFFECT[t.effect]! })), capacity));
      }
    }
    assert.ok([...nodePool.values()].includes("gpu"), "the stack has a GPU node group");
  });

  it("warm-pool placeholders hold the GPU node until GPU endpoint pods preempt them", async () => {
    const api = cluster().admin;
    const gpuEndpoints = new Set(gpuEndpointDeployments());
    assert.ok(gpuEndpoints.size >= 1);
    // Everything but the GPU endpoints first: the GPU placeholder takes the GPU node.
    await applyAll(api, objs.filter((o) => !["Namespace", "CustomResourceDefinition", "PriorityClass"].includes(o.kind) && !gpuEndpoints.has(o)));
    const placeholder = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "warm-gpu")!;
    const selector = Object.entries((placeholder["spec"] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(",");
    const held = await eventually(
      async () => (await podsIn("autopilot-system", selector)).find((p) => isReady(p) && nodePool.get(p.spec.nodeName ?? "") === "gpu"),
      120_000,
      "the GPU placeholder Running on a GPU node",
    );
    await applyAll(api, [...gpuEndpoints]);
    for (const d of gpuEndpoints) {
      await eventually(async () => (await podsIn(d.metadata.namespace!)).some(isReady), 120_000, `${d.metadata.namespace}/${d.metadata.name} pod Ready`);
    }
    // The placeholder that held the node was preempted; its replacement cannot fit (it never preempts).
    await eventually(async () => !(await podsIn("autopilot-system", selector)).some((p) => p.metadata.uid === held.metadata.uid), 60_000, "the placeholder pod preempted");
    const events = await api.get<{ items: { reason: string; involvedObject: { uid?: string } }[] }>(`/api/v1/namespaces/autopilot-system/events`);
    assert.ok(events.items.some((e) => e.reason === "Preempted" && e.involvedObject.uid === held.metadata.uid), "a Preempted event for the placeholder");
    const replacement = await eventually(async () => (await podsIn("autopilot-system", selector)).find((p) => p.metadata.deletionTimestamp === undefined), 30_000, "a replacement placeholder");
    await eventually(
      async () => (await podsIn("autopilot-system", selector)).find((p) => p.metadata.uid === replacement.metadata.uid)?.status.conditions?.some((c) => c.type === "PodScheduled" && c.reason === "Unschedulable"),
      60_000,
      "the replacement placeholder Unschedulable",
    );
  });

  it("GPU endpoint pods run only on GPU-pool nodes; CPU endpoint pods never there", async () => {
    const endpointNamespaces = [...new Set(objs.filter((o) => o.kind === "Deployment" && o.metadata.namespace!.startsWith("ep-")).map((o) => o.metadata.namespace!))];
    const gpuVersions = new Set(gpuEndpointDeployments().map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
    let gpuPods = 0;
    let cpuPods = 0;
    for (const ns of endpointNamespaces) {
      await eventually(async () => (await podsIn(ns)).every((p) => p.spec.nodeName !== undefined), 120_000, `every pod in ${ns} scheduled`);
      for (const p of await podsIn(ns)) {
        const version = `${ns}/${p.metadata.labels?.["serving.autopilot.dev/endpoint"]}-${p.metadata.labels?.["serving.autopilot.dev/version"]}`;
        const pool = nodePool.get(p.spec.nodeName!);
        if (gpuVersions.has(version)) {
          assert.equal(pool, "gpu", `${p.metadata.name} on ${p.spec.nodeName}`);
          gpuPods++;
        } else {
          assert.equal(pool, "cpu", `${p.metadata.name} on ${p.spec.nodeName}`);
          cpuPods++;
        }
      }
    }
    assert.ok(gpuPods >= 1 && cpuPods >= 1, `${gpuPods} GPU and ${cpuPods} CPU endpoint pods`);
  });

  it("the rendered PodDisruptionBudget holds while the nodes of an endpoint's pods are drained", async () => {
    const api = cluster().admin;
    const pdb = objs.find((o) => o.kind === "PodDisruptionBudget" && o.metadata.namespace === "ep-fraud-classifier")!;
    const ns = pdb.metadata.namespace!;
    const match = (pdb["spec"] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    const selector = Object.entries(match).map(([k, v]) => `${k}=${v}`).join(",");
    const pods = await eventually(async () => {
      const ready = (await podsIn(ns, selector)).filter(isReady);
      return ready.length >= 2 ? ready : undefined;
    }, 120_000, `two Ready pods behind PDB ${pdb.metadata.name}`);
    const pdbPath = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${pdb.metadata.name}`;
    await eventually(async () => ((await api.get<{ status?: { disruptionsAllowed?: number } }>(pdbPath)).status?.disruptionsAllowed ?? 0) >= 1, 60_000, "PDB status computed");
    // Drain = cordon, then evict through the Eviction API (what `kubectl drain` does).
    const drained = [...new Set(pods.map((p) => p.spec.nodeName!))];
    for (const node of drained) {
      const res = await api.request("PATCH", `/api/v1/nodes/${node}`, { spec: { unschedulable: true } }, "application/strategic-merge-patch+json");
      assert.equal(res.status, 200);
    }
    const evict = (p: Pod) =>
      api.request("POST", `/api/v1/namespaces/${ns}/pods/${p.metadata.name}/eviction`, { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p.metadata.name, namespace: ns } });
    const [first, second] = pods as [Pod, Pod];
    assert.equal((await evict(first)).status, 201);
    const refused = await evict(second);
    assert.equal(refused.status, 429, `second eviction while the first pod's replacement starts: ${JSON.stringify(refused.body)}`);
    assert.match((refused.body as { message: string }).message, /disruption budget/);
    assert.ok((await podsIn(ns, selector)).filter(isReady).length >= 1, "at least one pod stayed Ready");
    // Once the replacement is Ready on an undrained node, the drain goes on.
    await eventually(async () => (await evict(second)).status === 201, 120_000, "the second eviction allowed after the replacement is Ready");
    const after = await eventually(async () => {
      const ready = (await podsIn(ns, selector)).filter(isReady);
      return ready.length >= 2 ? ready : undefined;
    }, 120_000, "two Ready pods again");
    for (const p of after) assert.ok(!drained.includes(p.spec.nodeName!), `${p.metadata.name} on drained ${p.spec.nodeName}`);
  });
});
