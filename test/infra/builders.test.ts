/**
 * Pure builders: the model-fetch script (run for real with /bin/sh against a TEST DOUBLE `aws` command), warm
 * pool, node pool placement, dashboards, access policies.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { downloadScript } from "../../components/endpoint/download-script.ts";
import { gcsPrefixCondition, s3ReadPrefixPolicy } from "../../components/model-cache/access-policy.ts";
import { prepareScript } from "../../components/model-cache/node-cache-spec.ts";
import { eksTaints, poolPlacement } from "../../components/node-pool/node-pool-spec.ts";
import { dashboardPanels } from "../../components/observability/dashboard.ts";
import { buildPlaceholderDeployment, buildPriorityClass, placeholderSlot } from "../../components/warm-pool/warm-pool-spec.ts";
import type { Obj } from "./helpers.ts";

const work = mkdtempSync(path.join(tmpdir(), "infra-builders-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("model fetch script (real /bin/sh, test-double aws CLI)", () => {
  // The test double: `aws configure ...` is a no-op; `aws s3 sync <src> <dst>` writes the model files and their
  // SHA256SUMS into <dst> and appends one line to calls.log.
  const bin = path.join(work, "bin");
  const log = path.join(work, "calls.log");
  const weights = "pretend weights\n";
  const sums = `${createHash("sha256").update(weights).digest("hex")}  model.bin\n`;
  const digest = `sha256:${createHash("sha256").update(sums).digest("hex")}`;
  execFileSync("mkdir", ["-p", bin]);
  writeFileSync(path.join(bin, "aws"), [
    "#!/bin/sh",
    'if [ "$1" = configure ]; then exit 0; fi',
    `echo "$*" >> '${log}'`,
    'for last; do :; done',
    `printf '%s' '${weights}' > "$last/model.bin"`,
    `printf '%s' '${sums}' > "$last/SHA256SUMS"`,
  ].join("\n"));
  chmodSync(path.join(bin, "aws"), 0o755);
  const cache = path.join(work, "cache");
  const run = (d: string) => execFileSync("/bin/sh", ["-c", downloadScript("s3", d, true, cache)], {
    encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MODEL_BUCKET: "models", MODEL_PREFIX: "ep/v1/" },
  });

  it("first pod downloads and verifies; second pod on the node skips the download", () => {
    assert.match(run(digest), /model downloaded to/);
    assert.ok(existsSync(path.join(cache, `sha256-${digest.slice(7)}`, ".complete")));
    assert.match(run(digest), /model cached on this node/);
    assert.equal(readFileSync(log, "utf8").trim().split("\n").length, 1, "aws s3 sync ran once");
    assert.match(readFileSync(log, "utf8"), /^s3 sync --only-show-errors s3:\/\/models\/ep\/v1\/ /);
  });

  it("refuses files whose manifest does not match the version digest", () => {
    assert.throws(() => run(`sha256:${"0".repeat(64)}`));
    assert.ok(!existsSync(path.join(cache, `sha256-${"0".repeat(64)}`)));
    assert.deepEqual(readdirSync(path.join(cache, ".partial")), [], "no partial download left behind");
  });
});

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
    assert.deepEqual(dashboardPanels("x").map((p) => p.title), ["QPS", "Latency p50 / p99", "In-flight", "Queued", "Replicas", "Target concurrency", "429s", "Requests over the objective", "Queue wait (mean)", "429s and 5xx by reason"]);
    assert.match(dashboardPanels("x")[2]!.exprs[0]!.expr, /haproxy_backend_current_sessions\{proxy="be_x"\}\) - sum\(haproxy_backend_current_queue/);
    assert.equal(dashboardPanels("x")[5]!.exprs[0]!.expr, 'max(apa_target_concurrency{endpoint="ep-x/x"})');
  });
  it("the S3 policy reads only the endpoint's prefix", () => {
    const doc = JSON.parse(s3ReadPrefixPolicy("arn:aws:s3:::b", "ep/", "arn:aws:kms:k")) as { Statement: Obj[] };
    assert.deepEqual(doc.Statement[0]!.Resource, ["arn:aws:s3:::b/ep/*"]);
    assert.ok(doc.Statement.every((s) => !(s.Action as string[]).some((a) => /Put|Delete|\*/.test(a))));
  });
  it("the GCS condition names the endpoint's prefix", () => {
    assert.equal(gcsPrefixCondition("b", "ep/").expression, 'resource.name.startsWith("projects/_/buckets/b/objects/ep/")');
  });
  it("the node-cache preparer creates one platform-owned directory per endpoint", () => {
    assert.match(prepareScript(["a", "b"]), /for d in "\/host\/var\/lib\/autopilot\/models\/a" "\/host\/var\/lib\/autopilot\/models\/b"; do mkdir -p "\$d" && chown 1000:1000/);
  });
});
