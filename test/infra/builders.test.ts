/**
 * Pure builders: warm pool, node pool placement, dashboards, access policies. (The rendered scripts run for real
 * in rendered-download.test.ts and rendered-node-cache.test.ts.)
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gcsPrefixCondition, s3ReadPrefixPolicy } from "../../components/model-cache/access-policy.ts";
import { eksTaints, poolPlacement } from "../../components/node-pool/node-pool-spec.ts";
import { dashboardPanels } from "../../components/observability/dashboard.ts";
import { buildPlaceholderDeployment, buildPriorityClass, placeholderSlot } from "../../components/warm-pool/warm-pool-spec.ts";
import type { Obj } from "./helpers.ts";


describe("warm pool", () => {
  it("placeholders never preempt and are evicted first", () => {
    const pc = buildPriorityClass();
    assert.equal(pc.value, -10);
    assert.equal(pc.preemptionPolicy, "Never");
  });
  it("a GPU placeholder reserves a whole node's GPUs and tolerates the GPU taint", () => {
    const gpu = poolPlacement("gcp", "gpu", "gpu", "a3-highgpu-8g");
    const dep = buildPlaceholderDeployment(gpu, placeholderSlot(gpu, undefined), 2) as Obj;
    const pod = dep.spec.template.spec;
    assert.equal(pod.containers[0].resources.limits["nvidia.com/gpu"], "8");
    assert.deepEqual(pod.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(pod.priorityClassName, "autopilot-warm-placeholder");
  });
  it("a CPU placeholder reserves the largest endpoint pod on the pool", () => {
    const cpu = poolPlacement("aws", "cpu", "cpu", "m7i.2xlarge");
    assert.deepEqual(placeholderSlot(cpu, { cpu: 4, memoryGiB: 6 }), { cpu: "4", memory: "6Gi", gpus: 0 });
  });
});

describe("node pools", () => {
  const cases = [
    { name: "EKS GPU pool", input: poolPlacement("aws", "gpu", "gpu", "g6.12xlarge"), want: { selector: { "serving.autopilot.dev/pool": "gpu", "nvidia.com/gpu.present": "true" }, taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }], gpu: { type: "l4", memoryGiB: 24, perNode: 4 } } },
    { name: "GKE CPU pool", input: poolPlacement("gcp", "cpu", "cpu", "n2-standard-8"), want: { selector: { "serving.autopilot.dev/pool": "cpu" }, taints: [], gpu: undefined } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(c.input.nodeSelector, c.want.selector);
      assert.deepEqual(eksTaints(c.input), c.want.taints);
      assert.deepEqual(c.input.gpu, c.want.gpu);
    });
  }
  it("a GPU machine type in a CPU pool is refused", () => {
    assert.throws(() => poolPlacement("aws", "cpu", "cpu", "p5.48xlarge"), /node pool "cpu": machine type "p5.48xlarge" has GPUs but the pool kind is cpu/);
  });
});

describe("dashboards and access documents", () => {
  it("an endpoint dashboard has QPS, p50/p99, in-flight, queued, replicas, target concurrency and 429 panels", () => {
    assert.deepEqual(dashboardPanels("x").map((p) => p.title), ["QPS", "Latency p50 / p99", "Latency p50 / p99 by model version", "In-flight", "Queued", "Replicas", "Target concurrency", "429s", "Requests over the objective", "Queue wait (mean)", "429s and 5xx by reason"]);
    assert.match(dashboardPanels("x")[3]!.exprs[0]!.expr, /haproxy_backend_current_sessions\{proxy="be_x"\}\) - sum\(haproxy_backend_current_queue/);
    assert.equal(dashboardPanels("x")[6]!.exprs[0]!.expr, 'max(apa_target_concurrency{endpoint="ep-x/x"})');
  });
  it("the S3 policy reads only the endpoint's prefix", () => {
    const doc = JSON.parse(s3ReadPrefixPolicy("arn:aws:s3:::b", "ep/", "arn:aws:kms:k", "eu-west-1")) as { Statement: Obj[] };
    assert.deepEqual(doc.Statement[0]!.Resource, ["arn:aws:s3:::b/ep/*"]);
    assert.ok(doc.Statement.every((s) => !(s.Action as string[]).some((a) => /Put|Delete|\*/.test(a))));
  });
  it("KMS decryption is allowed only through S3 in the bucket's region (kms:ViaService names the regional endpoint)", () => {
    const doc = JSON.parse(s3ReadPrefixPolicy("arn:aws:s3:::b", "ep/", "arn:aws:kms:k", "eu-west-1")) as { Statement: Obj[] };
    assert.deepEqual(doc.Statement.find((s) => s.Sid === "DecryptViaS3")!.Condition, { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } });
  });
  it("the GCS condition names the endpoint's prefix", () => {
    assert.equal(gcsPrefixCondition("b", "ep/").expression, 'resource.name.startsWith("projects/_/buckets/b/objects/ep/")');
  });
});
