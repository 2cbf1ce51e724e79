/** Every compliant example passes the whole pack; each deliberately broken variant trips exactly its policy. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clone, find, goodStack } from "./fixtures.ts";
import { trippedPolicies } from "./harness.ts";
import { definitions } from "../../policies/pack.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

type Cloud = "local" | "aws" | "gcp";
interface Variant { name: string; cloud: Cloud; want: string; breakIt: (rs: OfflineResource[]) => OfflineResource[] | void }

const server = (rs: OfflineResource[], deploy = "llama-deploy") => find(rs, deploy).props.spec.template.spec.containers[0];
const podSpec = (rs: OfflineResource[], deploy = "llama-deploy") => find(rs, deploy).props.spec.template.spec;

export const variants: Variant[] = [
  { name: "concurrency min above max", cloud: "local", want: "endpoint-concurrency-range", breakIt: (rs) => { find(rs, "iris-cr").props.spec.concurrency = { min: 9, max: 4 }; } },
  { name: "concurrency max over the cap", cloud: "aws", want: "endpoint-concurrency-range", breakIt: (rs) => { find(rs, "iris-cr").props.spec.concurrency.max = 5000; } },
  { name: "vLLM without a GPU toleration", cloud: "aws", want: "gpu-runtime-on-gpu-pool", breakIt: (rs) => { podSpec(rs).tolerations = []; } },
  { name: "vLLM without GPU request", cloud: "gcp", want: "gpu-runtime-on-gpu-pool", breakIt: (rs) => {
    const c = server(rs); delete c.resources.requests["nvidia.com/gpu"]; delete c.resources.limits["nvidia.com/gpu"];
  } },
  { name: "CPU endpoint tolerating the GPU taint", cloud: "aws", want: "cpu-workloads-off-gpu-pools", breakIt: (rs) => {
    podSpec(rs, "iris-deploy").tolerations = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];
  } },
  { name: "image tag latest", cloud: "local", want: "images-pinned-and-allowed", breakIt: (rs) => { server(rs, "iris-deploy").image = "ghcr.io/mlflow/mlflow:latest"; } },
  { name: "platform image by tag", cloud: "gcp", want: "images-pinned-and-allowed", breakIt: (rs) => {
    find(rs, "controller").props.spec.template.spec.containers[0].image = "ghcr.io/autopilot-serving/autopilot-serving:0.1.0";
  } },
  { name: "image from an unknown registry", cloud: "aws", want: "images-pinned-and-allowed", breakIt: (rs) => { server(rs).image = "registry.example.com/vllm:v1"; } },
  { name: "no memory limit", cloud: "local", want: "container-resources-set", breakIt: (rs) => { delete server(rs, "iris-deploy").resources.limits.memory; } },
  { name: "GPU limit differs from request", cloud: "aws", want: "container-resources-set", breakIt: (rs) => { server(rs).resources.requests["nvidia.com/gpu"] = "1"; } },
  { name: "privilege escalation allowed", cloud: "gcp", want: "restricted-pod-security", breakIt: (rs) => { server(rs).securityContext = { ...server(rs).securityContext, allowPrivilegeEscalation: true }; } },
  { name: "runs as root", cloud: "local", want: "restricted-pod-security", breakIt: (rs) => { podSpec(rs, "iris-deploy").securityContext = { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } }; } },
  { name: "no NetworkPolicy in an endpoint namespace", cloud: "aws", want: "endpoint-default-deny-ingress", breakIt: (rs) => rs.filter((r) => r.name !== "llama-netpol") },
  { name: "NetworkPolicy admits every namespace", cloud: "gcp", want: "endpoint-default-deny-ingress", breakIt: (rs) => {
    find(rs, "iris-netpol").props.spec.ingress = [{ from: [{ namespaceSelector: {} }] }];
  } },
  { name: "gateway 401 rule that holds for everyone (unless TRUE)", cloud: "local", want: "gateway-requires-auth", breakIt: (rs) => {
    const c = find(rs, "gateway-config").props.data;
    c["haproxy.cfg"] = c["haproxy.cfg"].replace(/unless \{ var\(txn\.bearer\) -m found \}/, "unless TRUE");
  } },
  { name: "gateway config routes before the auth gate", cloud: "aws", want: "gateway-requires-auth", breakIt: (rs) => {
    const c = find(rs, "gateway-config").props.data;
    c["haproxy.cfg"] = c["haproxy.cfg"].replace(/^.*status 401.*$/m, "");
  } },
  { name: "S3 bucket without public access block", cloud: "aws", want: "model-bucket-private-encrypted-versioned", breakIt: (rs) => rs.filter((r) => r.name !== "models-pab") },
  { name: "S3 versioning suspended", cloud: "aws", want: "model-bucket-private-encrypted-versioned", breakIt: (rs) => { find(rs, "models-versioning").props.versioningConfiguration.status = "Suspended"; } },
  { name: "GCS bucket public access not prevented", cloud: "gcp", want: "model-bucket-private-encrypted-versioned", breakIt: (rs) => { find(rs, "models").props.publicAccessPrevention = "inherited"; } },
  { name: "S3 read policy with s3:* on the whole bucket", cloud: "aws", want: "model-access-least-privilege", breakIt: (rs) => {
    find(rs, "iris-model-read").props.policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::autopilot-models-staging/*" }] });
  } },
  { name: "GCS grant without a prefix condition", cloud: "gcp", want: "model-access-least-privilege", breakIt: (rs) => { delete find(rs, "llama-model-read").props.condition; } },
  { name: "GPU pools over the budget", cloud: "aws", want: "gpu-node-budget", breakIt: (rs) => { find(rs, "gpu-pool").props.scalingConfig.maxSize = 40; } },
  { name: "GKE GPU pool over the budget", cloud: "gcp", want: "gpu-node-budget", breakIt: (rs) => { find(rs, "gpu-pool").props.autoscaling.maxNodeCount = 12; } },
  { name: "no startup probe", cloud: "local", want: "endpoint-probes-and-pdb", breakIt: (rs) => { delete server(rs).startupProbe; } },
  { name: "no PodDisruptionBudget", cloud: "gcp", want: "endpoint-probes-and-pdb", breakIt: (rs) => rs.filter((r) => r.name !== "iris-pdb") },
  { name: "controller with one replica", cloud: "aws", want: "controller-ha-leader-election", breakIt: (rs) => { find(rs, "controller").props.spec.replicas = 1; } },
  { name: "controller without lease RBAC binding", cloud: "local", want: "controller-ha-leader-election", breakIt: (rs) => rs.filter((r) => r.name !== "controller-leases-binding") },
  { name: "GPU endpoint selecting a pool that does not exist", cloud: "gcp", want: "node-selector-matches-a-pool", breakIt: (rs) => {
    podSpec(rs).nodeSelector = { "serving.autopilot.dev/pool": "gpu-h100", "nvidia.com/gpu.present": "true" };
  } },
  { name: "CPU endpoint selector typo", cloud: "aws", want: "node-selector-matches-a-pool", breakIt: (rs) => { podSpec(rs, "iris-deploy").nodeSelector = { "serving.autopilot.dev/pool": "cpus" }; } },
  { name: "endpoint without PodMonitor", cloud: "gcp", want: "endpoint-scraped", breakIt: (rs) => rs.filter((r) => r.name !== "llama-podmonitor") },
  { name: "endpoint namespace without a Pod Security enforce label", cloud: "gcp", want: "endpoint-admission-second-line", breakIt: (rs) => {
    delete find(rs, "iris-ns").props.metadata.labels["pod-security.kubernetes.io/enforce"];
  } },
  { name: "an unreviewed helm.sh/v3:Release", cloud: "aws", want: "helm-release-reviewed", breakIt: (rs) => [...rs, {
    type: "kubernetes:helm.sh/v3:Release", name: "extra", props: { name: "extra", namespace: "autopilot-system", chart: "acme/extra", version: "1.0.0" },
  }] },
];

describe("example stacks pass the whole pack", () => {
  for (const cloud of ["local", "aws", "gcp"] as const) {
    it(`hand-made ${cloud} stack: no diagnostics from any of the ${definitions.length} policies`, async () => {
      assert.deepEqual(await trippedPolicies(goodStack(cloud)), []);
    });
  }
});

describe("each broken variant trips exactly its policy", () => {
  for (const v of variants) {
    it(`${v.name} → ${v.want}`, async () => {
      const rs = clone(goodStack(v.cloud));
      const broken = v.breakIt(rs) ?? rs;
      assert.deepEqual(await trippedPolicies(broken), [v.want]);
    });
  }
  it("covers every policy of the pack", () => {
    assert.deepEqual([...new Set(variants.map((v) => v.want))].sort(), definitions.map((d) => d.name).sort());
  });
});
