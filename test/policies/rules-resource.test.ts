/** Per-policy pass/fail tables for the resource policies (1–6, 8, 10), with exact messages. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { violations } from "./harness.ts";
import { DIGEST, resources, restrictedContainer, restrictedPod } from "./fixtures.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";
import type { PackConfig } from "../../policies/offline/run-pack.ts";

interface Case { name: string; input: OfflineResource[]; config?: PackConfig; want: string[] }

function table(policy: string, cases: Case[]) {
  describe(policy, () => {
    for (const c of cases) {
      it(c.name, async () => assert.deepEqual(await violations(policy, c.input, c.config), c.want));
    }
  });
}

const se = (spec: Record<string, unknown>): OfflineResource[] => [{
  type: "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint", name: "se",
  props: { apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", metadata: { name: "iris", namespace: "ep-iris" }, spec },
}];

/** A Deployment with one pod spec; `pod` overrides pod-spec fields, `c` container fields. */
function deploy(c: Record<string, unknown> = {}, pod: Record<string, unknown> = {}, meta: Record<string, unknown> = {}, type = "kubernetes:apps/v1:Deployment"): OfflineResource[] {
  return [{
    type, name: "d",
    props: {
      metadata: { name: "m", namespace: "ep-m" },
      spec: {
        template: {
          metadata: meta,
          spec: {
            securityContext: restrictedPod,
            containers: [{ name: "server", image: "ghcr.io/mlflow/mlflow:v3.4.0", resources: resources("1", "1Gi"), securityContext: restrictedContainer, ...c }],
            ...pod,
          },
        },
      },
    },
  }];
}
const gpuPlacement = { nodeSelector: { "nvidia.com/gpu.present": "true" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] };
const vllm = { annotations: { "serving.autopilot.dev/runtime": "vllm" } };

table("endpoint-concurrency-range", [
  { name: "pass: 1 ≤ min ≤ max ≤ cap, provisioned reachable", input: se({ concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 }, provisionedConcurrency: 32 }), want: [] },
  { name: "fail: min 0", input: se({ concurrency: { min: 0, max: 8 } }), want: ["ServingEndpoint ep-iris/iris: spec.concurrency.min is 0; it must be ≥ 1 (a pod must accept at least one request)."] },
  { name: "fail: min > max", input: se({ concurrency: { min: 9, max: 8 } }), want: ["ServingEndpoint ep-iris/iris: spec.concurrency.min (9) is greater than spec.concurrency.max (8)."] },
  { name: "fail: max over the default cap 1024", input: se({ concurrency: { min: 1, max: 2000 } }), want: ["ServingEndpoint ep-iris/iris: spec.concurrency.max is 2000; the platform cap is 1024."] },
  { name: "pass: cap raised by config", input: se({ concurrency: { min: 1, max: 2000 } }), config: { "endpoint-concurrency-range": { maxConcurrencyCap: 4096 } }, want: [] },
  { name: "fail: cap lowered by config", input: se({ concurrency: { min: 1, max: 64 } }), config: { "endpoint-concurrency-range": { maxConcurrencyCap: 32 } }, want: ["ServingEndpoint ep-iris/iris: spec.concurrency.max is 64; the platform cap is 32."] },
  { name: "fail: provisioned beyond max capacity", input: se({ concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 4 }, provisionedConcurrency: 33 }),
    want: ["ServingEndpoint ep-iris/iris: spec.provisionedConcurrency (33) exceeds what the endpoint can ever serve: concurrency.max × replicas.max = 8 × 4 = 32."] },
  { name: "fail: provisioned with scale-to-zero", input: se({ concurrency: { min: 1, max: 8 }, replicas: { min: 0, max: 4 }, scaleToZero: true, provisionedConcurrency: 2 }),
    want: ["ServingEndpoint ep-iris/iris: spec.provisionedConcurrency is 2 with scaleToZero; provisioned capacity needs scaleToZero off."] },
  { name: "fail: concurrency missing", input: se({}), want: [
    "ServingEndpoint ep-iris/iris: spec.concurrency.min is missing; it must be an integer ≥ 1.",
    "ServingEndpoint ep-iris/iris: spec.concurrency.max is missing; it must be an integer.",
  ] },
  { name: "skip: other resource types", input: deploy(), want: [] },
]);

table("gpu-runtime-on-gpu-pool", [
  { name: "pass: vLLM with GPU limit, selector and toleration", input: deploy({ resources: resources("8", "64Gi", 2) }, gpuPlacement, vllm), want: [] },
  { name: "pass: CPU workload is not its business", input: deploy(), want: [] },
  { name: "fail: vLLM with nothing", input: deploy({}, {}, vllm), want: [
    "Deployment ep-m/m (GPU workload: runtime \"vllm\"): no container requests nvidia.com/gpu; the pod would run without a GPU.",
    "Deployment ep-m/m (GPU workload: runtime \"vllm\"): no toleration for the GPU pool taint \"nvidia.com/gpu\" (NoSchedule); the pod would stay Pending.",
    "Deployment ep-m/m (GPU workload: runtime \"vllm\"): nodeSelector {} selects no GPU pool; expected one of the labels nvidia.com/gpu.present, cloud.google.com/gke-accelerator.",
  ] },
  { name: "fail: GPU request but CPU pool selector", input: deploy({ resources: resources("8", "64Gi", 1) }, { nodeSelector: { "serving.autopilot.dev/pool": "cpu" }, tolerations: gpuPlacement.tolerations }), want: [
    "Deployment ep-m/m (GPU workload: a GPU request): nodeSelector {\"serving.autopilot.dev/pool\":\"cpu\"} selects no GPU pool; expected one of the labels nvidia.com/gpu.present, cloud.google.com/gke-accelerator.",
  ] },
  { name: "pass: GKE accelerator label via required node affinity", input: deploy({ resources: resources("8", "64Gi", 1) }, {
    tolerations: gpuPlacement.tolerations,
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "cloud.google.com/gke-accelerator", operator: "In", values: ["nvidia-l4"] }] }] } } },
  }), want: [] },
  { name: "pass: triton on CPU is a CPU workload", input: deploy({}, {}, { annotations: { "serving.autopilot.dev/runtime": "triton" } }), want: [] },
]);

table("cpu-workloads-off-gpu-pools", [
  { name: "pass: CPU workload on the CPU pool", input: deploy({}, { nodeSelector: { "serving.autopilot.dev/pool": "cpu" } }), want: [] },
  { name: "fail: CPU workload selecting GPU nodes", input: deploy({}, { nodeSelector: { "nvidia.com/gpu.present": "true" } }),
    want: ["Deployment ep-m/m (CPU-only: no GPU request): nodeSelector pins it to a GPU pool via nvidia.com/gpu.present."] },
  { name: "fail: a tolerate-everything toleration", input: deploy({}, { tolerations: [{ operator: "Exists" }] }),
    want: ["Deployment ep-m/m (CPU-only: no GPU request): tolerates the GPU taint \"nvidia.com/gpu\", so it can be scheduled onto GPU nodes."] },
  { name: "pass: DaemonSets (device plugin, DCGM exporter) are exempt", input: deploy({}, gpuPlacement, {}, "kubernetes:apps/v1:DaemonSet"), want: [] },
]);

table("images-pinned-and-allowed", [
  { name: "pass: tag + digest from docker.io", input: deploy({ image: `docker.io/vllm/vllm-openai:v0.11.0@${DIGEST}` }), want: [] },
  { name: "pass: version tag from nvcr.io", input: deploy({ image: "nvcr.io/nvidia/tritonserver:25.09-py3" }), want: [] },
  { name: "fail: no tag", input: deploy({ image: "ghcr.io/mlflow/mlflow" }), want: ["Deployment ep-m/m containers[0] \"server\": image \"ghcr.io/mlflow/mlflow\" is not pinned (no tag)."] },
  { name: "fail: latest", input: deploy({ image: "python:latest" }), want: ["Deployment ep-m/m containers[0] \"server\": image \"python:latest\" is not pinned (tag latest)."] },
  { name: "fail: malformed digest", input: deploy({ image: "ghcr.io/a/b@sha256:abc" }), want: ["Deployment ep-m/m containers[0] \"server\": image \"ghcr.io/a/b@sha256:abc\" has a malformed digest; expected sha256:<64 hex>."] },
  { name: "fail: platform image by tag (init container)", input: deploy({}, { initContainers: [{ name: "x", image: "ghcr.io/acme/autopilot-serving:0.1.0", resources: resources("1", "1Gi"), securityContext: restrictedContainer }] }),
    want: ["Deployment ep-m/m initContainers[0] \"x\": platform image \"ghcr.io/acme/autopilot-serving:0.1.0\" must be pinned by digest (@sha256:…), not by tag."] },
  { name: "fail: registry not allowed", input: deploy({ image: "evil.example.com/x:1" }),
    config: { "images-pinned-and-allowed": { allowedRegistries: ["ghcr.io"] } },
    want: ["Deployment ep-m/m containers[0] \"server\": registry \"evil.example.com\" of image \"evil.example.com/x:1\" is not in allowedRegistries (ghcr.io)."] },
  { name: "pass: ECR glob", input: deploy({ image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/autopilot-serving@${DIGEST}` }), want: [] },
]);

table("container-resources-set", [
  { name: "pass: requests = limits", input: deploy(), want: [] },
  { name: "fail: nothing set", input: deploy({ resources: {} }), want: ["Deployment ep-m/m containers[0] \"server\": resources requests.cpu, requests.memory, limits.cpu, limits.memory not set."] },
  { name: "fail: GPU request without limit", input: deploy({ resources: { requests: { cpu: "1", memory: "1Gi", "nvidia.com/gpu": "1" }, limits: { cpu: "1", memory: "1Gi" } } }),
    want: ["Deployment ep-m/m containers[0] \"server\": requests nvidia.com/gpu=1 without a limit; GPUs are set through limits."] },
  { name: "pass: numeric quantities", input: deploy({ resources: { requests: { cpu: 1, memory: "1Gi" }, limits: { cpu: 1, memory: "1Gi" } } }), want: [] },
]);

table("restricted-pod-security", [
  { name: "pass: restricted", input: deploy(), want: [] },
  { name: "fail: empty security contexts", input: deploy({ securityContext: {} }, { securityContext: {} }), want: [
    "Deployment ep-m/m containers[0] \"server\": runAsNonRoot is not true; allowPrivilegeEscalation is not false; capabilities.drop does not include ALL; seccompProfile.type is unset, not RuntimeDefault; readOnlyRootFilesystem is not true.",
  ] },
  { name: "fail: privileged with SYS_ADMIN and hostNetwork", input: deploy({ securityContext: { ...restrictedContainer, privileged: true, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } } }, { hostNetwork: true }), want: [
    "Deployment ep-m/m containers[0] \"server\": privileged is true; capabilities.add has SYS_ADMIN.",
    "Deployment ep-m/m: hostNetwork is true.",
  ] },
  { name: "pass: writable root allowed by annotation for that container", input: deploy({ securityContext: { ...restrictedContainer, readOnlyRootFilesystem: false } }, {}, { annotations: { "policies.autopilot.dev/writable-root-filesystem": "server" } }), want: [] },
  { name: "pass: kube-system is exempt", input: [{ ...deploy({ securityContext: {} })[0]!, props: { metadata: { namespace: "kube-system" }, spec: { template: { spec: { containers: [{ name: "x" }] } } } } }], want: [] },
  { name: "pass: the DCGM exporter DaemonSet is exempt (needs host access)", input: [{ type: "kubernetes:apps/v1:DaemonSet", name: "x", props: { metadata: { name: "gpu-dcgm-dcgm-exporter", namespace: "autopilot-gpu-system" }, spec: { template: { spec: { containers: [{ name: "x", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }] } } } } }], want: [] },
  { name: "fail: exemptions are configurable (none)", input: [{ type: "kubernetes:apps/v1:DaemonSet", name: "x", props: { metadata: { name: "gpu-dcgm-exporter", namespace: "autopilot-system" }, spec: { template: { spec: { securityContext: restrictedPod, containers: [{ name: "x", securityContext: { ...restrictedContainer, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } } }] } } } } }],
    config: { "restricted-pod-security": { exemptWorkloads: [] } },
    want: ["DaemonSet autopilot-system/gpu-dcgm-exporter containers[0] \"x\": capabilities.add has SYS_ADMIN."] },
]);

const cfg = (frontend: string): OfflineResource[] => [{ type: "kubernetes:core/v1:ConfigMap", name: "gw-config", props: { metadata: { name: "haproxy", namespace: "autopilot-gateway" }, data: { "haproxy.cfg": `global\n    maxconn 1000\n\n${frontend}\nbackend be_iris\n    server s1 127.0.0.1:1\n` } } }];
const GATE = "    http-request set-var(txn.bearer) http_auth_bearer\n    http-request return status 401 content-type application/json string '{}' unless { var(txn.bearer) -m found }\n";
table("gateway-requires-auth", [
  { name: "skip: ServingEndpoint (it has no authentication fields; the gateway config is checked)", input: se({ concurrency: { min: 1, max: 2 }, auth: { anonymous: true } }), want: [] },
  { name: "pass: haproxy.cfg rejects missing credentials before routing", input: cfg(`frontend fe_public\n    bind :8080\n${GATE}    use_backend be_%[var(txn.ep)]\n`), want: [] },
  { name: "pass: metrics frontend without backends needs no auth", input: cfg("frontend fe_metrics\n    bind :9101\n    http-request use-service prometheus-exporter if { path /metrics }\n"), want: [] },
  { name: "fail: routes before the auth gate", input: cfg(`frontend fe_public\n    bind :8080\n    use_backend be_iris if { path_beg /serving-endpoints/iris }\n${GATE}`),
    want: ["ConfigMap gw-config haproxy.cfg: frontend fe_public routes to backends without first rejecting requests that carry no credentials (no \"http-request return status 401 … unless <credential>\" before \"use_backend be_iris if { path_beg /serving-endpoints/iris }\")."] },
  { name: "fail: no auth gate at all (base64 Secret)", input: [{ type: "kubernetes:core/v1:Secret", name: "gw", props: { data: { "haproxy.cfg": Buffer.from("frontend fe\n    default_backend be_x\n").toString("base64") } } }],
    want: ["Secret gw haproxy.cfg: frontend fe routes to backends without first rejecting requests that carry no credentials (no \"http-request return status 401 … unless <credential>\" before \"default_backend be_x\")."] },
]);

const iamPolicy = (statements: unknown[]): OfflineResource[] => [{ type: "aws:iam/policy:Policy", name: "iris-read", props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) } }];
table("model-access-least-privilege", [
  { name: "pass: GetObject on the prefix, ListBucket with an s3:prefix condition, kms:Decrypt ignored", input: iamPolicy([
    { Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: ["arn:aws:s3:::models/iris/*"] },
    { Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::models"], Condition: { StringLike: { "s3:prefix": ["iris/*"] } } },
    { Effect: "Allow", Action: ["kms:Decrypt"], Resource: ["arn:aws:kms:eu-west-1:1:key/k"] },
  ]), want: [] },
  { name: "fail: PutObject", input: iamPolicy([{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::models/iris/*" }]),
    want: ["Policy iris-read Statement[0]: s3:PutObject is not read-only (allowed: s3:GetObject, s3:GetObjectVersion, s3:ListBucket, s3:GetBucketLocation)."] },
  { name: "fail: Action * on Resource *", input: iamPolicy([{ Effect: "Allow", Action: "*", Resource: "*" }]),
    want: ["Policy iris-read Statement[0]: wildcard action *.", "Policy iris-read Statement[0]: Resource \"*\" is a wildcard over every resource."] },
  { name: "fail: ListBucket without condition", input: iamPolicy([{ Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::models" }]),
    want: ["Policy iris-read Statement[0]: Resource \"arn:aws:s3:::models\" lists the whole bucket; add a Condition StringLike s3:prefix \"<model prefix>/*\"."] },
  { name: "fail: not JSON", input: [{ type: "aws:iam/rolePolicy:RolePolicy", name: "p", props: { policy: "{" } }], want: ["RolePolicy p: policy is not a valid IAM policy document."] },
  { name: "pass: GCS viewer with prefix condition", input: [{ type: "gcp:storage/bucketIAMMember:BucketIAMMember", name: "m", props: { role: "roles/storage.objectViewer", member: "principal://x", condition: { expression: "resource.name.startsWith(\"projects/_/buckets/b/objects/iris/\")" } } }], want: [] },
  { name: "pass: the payload-log writer, PutObject on payload-logs/ only (kms:GenerateDataKey ignored)", input: iamPolicy([
    { Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::models/payload-logs/*"] },
    { Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: ["arn:aws:kms:eu-west-1:1:key/k"] },
  ]), want: [] },
  { name: "fail: PutObject on the whole bucket", input: iamPolicy([{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::models/*" }]),
    want: ["Policy iris-read Statement[0]: s3:PutObject is not read-only (allowed: s3:GetObject, s3:GetObjectVersion, s3:ListBucket, s3:GetBucketLocation).", "Policy iris-read Statement[0]: Resource \"arn:aws:s3:::models/*\" covers the whole bucket instead of one model prefix."] },
  { name: "fail: the writer also reads the payload logs", input: iamPolicy([{ Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: "arn:aws:s3:::models/payload-logs/*" }]),
    want: ["Policy iris-read Statement[0]: s3:PutObject, s3:DeleteObject is not read-only (allowed: s3:GetObject, s3:GetObjectVersion, s3:ListBucket, s3:GetBucketLocation)."] },
  { name: "fail: PutObject on a look-alike prefix", input: iamPolicy([{ Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::models/payload-logs*" }]),
    want: ["Policy iris-read Statement[0]: s3:PutObject is not read-only (allowed: s3:GetObject, s3:GetObjectVersion, s3:ListBucket, s3:GetBucketLocation)."] },
  { name: "pass: GCS objectCreator with the payload-log condition", input: [{ type: "gcp:storage/bucketIAMMember:BucketIAMMember", name: "w", props: { role: "roles/storage.objectCreator", member: "principal://x", condition: { expression: "resource.name.startsWith(\"projects/_/buckets/b/objects/payload-logs/\")" } } }], want: [] },
  { name: "fail: GCS objectCreator on a model prefix", input: [{ type: "gcp:storage/bucketIAMMember:BucketIAMMember", name: "w", props: { role: "roles/storage.objectCreator", member: "principal://x", condition: { expression: "resource.name.startsWith(\"projects/_/buckets/b/objects/iris/\")" } } }],
    want: ["BucketIAMMember w: role \"roles/storage.objectCreator\" creates objects; allowed only with the condition resource.name.startsWith(\"projects/_/buckets/<bucket>/objects/payload-logs/\") (the payload-log writer)."] },
  { name: "fail: GCS admin", input: [{ type: "gcp:storage/bucketIAMMember:BucketIAMMember", name: "m", props: { role: "roles/storage.admin", member: "principal://x", condition: { expression: "resource.name.startsWith(\"projects/_/buckets/b/objects/iris/\")" } } }],
    want: ["BucketIAMMember m: role \"roles/storage.admin\" is not read-only (allowed: roles/storage.objectViewer; roles/storage.objectCreator on the payload-log prefix only)."] },
]);
