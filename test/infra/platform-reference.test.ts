/**
 * Team stacks on a platform stack: the all-in-one program's stack outputs (`platform`, `kubeconfig`,
 * `modelStoreSecret`, evaluated under mocks) read by a team's program through `PlatformReference.fromStack`
 * (its StackReference answered by the mock monitor from those outputs). The team's endpoints get the platform's
 * pools, store wiring and providers; an MLflow model declared there gets its per-version serving image as the
 * platform's own endpoints do; stores a team stack cannot use are refused with the reason.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PlatformReference } from "../../components/platform/platform-reference.ts";
import { ServingEndpoint } from "../../components/endpoint/serving-endpoint.ts";
import type { EndpointDeclaration, ResolvedEndpoint } from "../../components/endpoint-types.ts";
import { EXAMPLE_MODELS } from "../../infra/endpoints.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { evaluateProgram } from "../../infra/testing.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
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

  it("an MLflow model declared on its own gets its version's serving image, as the platform's endpoints do: built once per environment, pushed to the team's ECR repository, referenced by digest", { timeout: 120_000 }, async () => {
    const out = await platformOutputs("staging-aws");
    const sklearn = { uri: join(ROOT, EXAMPLE_MODELS.sklearn) };
    const run = await evaluateProgram(async () => {
      const platform = await PlatformReference.fromStack("org/platform/prod");
      const ep = (name: string, model: EndpointDeclaration["model"], extra: Partial<EndpointDeclaration> = {}) => ServingEndpoint.declare(name, { platform, endpoint: { name, model, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 }, ...extra } });
      await ep("scorer-a", sklearn);
      await ep("scorer-b", sklearn);
      await ep("embedder", { uri: join(ROOT, EXAMPLE_MODELS.onnx) });
      return {};
    }, { project: "team", stack: "prod", stackOutputs: { "org/platform/prod": { outputs: out, secretOutputNames: ["kubeconfig", "modelStoreSecret"] } } });
    const images = run.resources.filter((r) => r.type === "docker-build:index:Image");
    assert.equal(images.length, 1, "two endpoints of one environment share one image; the ONNX endpoint runs Triton's");
    assert.equal(images[0]!.inputs["push"], true);
    assert.match(String((images[0]!.inputs["dockerfile"] as { inline: string }).inline), /RUN pip install[\s\S]*'scikit-learn==/);
    const repo = run.resources.find((r) => r.type === "aws:ecr/repository:Repository")!;
    assert.equal(repo.inputs["imageTagMutability"], "IMMUTABLE");
    assert.ok(repo.provider.includes("platform-aws"), "in the platform's account and region");
    const server = (ns: string) => {
      const dep = run.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && (r.inputs["metadata"] as { namespace: string }).namespace === ns)!;
      return String((dep.inputs["spec"] as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec.containers.find((c) => c.name === "server")!.image);
    };
    assert.match(server("ep-scorer-a"), /\.dkr\.ecr\..*@sha256:[0-9a-f]{64}$/);
    assert.equal(server("ep-scorer-b"), server("ep-scorer-a"));
    assert.match(server("ep-embedder"), /tritonserver/);
    // A refused environment fails the declaration before anything of the endpoint exists.
    const py27 = mkdtempSync(join(tmpdir(), "team-py27-"));
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), py27, { recursive: true });
    writeFileSync(join(py27, "python_env.yaml"), readFileSync(join(py27, "python_env.yaml"), "utf8").replace(/^python: .*$/m, "python: 2.7.18"));
    await assert.rejects(evaluateProgram(async () => {
      const platform = await PlatformReference.fromStack("org/platform/prod");
      await ServingEndpoint.declare("old", { platform, endpoint: { name: "old", model: { uri: py27 }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 } } });
      return {};
    }, { project: "team", stack: "prod", stackOutputs: { "org/platform/prod": { outputs: out, secretOutputNames: ["kubeconfig", "modelStoreSecret"] } } }),
    /endpoint "old": field "model.uri" has value "2\.7\.18" .*allowed: Python 3\.9/);
    rmSync(py27, { recursive: true, force: true });
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
