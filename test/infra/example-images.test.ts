/**
 * The shipped example set comes up on a fresh stack: every image any workload of an example stack runs — the
 * example endpoints' model servers and downloaders included — is one the program builds (its serving and
 * controller images, or the controller image a local stack loads into kind) or one it pins in components/images.ts.
 * The custom-runtime example (support-agent) runs the user's image, so it exists only when stack config
 * `exampleCustomImage` names one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IMAGES, imageRef, type ImageRole } from "../../components/images.ts";
import { parseStackConfig } from "../../infra/config-schema.ts";
import { EXAMPLE_STACKS, evaluateStack, type StackEvaluation } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj, ofType, podSpecs } from "./helpers.ts";

/** The images a stack's program provides: its builds (by tag or by pushed digest), its pins and its own controller image. */
function providedImages(ev: StackEvaluation): Set<string> {
  const cfg = parseStackConfig(ev.config, ev.stack);
  const provided = new Set<string>(Object.keys(IMAGES).map((role) => imageRef(role as ImageRole, cfg.imageDigests)));
  if (cfg.controllerImage !== "") provided.add(cfg.controllerImage);
  for (const build of ofType(ev, "docker-build:index:Image")) {
    for (const tag of (build.inputs.tags as string[] | undefined) ?? []) {
      provided.add(tag);
      provided.add(tag.replace(/:[^:/]+$/, ""));
    }
  }
  return provided;
}

/** Every `namespace/workload: image` the stack runs that the program does not provide. */
function foreignImages(ev: StackEvaluation): string[] {
  const provided = providedImages(ev);
  const isProvided = (image: string) => provided.has(image) || provided.has(image.replace(/@sha256:[0-9a-f]{64}$/, ""));
  const out: string[] = [];
  for (const { r, pod } of podSpecs(ev)) {
    for (const c of [...((pod.containers as Obj[] | undefined) ?? []), ...((pod.initContainers as Obj[] | undefined) ?? [])]) {
      if (!isProvided(String(c.image))) out.push(`${String((r.inputs.metadata as Obj | undefined)?.namespace)}/${r.name}: ${String(c.image)}`);
    }
  }
  for (const se of kubeObjects(ev).map((x) => x.obj).filter((o) => o.kind === "ServingEndpoint")) {
    if (!isProvided(String(se.spec.runtime.image))) out.push(`ServingEndpoint ${String(se.metadata.name)}: ${String(se.spec.runtime.image)}`);
  }
  return out;
}

const endpointNames = (ev: StackEvaluation) => kubeObjects(ev).map((x) => x.obj).filter((o) => o.kind === "ServingEndpoint").map((o) => String(o.metadata.name)).sort();

describe("example images", () => {
  for (const stack of EXAMPLE_STACKS) {
    it(`${stack}: every image the stack runs is built or pinned by the program; no support-agent by default`, async () => {
      const ev = await evaluated(stack);
      assert.deepEqual(foreignImages(ev), []);
      assert.ok(!endpointNames(ev).includes("support-agent"));
      assert.ok(endpointNames(ev).includes("fraud-classifier") && endpointNames(ev).includes("text-embedder"));
    });
  }

  it("exampleCustomImage declares support-agent on the custom runtime with that image, which the check reports as the user's", async () => {
    const image = "ghcr.io/acme/support-agent:1.4.2";
    const ev = await evaluateStack("local", { overrides: { exampleCustomImage: image } });
    const agent = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "ServingEndpoint" && o.metadata.name === "support-agent");
    assert.deepEqual(agent?.spec.runtime, { image, kind: "custom" });
    const foreign = foreignImages(ev);
    assert.ok(foreign.length > 0 && foreign.every((f) => f.endsWith(`: ${image}`)), foreign.join("\n"));
    assert.ok(foreign.some((f) => f.startsWith("ep-support-agent/")), foreign.join("\n"));
  });

  it("exampleCustomImage must be empty or an image pinned by tag or digest; the error names the key", () => {
    const base = { "autopilot-serving:controllerImage": "autopilot/apa-controller:dev", "autopilot-serving:gatewayApiKeyHashes": `["${"a".repeat(64)}"]` };
    const digest = `sha256:${"a".repeat(64)}`;
    for (const ok of ["", "ghcr.io/acme/agent:1.4.2", `ghcr.io/acme/agent@${digest}`, `ghcr.io/acme/agent:1.4.2@${digest}`]) {
      assert.equal(parseStackConfig({ ...base, "autopilot-serving:exampleCustomImage": ok }, "t").exampleCustomImage, ok);
    }
    for (const bad of ["ghcr.io/acme/agent", "ghcr.io/acme/agent:latest", `ghcr.io/acme/agent:latest@${digest}`, "Ghcr.io/Acme/Agent:1", "agent:1 2"]) {
      assert.throws(() => parseStackConfig({ ...base, "autopilot-serving:exampleCustomImage": bad }, "t"),
        (e: Error) => e.message.includes(`config key "autopilot-serving:exampleCustomImage": field "exampleCustomImage" has value "${bad}"; allowed: "" or an image reference pinned by version tag or sha256 digest`), bad);
    }
  });
});
