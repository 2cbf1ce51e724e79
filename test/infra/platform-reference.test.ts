/**
 * Team stacks on a platform stack: the all-in-one program's stack outputs (`platform`, `kubeconfig`,
 * `modelStoreSecret`, evaluated under mocks) read by a team's program through `PlatformReference.fromStack`
 * (its StackReference answered by the mock monitor from those outputs). The team's endpoints get the platform's
 * pools, store wiring and providers; stores a team stack cannot use are refused with the reason.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PlatformReference } from "../../components/platform/platform-reference.ts";
import { ServingEndpoint } from "../../components/endpoint/serving-endpoint.ts";
import type { ResolvedEndpoint } from "../../components/endpoint-types.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { evaluateProgram } from "../../infra/testing.ts";

const digest = `sha256:${"ab".repeat(32)}`;
const decl = (over: Partial<ResolvedEndpoint> = {}): ResolvedEndpoint => ({
  name: "team-scorer", model: { flavor: "sklearn" }, computePool: "cpu",
  concurrency: { min: 2, max: 16 }, replicas: { min: 1, max: 4 }, versions: [{ version: "v1", digest, weight: 100 }], ...over,
});

async function platformOutputs(stack: string, overrides: Record<string, string> = {}) {
  const ev = await evaluateStack(stack, { overrides });
  const o = ev.outputs;
  return { platform: o["platform"], kubeconfig: o["kubeconfig"], modelStoreSecret: o["modelStoreSecret"] };
}

async function team(outputs: Record<string, unknown>, endpoints: ResolvedEndpoint[]) {
  return evaluateProgram(async () => {
    const platform = await PlatformReference.fromStack("org/platform/prod");
    const urls: Record<string, unknown> = {};
    for (const e of endpoints) urls[e.name] = new ServingEndpoint(e.name, { platform, endpoint: e }).url;
    return urls;
  }, { project: "team", stack: "prod", stackOutputs: { "org/platform/prod": { outputs, secretOutputNames: ["kubeconfig", "modelStoreSecret"] } } });
}

describe("PlatformReference: a team stack on the platform stack's outputs", () => {
  it("staging-aws: S3 read roles and Pod Identity in the platform's cluster, pods on the platform's pools", async () => {
    const out = await platformOutputs("staging-aws");
    const p = out.platform as { modelStore: { kind: string; bucket: string; eksClusterName: string; region: string }; pools: { poolName: string }[]; gateway: { url: string } };
    assert.equal(p.modelStore.kind, "s3");
    assert.deepEqual(p.pools.map((x) => x.poolName), ["cpu", "gpu"]);
    assert.match(String(out.kubeconfig), /apiVersion: v1|"apiVersion"/);
    const run = await team(out, [decl()]);
    const assoc = run.resources.find((r) => r.type === "aws:eks/podIdentityAssociation:PodIdentityAssociation")!;
    assert.equal(assoc.inputs["clusterName"], p.modelStore.eksClusterName);
    const aws = run.resources.find((r) => r.type === "pulumi:providers:aws")!;
    assert.equal(aws.inputs["region"], p.modelStore.region);
    const dep = run.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const pod = ((dep.inputs["spec"] as { template: { spec: { nodeSelector: Record<string, string>; volumes: { name: string; hostPath?: unknown }[] } } }).template.spec);
    assert.deepEqual(pod.nodeSelector, { "serving.autopilot.dev/pool": "cpu" });
    assert.ok(!pod.volumes.some((v) => v.hostPath !== undefined), "team endpoints do not use the node-local cache the platform prepares");
    assert.equal(run.outputs["team-scorer"], `${p.gateway.url}/serving-endpoints/team-scorer/invocations`);
    assert.ok(!run.resources.some((r) => /eks\/cluster:|s3\/bucket:|ServingPlatform/.test(r.type)));
  });

  it("prod-gcp: a GCS reader member in the platform's project through a gcp provider", async () => {
    const out = await platformOutputs("prod-gcp");
    const run = await team(out, [decl()]);
    const member = run.resources.find((r) => r.type === "gcp:storage/bucketIAMMember:BucketIAMMember")!;
    assert.equal(member.inputs["role"], "roles/storage.objectViewer");
    assert.match(String(member.inputs["member"]), /ns\/ep-team-scorer\/sa\/team-scorer/);
    assert.ok(member.provider.includes("platform-gcp"));
  });

  it("a bad team declaration fails before anything of the endpoint is registered, naming field and pool", async () => {
    const out = await platformOutputs("staging-aws");
    await assert.rejects(team(out, [decl({ computePool: "gpu-large" })]), /endpoint "team-scorer": field "computePool" has value "gpu-large" \(this stack creates no such pool\); allowed: cpu, gpu/);
  });

  it("local with the in-cluster MinIO: refused for team stacks with the store to use instead", async () => {
    const out = await platformOutputs("local");
    await assert.rejects(team(out, [decl()]), /in-cluster MinIO.*allowed for team stacks: an S3, GCS or external S3-compatible store/);
  });

  it("a stack without the platform output: the error names the output and how to export it", async () => {
    await assert.rejects(team({ gatewayUrl: "https://x" }, [decl()]), /stack "org\/platform\/prod" has no output "platform"; the platform program must export platformExports\(platform\)/);
  });
});
