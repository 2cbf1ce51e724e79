/** The offline runner reproduces the policy server's semantics (levels, config, not-applicable, errors). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { makeResourceArgs, makeStackArgs, runPack } from "../../policies/offline/run-pack.ts";
import { runPolicy, unknown } from "./harness.ts";
import { clone, find, goodStack } from "./fixtures.ts";

const badImage = () => {
  const rs = clone(goodStack("local"));
  find(rs, "iris-deploy").props.spec.template.spec.containers[0].image = "ghcr.io/mlflow/mlflow:latest";
  return rs;
};

describe("runPack", () => {
  it("reports at the policy's own level, overridable by config, and skips disabled policies", async () => {
    assert.deepEqual((await runPolicy("images-pinned-and-allowed", badImage())).map((d) => d.enforcementLevel), ["mandatory"]);
    assert.deepEqual((await runPolicy("images-pinned-and-allowed", badImage(), { "images-pinned-and-allowed": "advisory" })).map((d) => d.enforcementLevel), ["advisory"]);
    assert.deepEqual(await runPolicy("images-pinned-and-allowed", badImage(), { "images-pinned-and-allowed": { enforcementLevel: "disabled" } }), []);
  });

  it("blames the resource's URN and appends the remediation", async () => {
    const [d] = await runPolicy("images-pinned-and-allowed", badImage());
    assert.equal(d?.urn, "urn:pulumi:offline::autopilot-serving::kubernetes:apps/v1:Deployment::iris-deploy");
    assert.match(d?.message ?? "", /\nRemediation: Pin the image to a version tag/);
  });

  it("passes config without enforcementLevel to getConfig", () => {
    const args = makeResourceArgs({ type: "t", name: "n", props: {} }, "p", { p: { enforcementLevel: "advisory", x: 1 } });
    assert.deepEqual(args.getConfig(), { x: 1 });
    assert.deepEqual(makeStackArgs([], "q", { q: "mandatory" }).getConfig(), {});
  });

  it("wraps props so unknown values throw on access, like the runtime", () => {
    const args = makeResourceArgs({ type: "t", name: "n", props: { a: { b: unknown.unknownStringValue } } }, "p");
    assert.throws(() => (args.props["a"] as Record<string, unknown>)["b"], /string value at \.a\.b can't be known during preview/);
  });

  it("links parents and property dependencies in stack args", () => {
    const args = makeStackArgs([
      { type: "a", name: "parent", urn: "urn:a", props: {} },
      { type: "b", name: "child", parent: "urn:a", props: {}, propertyDependencies: { bucket: ["urn:a"] } },
    ], "p");
    assert.equal(args.resources[1]?.parent?.name, "parent");
    assert.equal(args.resources[1]?.propertyDependencies["bucket"]?.[0]?.name, "parent");
  });

  it("treats notApplicable as a skip and any other exception as fatal", async () => {
    const skip: ResourceValidationPolicy = { name: "skip", description: "d", validateResource: (a) => a.notApplicable("nope") };
    assert.deepEqual(await runPack([skip], [{ type: "t", name: "n", props: {} }]), []);
    const boom: StackValidationPolicy = { name: "boom", description: "d", validateStack: () => { throw new TypeError("bug"); } };
    await assert.rejects(runPack([boom], []), /Error validating resource with policy 'boom': bug/);
  });
});
