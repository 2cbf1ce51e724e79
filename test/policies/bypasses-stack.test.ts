/**
 * Ways around the budget, data-access and disruption policies, each run through the real registered policies on
 * crafted resources shaped like the providers' inputs: Karpenter NodePools, GPU types set only in a launch
 * template, per-zone GKE maxima on regional clusters; AWS managed policies, inline Role policies and
 * project-level storage roles; a PodDisruptionBudget that allows every pod to go.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { violations } from "./harness.ts";
import { clone, find, goodStack } from "./fixtures.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

const budget = (rs: OfflineResource[], maxGpuNodes = 8) => violations("gpu-node-budget", rs, { "gpu-node-budget": { maxGpuNodes } });
const nodePool = (spec: Record<string, unknown>): OfflineResource => ({
  type: "kubernetes:karpenter.sh/v1:NodePool", name: "karpenter-gpu", props: { apiVersion: "karpenter.sh/v1", kind: "NodePool", metadata: { name: "gpu" }, spec },
});
const gpuRequirements = [{ key: "karpenter.k8s.aws/instance-family", operator: "In", values: ["g6e"] }];

describe("gpu-node-budget: Karpenter NodePools", () => {
  it("a GPU NodePool's GPU limit counts against the budget", async () => {
    assert.deepEqual(await budget([nodePool({ template: { spec: { requirements: gpuRequirements } }, limits: { "nvidia.com/gpu": "24" } })]),
      ["GPU pools can grow to 24 nodes, over the budget of 8: karpenter-gpu=24 (Karpenter spec.limits[\"nvidia.com/gpu\"])."]);
  });
  it("a NodePool that does not rule GPUs out and has no GPU limit is unbounded", async () => {
    assert.deepEqual(await budget([nodePool({ template: { spec: { requirements: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }] } }, limits: { cpu: "1000" } })]),
      ["GPU pool karpenter-gpu has no maximum size (Karpenter NodePool without spec.limits[\"nvidia.com/gpu\"]); the budget cannot hold."]);
  });
  it("a CPU-only NodePool (instance categories c, m, r) does not count", async () => {
    assert.deepEqual(await budget([nodePool({ template: { spec: { requirements: [{ key: "karpenter.k8s.aws/instance-category", operator: "In", values: ["c", "m", "r"] }] } } })]), []);
  });
  it("a GPU NodePool within the budget passes", async () => {
    assert.deepEqual(await budget([nodePool({ template: { spec: { requirements: gpuRequirements } }, limits: { "nvidia.com/gpu": 4 } })]), []);
  });
});

describe("gpu-node-budget: GPU instance types only in a launch template", () => {
  const template: OfflineResource = { type: "aws:ec2/launchTemplate:LaunchTemplate", name: "gpu-lt", urn: "urn:lt", id: "lt-0abc", props: { name: "gpu-lt", instanceType: "p5.48xlarge" } };
  const ng = (launchTemplate: Record<string, unknown>, extra: Partial<OfflineResource> = {}): OfflineResource => ({
    type: "aws:eks/nodeGroup:NodeGroup", name: "sneaky", props: { amiType: "AL2023_x86_64_STANDARD", scalingConfig: { minSize: 0, maxSize: 20, desiredSize: 0 }, launchTemplate }, ...extra,
  });
  it("matched by launch template id", async () => {
    assert.deepEqual(await budget([template, ng({ id: "lt-0abc", version: "1" })]), ["GPU pools can grow to 20 nodes, over the budget of 8: sneaky=20 (scalingConfig.maxSize)."]);
  });
  it("matched by the engine's property dependency", async () => {
    assert.deepEqual(await budget([template, ng({ id: "lt-unknown-yet", version: "1" }, { propertyDependencies: { launchTemplate: ["urn:lt"] } })]),
      ["GPU pools can grow to 20 nodes, over the budget of 8: sneaky=20 (scalingConfig.maxSize)."]);
  });
  it("a launch template with a CPU instance type does not count", async () => {
    assert.deepEqual(await budget([{ ...template, props: { name: "gpu-lt", instanceType: "m7i.2xlarge" } }, ng({ name: "gpu-lt" })]), []);
  });
});

describe("gpu-node-budget: per-zone maxima on regional GKE clusters", () => {
  const cluster: OfflineResource = { type: "gcp:container/cluster:Cluster", name: "gke", urn: "urn:gke", props: { name: "prod", location: "us-central1" } };
  const pool = (extra: Record<string, unknown>): OfflineResource => ({
    type: "gcp:container/nodePool:NodePool", name: "gpu", propertyDependencies: { cluster: ["urn:gke"] },
    props: { cluster: "prod", nodeConfig: { guestAccelerators: [{ type: "nvidia-l4", count: 1 }] }, autoscaling: { minNodeCount: 0, maxNodeCount: 4 }, ...extra },
  });
  it("no nodeLocations on a regional cluster: GKE's three zones", async () => {
    assert.deepEqual(await budget([cluster, pool({ location: "us-central1" })]),
      ["GPU pools can grow to 12 nodes, over the budget of 8: gpu=12 (autoscaling.maxNodeCount × 3 zone(s) (regional location us-central1: GKE's default zones))."]);
  });
  it("the cluster's nodeLocations when the pool names none", async () => {
    assert.deepEqual(await budget([{ ...cluster, props: { ...cluster.props, nodeLocations: ["us-central1-a", "us-central1-b"] } }, pool({})], 7),
      ["GPU pools can grow to 8 nodes, over the budget of 7: gpu=8 (autoscaling.maxNodeCount × 2 zone(s) (the cluster's nodeLocations))."]);
  });
  it("a zonal cluster counts one zone", async () => {
    assert.deepEqual(await budget([{ ...cluster, props: { name: "prod", location: "us-central1-a" } }, pool({})]), []);
  });
});

describe("model-access-least-privilege: grants that reach every bucket", () => {
  const run = (rs: OfflineResource[]) => violations("model-access-least-privilege", rs);
  it("RolePolicyAttachment of AmazonS3FullAccess", async () => {
    assert.deepEqual(await run([{ type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "iris-s3", props: { role: "iris-model-reader", policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" } }]),
      ["RolePolicyAttachment iris-s3: attaches the AWS managed policy AmazonS3FullAccess, which reaches every bucket (the model store included)."]);
  });
  it("a Role's managedPolicyArns and an inline s3:* policy", async () => {
    assert.deepEqual(await run([{ type: "aws:iam/role:Role", name: "reader", props: {
      assumeRolePolicy: "{}", managedPolicyArns: ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
      inlinePolicies: [{ name: "models", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::models/iris/*" }] }) }],
    } }]), [
      "Role reader: attaches the AWS managed policy ReadOnlyAccess, which reaches every bucket (the model store included).",
      "Role reader inlinePolicies[0] \"models\" Statement[0]: wildcard action s3:*.",
    ]);
  });
  it("an inline UserPolicy with s3:*", async () => {
    assert.deepEqual(await run([{ type: "aws:iam/userPolicy:UserPolicy", name: "u", props: { user: "ci", policy: { Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["arn:aws:s3:::models/*"] }] } } }]), [
      "UserPolicy u Statement[0]: wildcard action s3:*.",
      "UserPolicy u Statement[0]: Resource \"arn:aws:s3:::models/*\" covers the whole bucket instead of one model prefix.",
    ]);
  });
  it("project-level roles/storage.admin (member, and inside an IAMPolicy)", async () => {
    assert.deepEqual(await run([
      { type: "gcp:projects/iAMMember:IAMMember", name: "sa-storage", props: { project: "p", role: "roles/storage.admin", member: "serviceAccount:iris@p.iam.gserviceaccount.com" } },
      { type: "gcp:projects/iAMPolicy:IAMPolicy", name: "all", props: { project: "p", policyData: JSON.stringify({ bindings: [{ role: "roles/logging.logWriter", members: ["x"] }, { role: "roles/editor", members: ["y"] }] }) } },
    ]), [
      "IAMMember sa-storage: grants roles/storage.admin on the whole project, which reaches every bucket (the model store included); grant roles/storage.objectViewer on the model bucket with a prefix condition instead.",
      "IAMPolicy all bindings[1]: grants roles/editor on the whole project, which reaches every bucket (the model store included); grant roles/storage.objectViewer on the model bucket with a prefix condition instead.",
    ]);
  });
  it("the platform's own attachments and project roles pass (EKS node policies, logging/monitoring/registry)", async () => {
    assert.deepEqual(await run([
      { type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment", name: "w", props: { role: "n", policyArn: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy" } },
      { type: "gcp:projects/iAMMember:IAMMember", name: "m", props: { project: "p", role: "roles/monitoring.viewer", member: "serviceAccount:n@p.iam.gserviceaccount.com" } },
    ]), []);
  });
});

describe("endpoint-probes-and-pdb: a PDB that protects nothing", () => {
  const withPdb = (spec: Record<string, unknown>) => {
    const rs = clone(goodStack("local"));
    find(rs, "iris-pdb").props.spec = { ...spec, selector: find(rs, "iris-pdb").props.spec.selector };
    return rs;
  };
  it("maxUnavailable 100% is not coverage", async () => {
    assert.deepEqual(await violations("endpoint-probes-and-pdb", withPdb({ maxUnavailable: "100%" })),
      ["Deployment ep-iris/iris: the PodDisruptionBudgets that select its pods protect none of them: PodDisruptionBudget ep-iris/iris allows maxUnavailable 100%."]);
  });
  it("minAvailable 0 is not coverage", async () => {
    assert.deepEqual(await violations("endpoint-probes-and-pdb", withPdb({ minAvailable: 0 })),
      ["Deployment ep-iris/iris: the PodDisruptionBudgets that select its pods protect none of them: PodDisruptionBudget ep-iris/iris requires minAvailable 0."]);
  });
  it("maxUnavailable 50% and minAvailable 1 are", async () => {
    assert.deepEqual(await violations("endpoint-probes-and-pdb", withPdb({ maxUnavailable: "50%" })), []);
    assert.deepEqual(await violations("endpoint-probes-and-pdb", withPdb({ minAvailable: 1 })), []);
  });
});

describe("endpoint-admission-second-line: the cluster's own check behind the pack", () => {
  const ns = (enforce?: string): OfflineResource => ({ type: "kubernetes:core/v1:Namespace", name: "ns", props: { metadata: { name: "ep-iris", labels: { "serving.autopilot.dev/endpoint": "iris", ...(enforce !== undefined ? { "pod-security.kubernetes.io/enforce": enforce } : {}) } } } });
  const vap = (failurePolicy = "Fail", matchConditions?: unknown[]): OfflineResource => ({ type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", name: "vap", props: { metadata: { name: "pods" }, spec: { failurePolicy, validations: [{ expression: "true" }], ...(matchConditions !== undefined ? { matchConditions } : {}) } } });
  const binding = (actions: string[], selector: unknown = { matchExpressions: [{ key: "serving.autopilot.dev/endpoint", operator: "Exists" }] }): OfflineResource => ({
    type: "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding", name: "vapb",
    props: { metadata: { name: "pods" }, spec: { policyName: "pods", validationActions: actions, matchResources: { namespaceSelector: selector } } },
  });
  const run = (rs: OfflineResource[]) => violations("endpoint-admission-second-line", rs);
  const UNCOVERED = "endpoint namespace \"ep-iris\" enforces Pod Security \"privileged\", and no ValidatingAdmissionPolicyBinding of the stack (validationActions Deny, of a policy that fails closed) selects it.";
  it("privileged without an admission policy", async () => assert.deepEqual(await run([ns("privileged")]), [UNCOVERED]));
  it("a binding that only warns, one selecting other namespaces, a policy that fails open", async () => {
    assert.deepEqual(await run([ns("privileged"), vap(), binding(["Warn"])]), [UNCOVERED]);
    assert.deepEqual(await run([ns("privileged"), vap(), binding(["Deny"], { matchLabels: { team: "x" } })]), [UNCOVERED]);
    assert.deepEqual(await run([ns("privileged"), vap("Ignore"), binding(["Deny"])]), [UNCOVERED]);
    // One that checks only some requests (the controller's Deployment-writes policy checks one user's) is no cover.
    assert.deepEqual(await run([ns("privileged"), vap("Fail", [{ name: "one-user", expression: "request.userInfo.username == 'x'" }]), binding(["Deny"])]), [UNCOVERED]);
  });
  it("no enforce label at all", async () => {
    assert.deepEqual(await run([ns()]), ["endpoint namespace \"ep-iris\" has no pod-security.kubernetes.io/enforce label; Pod Security Admission enforces nothing there."]);
  });
  it("restricted, or privileged behind a denying policy, passes", async () => {
    assert.deepEqual(await run([ns("restricted")]), []);
    assert.deepEqual(await run([ns("privileged"), vap(), binding(["Deny", "Audit"])]), []);
  });
});
