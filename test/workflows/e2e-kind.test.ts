/**
 * The kind end-to-end workflow keeps what makes it a first-contact test: a fresh kind cluster with
 * cloud-provider-kind, `pulumi up --stack local` with the policy pack and Node 24, Ready endpoints, invocations
 * through the gateway with the generated certificate, a load that must scale an endpoint, and a destroy that runs
 * whatever happened — with a read-only token and no secrets. (It cannot run on the project's machines.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
const text = readFileSync(join(import.meta.dirname, "../../.github/workflows/e2e-kind.yml"), "utf8");
const w = YAML.parse(text) as { on: Record<string, unknown>; permissions: Record<string, string>; jobs: { e2e: { steps: Step[] } } };
const steps = w.jobs.e2e.steps;
const runOf = (needle: RegExp) => steps.find((s) => needle.test(s.run ?? ""));

describe("e2e-kind.yml", () => {
  it("never sees secrets and has a read-only token; never runs on pull_request_target", () => {
    assert.deepEqual(w.permissions, { contents: "read" });
    assert.ok(!("pull_request_target" in w.on));
    assert.doesNotMatch(text, /secrets\./);
  });
  it("brings up kind with cloud-provider-kind and the locally built controller image", () => {
    assert.ok(runOf(/kind create cluster --name "\$KIND_CLUSTER"/));
    assert.ok(runOf(/cloud-provider-kind >/));
    assert.ok(runOf(/kind load docker-image autopilot\/apa-controller:dev/), "the image Pulumi.local.yaml names");
  });
  it("leaves the MLflow serving images to pulumi up's own kind load, then finds them on the node", () => {
    assert.ok(!steps.some((s) => /kind load docker-image autopilot\/model-serving/.test(s.run ?? "")), "no manual load of a serving image");
    const up = steps.findIndex((s) => /pulumi up/.test(s.run ?? ""));
    const check = steps.findIndex((s) => /crictl images/.test(s.run ?? ""));
    assert.ok(up >= 0 && check > up, "checked on the node after pulumi up");
    assert.match(steps[check]!.run!, /grep '\^autopilot\/model-serving:'/);
  });
  it("runs pulumi up on the local stack with the policy pack, on npm ci's Node 24", () => {
    const up = runOf(/pulumi up/)!;
    assert.match(up.run!, /PATH="\$PWD\/node_modules\/\.bin:\$PATH" pulumi up --yes/);
    assert.match(up.run!, /--policy-pack policies --policy-pack-config policies\/config\/local\.json/);
    assert.match(up.run!, /pulumi stack select local/);
  });
  it("checks Ready endpoints, the store's manifests, invocations through the gateway, and scaling under load", () => {
    assert.ok(runOf(/--for=condition=Available/));
    assert.ok(runOf(/sha256sum \/tmp\/SHA256SUMS/));
    assert.ok(runOf(/--cacert "\$RUNNER_TEMP\/gateway-ca\.pem"/));
    assert.ok(runOf(/test "\$after" -gt "\$before"/));
  });
  it("destroys the stack whatever happened", () => {
    const destroy = steps.find((s) => /pulumi destroy/.test(s.run ?? ""))!;
    assert.equal(destroy.if, "always()");
  });
});
