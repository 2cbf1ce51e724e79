/**
 * The local stack loads every MLflow serving image it builds into kind: in the offline plan, one
 * `command.local.Command` per distinct image (child of the serving images, after the image's build, triggered by
 * its tag and digest; the version's Deployment waits for it), none on aws/gcp, with `servingImageRepository` or
 * with `kindLoadImages: false`; a team stack on a local platform (PlatformReference) loads its own images into the
 * platform's kind cluster. The rendered create command is then run exactly as rendered (its interpreter and
 * script, taken from the registered resource) against a `kind` TEST DOUBLE that records its arguments, and with no
 * `kind` on PATH (a clear error, exit 127). A real `kind load` into a real cluster is not run here (no Docker engine).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ServingEndpoint } from "../../components/endpoint/serving-endpoint.ts";
import { kindClusterOfContext, kindLoadCluster, kindLoadScript } from "../../components/model/kind-load.ts";
import { PlatformReference } from "../../components/platform/platform-reference.ts";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { parseStackConfig } from "../../infra/config-schema.ts";
import { evaluateStack, type StackEvaluation } from "../../infra/evaluate.ts";
import { declareEndpoints, EXAMPLE_MODELS } from "../../infra/endpoints.ts";
import { mockState, type RegisteredResource } from "../../infra/mock-monitor.ts";
import { evaluateProgram } from "../../infra/testing.ts";
import { kubeObjects, type Obj, ofType } from "../infra/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const COMMAND = "command:local:Command";

const servingImages = (ev: StackEvaluation) => ofType(ev, "docker-build:index:Image").filter((r) => r.name.includes("serving-images"));
const tagOf = (r: RegisteredResource) => /-(py\d+\.\d+-[0-9a-f]{16})(-kind-load)?$/.exec(r.name)![1]!;
const deploymentOf = (ev: StackEvaluation, endpoint: string) => ofType(ev, "kubernetes:apps/v1:Deployment").find((d) => (d.inputs.metadata as Obj).namespace === `ep-${endpoint}`)!;
const serverImage = (d: RegisteredResource) => String(((d.inputs.spec as Obj).template.spec.containers as Obj[]).find((c) => c.name === "server")!.image);

/** The script the program must render for `image` and `cluster`, written out here (not built with the module under test). */
function expectedScript(image: string, cluster: string): string {
  return "set -eu\n" +
    `command -v kind >/dev/null 2>&1 || { echo 'kind-load: kind is not on PATH, so ${image} cannot be loaded into the kind cluster ${cluster}; install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation, e.g. \`go install sigs.k8s.io/kind@latest\`), or turn the load off (stack config kindLoadImages false; ServingPlatform kindCluster "") when the cluster gets the image by other means' >&2; exit 127; }\n` +
    `kind load docker-image '${image}' --name '${cluster}'`;
}

/** Runs a registered Command's create step as the command provider does: `<interpreter...> <create>`. */
function runCreate(cmd: RegisteredResource, env: Record<string, string>) {
  const interpreter = cmd.inputs.interpreter as string[];
  return spawnSync(interpreter[0]!, [...interpreter.slice(1), String(cmd.inputs.create)], { env, encoding: "utf8", timeout: 10_000 });
}

describe("kind load of the serving images (local stack)", () => {
  const work = mkdtempSync(join(tmpdir(), "kind-load-"));
  after(() => rmSync(work, { recursive: true, force: true }));
  let local: StackEvaluation;
  before(async () => {
    local = await evaluateStack("local");
  });

  it("one Command per distinct serving image with the exact script, after the build, triggered by tag and digest; the Deployment waits for it", { timeout: 180_000 }, async () => {
    const older = join(work, "older-sklearn");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), older, { recursive: true });
    writeFileSync(join(older, "requirements.txt"), readFileSync(join(older, "requirements.txt"), "utf8").replace(/scikit-learn==[0-9.]+/, "scikit-learn==1.8.0"));
    const small = { computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 1 }, resources: { cpu: 0.25, memoryGiB: 0.5 } } as const;
    const extra: EndpointDeclaration[] = [
      { name: "same-env", model: { uri: EXAMPLE_MODELS.sklearn }, ...small },
      { name: "older-env", model: { uri: older }, ...small },
    ];
    const ev = await evaluateStack("local", { declare: (ctx) => [...declareEndpoints(ctx), ...extra] });
    const images = servingImages(ev);
    const commands = ofType(ev, COMMAND);
    assert.equal(images.length, 2, "fraud-classifier and same-env share an image; older-env has its own");
    assert.equal(commands.length, images.length, "one kind load per distinct image");
    for (const img of images) {
      const tag = tagOf(img);
      const cmd = commands.find((c) => tagOf(c) === tag);
      assert.ok(cmd !== undefined, `a kind load for ${tag}`);
      const ref = `autopilot/model-serving:${tag}`;
      assert.equal(cmd.inputs.create, expectedScript(ref, "autopilot"), "the cluster kubeContext kind-autopilot names");
      assert.deepEqual(cmd.inputs.interpreter, ["/bin/sh", "-c"]);
      assert.equal(cmd.parent, img.parent, "a child of the serving images, beside the build");
      assert.ok(cmd.dependencies.includes(img.urn), "runs after the image's build");
      assert.deepEqual(cmd.inputs.triggers, [ref, mockState(img.type, img.name, img.inputs).digest], "reloads when the tag or the built image's digest changes");
    }
    for (const ep of ["fraud-classifier", "same-env", "older-env"]) {
      const d = deploymentOf(ev, ep);
      const cmd = commands.find((c) => `autopilot/model-serving:${tagOf(c)}` === serverImage(d));
      assert.ok(cmd !== undefined, `${ep} runs a loaded image (${serverImage(d)})`);
      assert.ok(d.dependencies.includes(cmd.urn), `${ep}'s Deployment waits for the kind load`);
    }
    // An unchanged environment renders the same Command (same name, script and triggers): nothing to run again.
    const base = ofType(local, COMMAND);
    assert.equal(base.length, 1);
    const again = commands.find((c) => c.name === base[0]!.name)!;
    assert.deepEqual([again.inputs.create, again.inputs.triggers], [base[0]!.inputs.create, base[0]!.inputs.triggers]);
  });

  it("the kind cluster follows kindCluster / kubeContext; nothing is loaded with kindLoadImages false or servingImageRepository", { timeout: 180_000 }, async () => {
    const named = await evaluateStack("local", { overrides: { kubeContext: "kind-dev" } });
    assert.match(String(ofType(named, COMMAND)[0]!.inputs.create), /kind load docker-image '[^']+' --name 'dev'$/);
    const explicit = await evaluateStack("local", { overrides: { kubeContext: "docker-desktop", kindCluster: "lab.1" } });
    assert.match(String(ofType(explicit, COMMAND)[0]!.inputs.create), /--name 'lab\.1'$/);
    const off = await evaluateStack("local", { overrides: { kindLoadImages: "false" } });
    assert.deepEqual(ofType(off, COMMAND), []);
    assert.ok(servingImages(off).length >= 1, "the images are still built");
    assert.equal(serverImage(deploymentOf(off, "fraud-classifier")), `autopilot/model-serving:${tagOf(servingImages(off)[0]!)}`);
    const prebuilt = await evaluateStack("local", { overrides: { servingImageRepository: "registry.example.com/team/model-serving" } });
    assert.deepEqual(ofType(prebuilt, COMMAND), [], "pods pull the prebuilt images");
    assert.deepEqual(servingImages(prebuilt), []);
  });

  it("a team stack on a local platform loads its own serving images into the platform's kind cluster", { timeout: 180_000 }, async () => {
    const platform = await evaluateStack("local", { overrides: {
      localModelStore: "external", localModelStoreUrl: "http://172.18.0.1:9000", localModelStoreAccessKeyId: "reader", localModelStoreSecretAccessKey: "reader-secret",
      localPayloadLogAccessKeyId: "writer", localPayloadLogSecretAccessKey: "writer-secret",
    } });
    const outputs = { platform: platform.outputs["platform"], kubeconfig: platform.outputs["kubeconfig"], modelStoreSecret: platform.outputs["modelStoreSecret"] };
    const teamRun = (kindCluster?: string) => evaluateProgram(async () => {
      const ref = await PlatformReference.fromStack("org/platform/dev", kindCluster !== undefined ? { kindCluster } : {});
      await ServingEndpoint.declare("team-scorer", { platform: ref, endpoint: { name: "team-scorer", model: { uri: join(ROOT, EXAMPLE_MODELS.sklearn) }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 1 }, resources: { cpu: 0.25, memoryGiB: 0.5 } } });
      return {};
    }, { project: "team", stack: "dev", stackOutputs: { "org/platform/dev": { outputs, secretOutputNames: ["kubeconfig", "modelStoreSecret"] } } });
    const derived = await teamRun();
    const [img] = derived.resources.filter((r) => r.type === "docker-build:index:Image");
    const cmds = derived.resources.filter((r) => r.type === COMMAND);
    assert.equal(cmds.length, 1);
    assert.equal(cmds[0]!.inputs.create, expectedScript(`autopilot/model-serving:${tagOf(img!)}`, "autopilot"), "the platform's kubeContext kind-autopilot");
    assert.ok(cmds[0]!.dependencies.includes(img!.urn));
    const dep = derived.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    assert.ok(dep.dependencies.includes(cmds[0]!.urn), "the team's Deployment waits for the load");
    assert.deepEqual((await teamRun("")).resources.filter((r) => r.type === COMMAND), [], `kindCluster "" turns it off`);
  });

  it("none on aws or gcp", { timeout: 180_000 }, async () => {
    for (const stack of ["staging-aws", "prod-gcp"]) {
      const ev = await evaluateStack(stack);
      assert.ok(servingImages(ev).length >= 1, `${stack} builds serving images`);
      assert.deepEqual(ofType(ev, COMMAND), [], `${stack} pushes them to its registry`);
    }
  });

  it("refuses a kind cluster it cannot know or that is not the deployed one, and kindCluster off the local cloud", { timeout: 180_000 }, async () => {
    await assert.rejects(evaluateStack("local", { overrides: { kubeContext: "docker-desktop" } }),
      /config key "autopilot-serving:kindCluster": field "kindCluster" has value ""; allowed: the kind cluster to load the serving images into \(required: kubeContext "docker-desktop" is not a kind context kind-<name>, and the program builds the serving images py3\.11-[0-9a-f]{16}\), or kindLoadImages false/);
    await evaluateStack("local", { overrides: { kubeContext: "docker-desktop", kindLoadImages: "false" } });
    const base = { "autopilot-serving:controllerImage": "a/b:1", "autopilot-serving:gatewayApiKeyHashes": `["${"a".repeat(64)}"]` };
    const refuse = (raw: Record<string, string>, want: RegExp) => assert.throws(() => parseStackConfig({ ...base, ...raw }, "t"), (e: Error) => (assert.match(e.message, want), true));
    refuse({ "autopilot-serving:kindCluster": "Bad_Name" }, /field "kindCluster" has value "Bad_Name"; allowed: a kind cluster name \(kind's rule: \^\[a-z0-9\.-\]\+\$\)/);
    refuse({ "autopilot-serving:kubeContext": "kind-autopilot", "autopilot-serving:kindCluster": "other" },
      /field "kindCluster" has value "other"; allowed: "" or "autopilot" \(kubeContext kind-autopilot is the kind cluster autopilot: the images are loaded into the cluster the stack deploys to\)/);
    refuse({ "autopilot-serving:cloud": "aws", "autopilot-serving:region": "us-east-1", "autopilot-serving:kindCluster": "autopilot" },
      /field "kindCluster" has value "autopilot"; allowed: "" \(only the local cloud loads images into kind\)/);
    assert.throws(() => kindLoadCluster("ServingPlatform \"p\"", "local", "UPPER", undefined), /ServingPlatform "p": field "kindCluster" has value "UPPER"; allowed: "" or a kind cluster name matching/);
    assert.throws(() => kindLoadCluster("ServingPlatform \"p\"", "aws", "x", undefined), /field "kindCluster" has value "x" \(cloud aws pushes its serving images to a registry\)/);
    assert.equal(kindLoadCluster("p", "local", undefined, "kind-autopilot"), "autopilot");
    assert.equal(kindLoadCluster("p", "local", "", "kind-autopilot"), undefined, `"" turns the load off`);
    assert.equal(kindLoadCluster("p", "local", undefined, "docker-desktop"), undefined);
    assert.equal(kindClusterOfContext("kind-Bad"), undefined);
    assert.throws(() => kindLoadScript("autopilot/model-serving:x'; rm -rf /", "autopilot"), /is not an image reference <repository>:<tag>/);
    assert.throws(() => kindLoadScript("autopilot/model-serving:x", "a b"), /is not a kind cluster name/);
  });

  it("the rendered create command, run as rendered: kind gets exactly load docker-image <image> --name <cluster>; no kind on PATH fails naming what to install", () => {
    const cmd = ofType(local, COMMAND)[0]!;
    const image = `autopilot/model-serving:${tagOf(cmd)}`;
    const bin = join(work, "bin");
    mkdirSync(bin, { recursive: true });
    const argsFile = join(work, "kind-args");
    // TEST DOUBLE of kind: records its arguments, one per line; exits with $KIND_EXIT.
    writeFileSync(join(bin, "kind"), "#!/bin/sh\n# TEST DOUBLE of kind (sigs.k8s.io/kind): records its argv\nprintf '%s\\n' \"$@\" > \"$KIND_ARGS_FILE\"\nexit \"${KIND_EXIT:-0}\"\n");
    chmodSync(join(bin, "kind"), 0o755);
    const env = { PATH: `${bin}:/usr/bin:/bin`, KIND_ARGS_FILE: argsFile };

    const ok = runCreate(cmd, env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(readFileSync(argsFile, "utf8").split("\n").slice(0, -1), ["load", "docker-image", image, "--name", "autopilot"]);

    rmSync(argsFile);
    const failing = runCreate(cmd, { ...env, KIND_EXIT: "1" });
    assert.equal(failing.status, 1, "a failing kind load fails the command (and so the update)");

    const empty = join(work, "empty-bin");
    mkdirSync(empty, { recursive: true });
    const missing = runCreate(cmd, { PATH: empty, KIND_ARGS_FILE: argsFile });
    assert.equal(missing.status, 127);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, new RegExp(`^kind-load: kind is not on PATH, so ${image.replace(/\./g, "\\.")} cannot be loaded into the kind cluster autopilot; install kind \\(https://kind\\.sigs\\.k8s\\.io/docs/user/quick-start/#installation`));
    assert.match(missing.stderr, /kindLoadImages false/);
  });
});
