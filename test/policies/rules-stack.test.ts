/** Per-policy pass/fail tables for the stack policies (7, 9, 11, 12, 13, 14), with exact messages. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { violations } from "./harness.ts";
import { clone, find, goodStack, platform } from "./fixtures.ts";
import type { OfflineResource, PackConfig } from "../../policies/offline/run-pack.ts";

interface Case { name: string; input: () => OfflineResource[]; config?: PackConfig; want: string[] }

function table(policy: string, cases: Case[]) {
  describe(policy, () => {
    for (const c of cases) it(c.name, async () => assert.deepEqual(await violations(policy, c.input(), c.config), c.want));
  });
}
const edit = (cloud: "local" | "aws" | "gcp", f: (rs: OfflineResource[]) => OfflineResource[] | void) => () => {
  const rs = clone(goodStack(cloud));
  return f(rs) ?? rs;
};

table("endpoint-default-deny-ingress", [
  { name: "pass: compliant stack", input: () => goodStack("local"), want: [] },
  { name: "fail: base policy selects only some pods", input: edit("local", (rs) => { find(rs, "iris-netpol").props.spec.podSelector = { matchLabels: { a: "b" } }; }),
    want: ["endpoint namespace \"ep-iris\" has no default-deny ingress NetworkPolicy (podSelector: {}, policyTypes: [Ingress])."] },
  { name: "fail: a second, wider policy (NetworkPolicies add up)", input: edit("local", (rs) => [...rs, {
    type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: "extra",
    props: { metadata: { name: "allow-all", namespace: "ep-llama" }, spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}, { from: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] } },
  }]), want: [
    "NetworkPolicy ep-llama/allow-all: ingress[0] has no \"from\", which admits every source.",
    "NetworkPolicy ep-llama/allow-all: ingress[1].from[0] is an ipBlock; only the gateway pods may be admitted.",
  ] },
  { name: "fail: gateway peer without the namespace selector", input: edit("local", (rs) => {
    find(rs, "iris-netpol").props.spec.ingress = [{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "gateway" } } }] }];
  }), want: ["NetworkPolicy ep-iris/default-deny-except-gateway: ingress[0].from[0] {\"podSelector\":{\"matchLabels\":{\"app.kubernetes.io/component\":\"gateway\"}}} admits pods other than the gateway."] },
  { name: "pass: no endpoints, nothing to check", input: () => platform(), want: [] },
]);

table("model-bucket-private-encrypted-versioned", [
  { name: "pass: S3 with all companions", input: () => goodStack("aws"), want: [] },
  { name: "pass: GCS private", input: () => goodStack("gcp"), want: [] },
  { name: "fail: bare S3 bucket", input: () => [{ type: "aws:s3/bucketV2:BucketV2", name: "b", props: { bucket: "x" } }],
    want: ["S3 bucket b: no BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets all true; no server-side encryption configuration with sseAlgorithm AES256 or aws:kms or aws:kms:dsse; versioning is not Enabled."] },
  { name: "pass: companions linked by property dependency (as the engine reports them)", input: () => {
    const bucket = { type: "aws:s3/bucket:Bucket", name: "b", urn: "urn:b", props: {} };
    const dep = { bucket: ["urn:b"] };
    return [
      bucket,
      { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name: "p", propertyDependencies: dep, props: { bucket: "b-123", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true } },
      { type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", name: "s", propertyDependencies: dep, props: { bucket: "b-123", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] } },
      { type: "aws:s3/bucketVersioning:BucketVersioning", name: "v", propertyDependencies: dep, props: { bucket: "b-123", versioningConfiguration: { status: "Enabled" } } },
    ];
  }, want: [] },
  { name: "fail: AES256 when customer-managed keys are required", input: edit("aws", (rs) => { find(rs, "models-sse").props.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm = "AES256"; }),
    config: { "model-bucket-private-encrypted-versioned": { requireCustomerManagedKeys: true } },
    want: ["S3 bucket models: no server-side encryption configuration with sseAlgorithm aws:kms or aws:kms:dsse."] },
  { name: "fail: GCS grant to allUsers", input: edit("gcp", (rs) => [...rs, { type: "gcp:storage/bucketIAMMember:BucketIAMMember", name: "pub", props: { bucket: "b", role: "roles/storage.objectViewer", member: "allUsers" } }]),
    want: ["BucketIAMMember pub: grants roles/storage.objectViewer to allUsers (public)."] },
  { name: "fail: bucket policy allowing everyone", input: edit("aws", (rs) => [...rs, { type: "aws:s3/bucketPolicy:BucketPolicy", name: "bp", props: { bucket: "autopilot-models-staging", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::autopilot-models-staging/*" }] }) } }]),
    want: ["BucketPolicy bp: allows Principal \"*\" (public)."] },
  { name: "pass: deny-insecure-transport bucket policy (Deny with Principal *)", input: edit("aws", (rs) => [...rs, { type: "aws:s3/bucketPolicy:BucketPolicy", name: "bp", props: { bucket: "autopilot-models-staging", policy: JSON.stringify({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }) } }]), want: [] },
]);

table("gpu-node-budget", [
  { name: "pass: 4 GPU nodes within the default 8", input: () => goodStack("aws"), want: [] },
  { name: "fail: budget 2 from the environment's config", input: () => goodStack("aws"), config: { "gpu-node-budget": { maxGpuNodes: 2 } },
    want: ["GPU pools can grow to 4 nodes, over the budget of 2: gpu-pool=4 (scalingConfig.maxSize)."] },
  { name: "fail: GKE per-zone max multiplies by zones", input: edit("gcp", (rs) => { find(rs, "gpu-pool").props.nodeLocations = ["a", "b", "c"]; find(rs, "gpu-pool").props.autoscaling.maxNodeCount = 3; }),
    want: ["GPU pools can grow to 9 nodes, over the budget of 8: gpu-pool=9 (autoscaling.maxNodeCount × 3 zone(s))."] },
  { name: "fail: GKE autoscaling without a max", input: edit("gcp", (rs) => { find(rs, "gpu-pool").props.autoscaling = { minNodeCount: 0 }; }),
    want: ["GPU pool gpu-pool has no maximum size (autoscaling without a max); the budget cannot hold."] },
  { name: "pass: CPU pools don't count", input: edit("aws", (rs) => { find(rs, "cpu-pool").props.scalingConfig.maxSize = 500; }), want: [] },
]);

table("endpoint-probes-and-pdb", [
  { name: "pass: compliant stack", input: () => goodStack("local"), want: [] },
  { name: "fail: no probes", input: edit("local", (rs) => { const c = find(rs, "iris-deploy").props.spec.template.spec.containers[0]; delete c.readinessProbe; delete c.startupProbe; }),
    want: ["Deployment ep-iris/iris containers[0] \"server\": no readinessProbe and no startupProbe."] },
  { name: "fail: PDB selects other pods", input: edit("local", (rs) => { find(rs, "llama-pdb").props.spec.selector = { matchLabels: { "serving.autopilot.dev/endpoint": "other" } }; }),
    want: ["Deployment ep-llama/llama: no PodDisruptionBudget in its namespace selects its pods {\"serving.autopilot.dev/endpoint\":\"llama\"}."] },
  { name: "pass: PDB with matchExpressions", input: edit("local", (rs) => { find(rs, "llama-pdb").props.spec.selector = { matchExpressions: [{ key: "serving.autopilot.dev/endpoint", operator: "In", values: ["llama"] }] }; }), want: [] },
]);

table("controller-ha-leader-election", [
  { name: "pass: 2 replicas, lease Role bound to the controller's ServiceAccount", input: () => goodStack("local"), want: [] },
  { name: "fail: leader election switched off", input: edit("local", (rs) => { find(rs, "controller").props.spec.template.spec.containers[0].args = ["--leader-elect=false"]; }),
    want: ["Deployment autopilot-system/apa-controller: leader election is switched off (--leader-elect=false / LEADER_ELECT=false)."] },
  { name: "fail: no lease RBAC", input: edit("local", (rs) => rs.filter((r) => r.name !== "controller-leases")),
    want: ["Deployment autopilot-system/apa-controller: ServiceAccount \"apa-controller\" is not bound to a Role/ClusterRole that may update leases.coordination.k8s.io."] },
  { name: "fail: lease Role bound to another ServiceAccount", input: edit("local", (rs) => { find(rs, "controller-leases-binding").props.subjects[0].name = "someone-else"; }),
    want: ["Deployment autopilot-system/apa-controller: ServiceAccount \"apa-controller\" is not bound to a Role/ClusterRole that may update leases.coordination.k8s.io."] },
  { name: "pass: ClusterRole through a ClusterRoleBinding", input: edit("local", (rs) => [
    ...rs.filter((r) => !r.name.startsWith("controller-leases")),
    { type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", name: "cr", props: { metadata: { name: "apa" }, rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["*"] }] } },
    { type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", name: "crb", props: { metadata: { name: "apa" }, roleRef: { kind: "ClusterRole", name: "apa" }, subjects: [{ kind: "ServiceAccount", name: "apa-controller", namespace: "autopilot-system" }] } },
  ]), want: [] },
  { name: "fail: controller missing from a stack with workloads", input: edit("local", (rs) => rs.filter((r) => r.name !== "controller")),
    want: ["no controller Deployment with pod labels {\"app.kubernetes.io/component\":\"apa-controller\"} in the stack."] },
]);

table("endpoint-scraped", [
  { name: "pass: PodMonitor per endpoint", input: () => goodStack("gcp"), want: [] },
  { name: "fail: PodMonitor without endpoints", input: edit("gcp", (rs) => { find(rs, "llama-podmonitor").props.spec.podMetricsEndpoints = []; }),
    want: ["Deployment ep-llama/llama: no PodMonitor or ServiceMonitor selects its pods {\"serving.autopilot.dev/endpoint\":\"llama\"}."] },
  { name: "pass: MLflow endpoint (no metrics endpoint) covered by the gateway's ServiceMonitor", input: edit("aws", (rs) => rs.filter((r) => r.name !== "iris-podmonitor")), want: [] },
  { name: "fail: MLflow endpoint and the gateway not scraped either", input: edit("aws", (rs) => rs.filter((r) => r.name !== "iris-podmonitor" && r.name !== "gateway-servicemonitor")),
    want: ["Deployment ep-iris/iris: runtime \"mlflow\" exposes no metrics and the gateway, which measures this endpoint's traffic, is not scraped either (no PodMonitor/ServiceMonitor selects the gateway pods in autopilot-gateway)."] },
  { name: "pass: ServiceMonitor through a Service", input: edit("gcp", (rs) => [
    ...rs.filter((r) => r.name !== "iris-podmonitor"),
    { type: "kubernetes:core/v1:Service", name: "iris-svc", props: { metadata: { name: "iris", namespace: "ep-iris", labels: { app: "iris" } }, spec: { selector: { "serving.autopilot.dev/endpoint": "iris" } } } },
    { type: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", name: "iris-sm", props: { metadata: { name: "iris", namespace: "autopilot-monitoring" }, spec: { namespaceSelector: { matchNames: ["ep-iris"] }, selector: { matchLabels: { app: "iris" } }, endpoints: [{ port: "http" }] } } },
  ]), want: [] },
]);

table("node-selector-matches-a-pool", [
  { name: "pass: selectors match the pools' labels", input: () => goodStack("aws"), want: [] },
  { name: "pass: stacks without node pools (existing cluster) are not checked", input: edit("local", (rs) => { find(rs, "iris-deploy").props.spec.template.spec.nodeSelector = { x: "y" }; }), want: [] },
  { name: "pass: implicit node labels are not checked", input: edit("gcp", (rs) => { find(rs, "iris-deploy").props.spec.template.spec.nodeSelector = { "kubernetes.io/os": "linux", "serving.autopilot.dev/pool": "cpu" }; }), want: [] },
  { name: "fail: GPU selector value differs from the pool label", input: edit("aws", (rs) => { find(rs, "llama-deploy").props.spec.template.spec.nodeSelector["nvidia.com/gpu.present"] = "yes"; }),
    want: ["Deployment ep-llama/llama: nodeSelector {\"serving.autopilot.dev/pool\":\"gpu\",\"nvidia.com/gpu.present\":\"yes\"} matches no node pool (cpu-pool {\"serving.autopilot.dev/pool\":\"cpu\"}; gpu-pool {\"serving.autopilot.dev/pool\":\"gpu\",\"nvidia.com/gpu.present\":\"true\"}); it would stay Pending."] },
]);
