/**
 * Unknown values (what `pulumi preview` sends for outputs not yet known) never crash a policy and never make
 * it pass silently: the policy either still finds the violation or reports "can't run during preview"
 * (advisory), exactly as the policy server does.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runPolicy, unknown } from "./harness.ts";
import { clone, find, goodStack } from "./fixtures.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

interface Case { policy: string; where: string; cloud: "local" | "aws" | "gcp"; put: (rs: OfflineResource[]) => void }

const server = (rs: OfflineResource[], d = "llama-deploy") => find(rs, d).props.spec.template.spec.containers[0];

const cases: Case[] = [
  { policy: "endpoint-concurrency-range", where: "spec.concurrency", cloud: "local", put: (rs) => { find(rs, "iris-cr").props.spec.concurrency = unknown.unknownObjectValue; } },
  { policy: "endpoint-concurrency-range", where: "spec.concurrency.max", cloud: "local", put: (rs) => { find(rs, "iris-cr").props.spec.concurrency.max = unknown.unknownNumberValue; } },
  { policy: "gpu-runtime-on-gpu-pool", where: "tolerations", cloud: "aws", put: (rs) => { find(rs, "llama-deploy").props.spec.template.spec.tolerations = unknown.unknownArrayValue; } },
  { policy: "cpu-workloads-off-gpu-pools", where: "nodeSelector", cloud: "aws", put: (rs) => { find(rs, "iris-deploy").props.spec.template.spec.nodeSelector = unknown.unknownObjectValue; } },
  { policy: "images-pinned-and-allowed", where: "image", cloud: "gcp", put: (rs) => { server(rs).image = unknown.unknownStringValue; } },
  { policy: "container-resources-set", where: "resources", cloud: "local", put: (rs) => { server(rs).resources = unknown.unknownObjectValue; } },
  { policy: "restricted-pod-security", where: "securityContext.readOnlyRootFilesystem", cloud: "local", put: (rs) => { server(rs).securityContext.readOnlyRootFilesystem = unknown.unknownBooleanValue; } },
  { policy: "endpoint-default-deny-ingress", where: "NetworkPolicy spec", cloud: "local", put: (rs) => { find(rs, "iris-netpol").props.spec = unknown.unknownObjectValue; } },
  { policy: "gateway-requires-auth", where: "haproxy.cfg", cloud: "local", put: (rs) => { find(rs, "gateway-config").props.data["haproxy.cfg"] = unknown.unknownStringValue; } },
  { policy: "model-bucket-private-encrypted-versioned", where: "public access block flag", cloud: "aws", put: (rs) => { find(rs, "models-pab").props.blockPublicPolicy = unknown.unknownBooleanValue; } },
  { policy: "model-bucket-private-encrypted-versioned", where: "GCS publicAccessPrevention", cloud: "gcp", put: (rs) => { find(rs, "models").props.publicAccessPrevention = unknown.unknownStringValue; } },
  { policy: "model-access-least-privilege", where: "policy document", cloud: "aws", put: (rs) => { find(rs, "iris-model-read").props.policy = unknown.unknownStringValue; } },
  { policy: "gpu-node-budget", where: "scalingConfig.maxSize", cloud: "aws", put: (rs) => { find(rs, "gpu-pool").props.scalingConfig.maxSize = unknown.unknownNumberValue; } },
  { policy: "endpoint-probes-and-pdb", where: "PDB selector", cloud: "local", put: (rs) => { find(rs, "iris-pdb").props.spec.selector = unknown.unknownObjectValue; } },
  { policy: "controller-ha-leader-election", where: "spec.replicas", cloud: "local", put: (rs) => { find(rs, "controller").props.spec.replicas = unknown.unknownNumberValue; } },
  { policy: "endpoint-scraped", where: "PodMonitor selector", cloud: "gcp", put: (rs) => { find(rs, "llama-podmonitor").props.spec.selector = unknown.unknownObjectValue; } },
  { policy: "node-selector-matches-a-pool", where: "pool labels", cloud: "aws", put: (rs) => { find(rs, "gpu-pool").props.labels = unknown.unknownObjectValue; } },
  { policy: "restricted-pod-security", where: "custom resource's pod template", cloud: "local", put: (rs) => {
    rs.push({ type: "kubernetes:argoproj.io/v1alpha1:Rollout", name: "ro", props: { metadata: { name: "ro", namespace: "ep-iris" }, spec: { template: unknown.unknownObjectValue } } });
  } },
  { policy: "endpoint-admission-second-line", where: "Namespace labels", cloud: "local", put: (rs) => { find(rs, "iris-ns").props.metadata.labels = unknown.unknownObjectValue; } },
  { policy: "helm-release-reviewed", where: "Release version", cloud: "local", put: (rs) => {
    rs.push({ type: "kubernetes:helm.sh/v3:Release", name: "rel", props: { name: "rel", namespace: "x", chart: "acme/x", version: unknown.unknownStringValue } });
  } },
];

describe("unknown values during preview", () => {
  for (const c of cases) {
    it(`${c.policy}: unknown ${c.where} → can't-run (advisory) or a violation, never a silent pass`, async () => {
      const rs = clone(goodStack(c.cloud));
      c.put(rs);
      const d = await runPolicy(c.policy, rs);
      assert.ok(d.length > 0, "the policy passed although a value it checks is unknown");
      for (const x of d.filter((x) => x.cannotRun)) {
        assert.equal(x.enforcementLevel, "advisory");
        assert.match(x.message, new RegExp(`^can't run policy '${c.policy}' during preview: .* value at \\..* can't be known during preview$`));
      }
    });
  }

  it("an unknown value in a field the policy does not read changes nothing", async () => {
    const rs = clone(goodStack("local"));
    find(rs, "iris-deploy").props.metadata.labels = unknown.unknownObjectValue;
    assert.deepEqual(await runPolicy("container-resources-set", rs), []);
  });
});
