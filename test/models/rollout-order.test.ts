/**
 * What keeps the old version serving when a new one cannot start (a digest mismatch at download leaves its pods
 * un-Ready: test/infra/rendered-download.test.ts runs that init container as rendered): in the plan, the
 * ServingEndpoint custom resource — which carries the traffic split the gateway applies — depends on every
 * version's Deployment, each Deployment on its ModelPublication and (MLflow-served) on its serving-image build,
 * and each waits as long as the model needs (customTimeouts). Pulumi writes a resource only after what it
 * depends on is ready and deletes a removed Deployment only after the update succeeded, so a new version whose
 * pods never become Ready fails the update before any traffic moves and before the old Deployment goes.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { EXAMPLE_MODELS } from "../../infra/endpoints.ts";
import { type Obj, ofType } from "../infra/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("a new version takes traffic only once it is ready", () => {
  const work = mkdtempSync(join(tmpdir(), "rollout-order-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("the custom resource (traffic split) waits for every version's Deployment, each for its model and image", { timeout: 120_000 }, async () => {
    const next = join(work, "next");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), next, { recursive: true });
    writeFileSync(join(next, "requirements.txt"), readFileSync(join(next, "requirements.txt"), "utf8").replace(/scikit-learn==[0-9.]+/, "scikit-learn==1.8.0"));
    const canary: EndpointDeclaration = {
      name: "scorer", model: { uri: EXAMPLE_MODELS.sklearn }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 },
      trafficSplit: [{ uri: EXAMPLE_MODELS.sklearn, weight: 90 }, { uri: next, weight: 10 }],
    };
    const ev = await evaluateStack("staging-aws", { declare: () => [canary] });
    const deployments = ofType(ev, "kubernetes:apps/v1:Deployment").filter((d) => (d.inputs.metadata as Obj).namespace === "ep-scorer");
    assert.equal(deployments.length, 2);
    const cr = ofType(ev, "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint").find((r) => (r.inputs.metadata as Obj).name === "scorer")!;
    assert.deepEqual((cr.inputs.spec as Obj).trafficSplit.map((t: Obj) => t.weight), [90, 10]);
    const publications = ofType(ev, "pulumi-nodejs:dynamic/autopilot:ModelPublication").filter((p) => p.inputs.endpoint === "scorer");
    const images = ofType(ev, "docker-build:index:Image");
    for (const d of deployments) {
      assert.ok(cr.dependencies.includes(d.urn), `the traffic split waits for ${(d.inputs.metadata as Obj).name}`);
      const version = (d.inputs.metadata as Obj).labels["serving.autopilot.dev/version"];
      const pub = publications.find((p) => p.inputs.version === version)!;
      assert.ok(d.dependencies.includes(pub.urn), `${version} starts only once its files are published`);
      const server = ((d.inputs.spec as Obj).template.spec.containers as Obj[]).find((c) => c.name === "server")!;
      assert.match(String(server.image), /@sha256:[0-9a-f]{64}$/, "the server image is the build's digest (an Output of the Image)");
      assert.ok(images.some((i) => d.dependencies.includes(i.urn)), `${version} waits for its serving image build`);
      assert.ok(Number(String(d.customTimeouts?.create).replace(/s$/, "")) >= 600, "Pulumi waits for the rollout, then fails the update");
      assert.ok(!deployments.some((o) => o !== d && d.dependencies.includes(o.urn)), "versions do not wait for each other");
    }
  });
});
