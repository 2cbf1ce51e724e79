/**
 * The pack as the Pulumi CLI runs it: Pulumi's policy-pack runner loads `policies/` (main.js → index.ts), the
 * PolicyPack serves the real `@pulumi/policy` analyzer over gRPC, and an engine-side test double
 * (analyzer-host.ts) calls it.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { AnalyzerHost } from "./analyzer-host.ts";
import { clone, find, goodStack } from "./fixtures.ts";
import { unknown } from "./harness.ts";
import { definitions } from "../../policies/pack.ts";

const root = join(import.meta.dirname, "../..");

describe("policy pack served over gRPC (as under pulumi preview --policy-pack policies)", () => {
  let host: AnalyzerHost;
  before(async () => {
    host = await AnalyzerHost.start(root);
  });
  after(async () => {
    await host?.close();
  });

  it("GetAnalyzerInfo lists every policy with its level and config schema", async () => {
    const info = await host.info();
    assert.equal(info.name, "autopilot-serving");
    assert.equal(info.version, "0.1.0");
    assert.deepEqual(info.policies.map((p) => [p.name, p.enforcementLevel]), definitions.map((d) => [d.name, d.enforcementLevel]));
    const budget = info.policies.find((p) => p.name === "gpu-node-budget");
    assert.deepEqual((budget?.configSchema as Record<string, unknown>)["maxGpuNodes"], {
      type: "integer", minimum: 0, default: 8, description: "GPU-node budget of the environment.",
    });
  });

  it("Analyze flags a mutable image tag with the remediation, and passes a compliant resource", async () => {
    const rs = clone(goodStack("aws"));
    assert.deepEqual(await host.analyze(find(rs, "iris-deploy")), []);
    find(rs, "iris-deploy").props.spec.template.spec.containers[0].image = "ghcr.io/mlflow/mlflow:latest";
    const d = await host.analyze(find(rs, "iris-deploy"));
    assert.deepEqual(d.map((x) => [x.policyName, x.enforcementLevel]), [["images-pinned-and-allowed", "mandatory"]]);
    assert.match(d[0]!.message, /image "ghcr\.io\/mlflow\/mlflow:latest" is not pinned \(tag latest\)\.\nRemediation: Pin the image/);
  });

  it("Analyze turns an unknown value into an advisory can't-run, not a pass", async () => {
    const rs = clone(goodStack("local"));
    find(rs, "iris-cr").props.spec.concurrency.max = unknown.unknownNumberValue;
    const d = await host.analyze(find(rs, "iris-cr"));
    assert.deepEqual(d.map((x) => [x.policyName, x.enforcementLevel]), [["endpoint-concurrency-range", "advisory"]]);
    assert.match(d[0]!.message, /can't run policy 'endpoint-concurrency-range' .* during preview: number value at \.spec\.concurrency\.max can't be known during preview/);
  });

  it("AnalyzeStack passes the compliant stacks and names the broken resource", async () => {
    for (const cloud of ["local", "aws", "gcp"] as const) assert.deepEqual(await host.analyzeStack(goodStack(cloud)), [], cloud);
    const rs = goodStack("aws").filter((r) => r.name !== "models-pab");
    const d = await host.analyzeStack(rs);
    assert.deepEqual(d.map((x) => [x.policyName, x.urn]), [["model-bucket-private-encrypted-versioned", "urn:pulumi:offline::autopilot-serving::aws:s3/bucket:Bucket::models"]]);
  });

  it("Configure applies the environment's budget", async () => {
    await host.configure({ "gpu-node-budget": { enforcementLevel: "mandatory", maxGpuNodes: 2 } });
    const d = await host.analyzeStack(goodStack("aws"));
    assert.deepEqual(d.map((x) => x.policyName), ["gpu-node-budget"]);
    assert.match(d[0]!.message, /GPU pools can grow to 4 nodes, over the budget of 2/);
    await host.configure({});
  });
});
