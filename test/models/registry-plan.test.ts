/**
 * Acceptance: a scikit-learn model trained and logged by the real `mlflow` (the repository's virtualenv) into a
 * real `mlflow server` (tracking + Model Registry, sqlite, artifacts served) on 127.0.0.1, registered with the alias
 * `champion`, the run's logged model (`runs:/<run-id>/model`), and the same model saved as a directory, each become an endpoint from one declaration with no typed
 * flavor, size or digest. The offline plan (Pulumi mocks) shows the runtime, the upload with the digest computed
 * from the files (checked against a manifest made independently with MLflow's own client and coreutils'
 * sha256sum), the per-version serving image (the model's Python base + its pinned requirements), and moving the
 * alias changes the plan to the new version (whose identical requirements reuse the image). Bad registry input fails before any
 * resource is registered. Bounded: the server starts within 180 s and is killed with its process group.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requirePythonEnv } from "../../controller/src/local/python-env.ts";
import { evaluateStack, type StackEvaluation } from "../../infra/evaluate.ts";
import { kubeObjects, type Obj, ofType } from "../infra/helpers.ts";
import { startMlflowServer, type MlflowServerHandle } from "./mlflow-server.ts";

const TRAIN = `
import sys, mlflow, mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
first = LogisticRegression(max_iter=300).fit(X, y)
second = LogisticRegression(max_iter=300, C=0.25).fit(X, y)
for m in (first, second):
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(m, name="model", registered_model_name="fraud", input_example=X.head(2))
        print("run", run.info.run_id)
mlflow.MlflowClient().set_registered_model_alias("fraud", "champion", "1")
mlflow.sklearn.save_model(first, sys.argv[1], input_example=X.head(2))
print("ok")
`;

/** The manifest of a directory made by coreutils, the way the cache contract defines it. MLflow's client adds a
 * `registered_model_meta` file (name and version) to what it downloads from the registry; it is not an artifact. */
function coreutilsDigest(dir: string): string {
  const manifest = execFileSync("/bin/sh", ["-c", "find . -type f ! -name SHA256SUMS ! -path ./registered_model_meta | sed 's|^\\./||' | LC_ALL=C sort | while IFS= read -r f; do sha256sum \"$f\"; done"], { cwd: dir, encoding: "utf8" });
  return `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
}

const endpoint = (name: string, uri: string, extra: Partial<EndpointDeclaration> = {}): EndpointDeclaration => ({
  name, model: { uri }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 }, resources: { cpu: 0.25, memoryGiB: 0.5 }, ...extra,
});

describe("one declaration per model: MLflow registry alias and directory → plan (real mlflow server on loopback)", () => {
  let s: MlflowServerHandle;
  let cacheRoot = "";
  let dir = "";
  let runIds: string[] = [];
  const plan = (decls: EndpointDeclaration[], trackingUri = s.uri) => evaluateStack("local", {
    declare: () => decls, overrides: { mlflowTrackingUri: trackingUri }, fetch: { registry: { trackingUri }, cacheRoot, cwd: "/" },
  });
  const publication = (ev: StackEvaluation, ep: string) => ofType(ev, "pulumi-nodejs:dynamic/autopilot:ModelPublication").filter((r) => r.inputs.endpoint === ep);
  const deployments = (ev: StackEvaluation, ep: string) => kubeObjects(ev).map((x) => x.obj).filter((o) => o.kind === "Deployment" && o.metadata.namespace === `ep-${ep}`);
  const serverImage = (ev: StackEvaluation, ep: string) => String((deployments(ev, ep)[0]!.spec.template.spec.containers as Obj[]).find((c) => c.name === "server")!.image);
  const imageBuilds = (ev: StackEvaluation) => ofType(ev, "docker-build:index:Image").filter((r) => r.name.includes("serving-images"));
  const cr = (ev: StackEvaluation, ep: string) => kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "ServingEndpoint" && o.metadata.name === ep)!;

  before(async () => {
    s = await startMlflowServer();
    cacheRoot = mkdtempSync(join(tmpdir(), "model-cache-"));
    dir = join(s.work, "iris-dir");
    const out = s.python(TRAIN, dir);
    assert.match(out, /ok/);
    runIds = [...out.matchAll(/^run ([0-9a-f]{32})$/gm)].map((m) => m[1]!);
    assert.equal(runIds.length, 2);
  }, { timeout: 600_000 });
  after(() => {
    s?.stop();
    if (cacheRoot !== "") rmSync(cacheRoot, { recursive: true, force: true });
  });

  it("models:/fraud@champion and the directory: runtime, flavor, version, upload and digest from the model", { timeout: 300_000 }, async () => {
    const ev = await plan([endpoint("fraud-registry", "models:/fraud@champion"), endpoint("fraud-dir", dir)]);
    // The registry model: version 1 (the alias), digest = what MLflow's own client downloads, hashed by coreutils.
    const dl = mkdtempSync(join(tmpdir(), "mlflow-dl-"));
    try {
      const env = requirePythonEnv();
      execFileSync(env.bin("mlflow"), ["artifacts", "download", "--artifact-uri", "models:/fraud/1", "--dst-path", dl], { env: { ...process.env, MLFLOW_TRACKING_URI: s.uri }, stdio: "ignore" });
      const want = coreutilsDigest(dl);
      const [pub] = publication(ev, "fraud-registry");
      assert.equal(pub?.inputs.digest, want, "the publication's digest is the manifest of the version's files");
      assert.equal(pub?.inputs.version, "v1");
      assert.equal(pub?.inputs.source, "models:/fraud/1");
      const [dep] = deployments(ev, "fraud-registry");
      assert.equal(dep?.metadata.name, "fraud-registry-v1");
      assert.equal(dep?.spec.template.metadata.annotations["serving.autopilot.dev/model-digest"], want);
      assert.match(String((dep?.spec.template.spec.initContainers as Obj[])[0]!.args[0]), new RegExp(want.slice(7)));
      // The Deployment waits for the publication.
      const depRes = ofType(ev, "kubernetes:apps/v1:Deployment").find((r) => (r.inputs.metadata as Obj).name === "fraud-registry-v1")!;
      assert.ok(depRes.dependencies.includes(pub!.urn), "the Deployment depends on its ModelPublication");
      const spec = cr(ev, "fraud-registry").spec;
      assert.equal(spec.runtime.kind, "mlflow");
      assert.equal(spec.model.flavor, "sklearn");
      assert.ok(spec.model.size.bytes > 0);
      assert.deepEqual(spec.trafficSplit.map((t: Obj) => `${t.version}:${t.weight}`), ["v1:100"]);
      // The version's serving image: the model's Python and pinned requirements (as MLflow wrote them), built here.
      const requirements = execFileSync("/bin/sh", ["-c", "grep -v '^#' requirements.txt"], { cwd: dl, encoding: "utf8" }).trim().split("\n");
      const sklearn = requirements.find((r) => r.startsWith("scikit-learn=="))!;
      const build = imageBuilds(ev).find((b) => (b.inputs.tags as string[]).includes(serverImage(ev, "fraud-registry")));
      assert.ok(build !== undefined, `a docker-build Image is tagged ${serverImage(ev, "fraud-registry")}`);
      const dockerfile = String((build.inputs.dockerfile as Obj).inline);
      assert.match(dockerfile, /^FROM docker\.io\/library\/python:3\.\d+\.\d+-slim-bookworm$/m);
      assert.ok(dockerfile.includes(`'${sklearn}'`), `the image installs ${sklearn}`);
      assert.match(serverImage(ev, "fraud-registry"), /^autopilot\/model-serving:py3\.\d+-[0-9a-f]{16}$/);
    } finally {
      rmSync(dl, { recursive: true, force: true });
    }
    // The directory: content-addressed label, digest of its files.
    const [pub] = publication(ev, "fraud-dir");
    const want = coreutilsDigest(dir);
    assert.equal(pub?.inputs.digest, want);
    assert.equal(pub?.inputs.version, `c-${want.slice(7, 19)}`);
    assert.equal(cr(ev, "fraud-dir").spec.runtime.kind, "mlflow");
    assert.equal(cr(ev, "fraud-dir").spec.model.flavor, "sklearn");
  });

  it("moving the alias to version 2 changes the plan to v2 (new Deployment, traffic, digest); a split canaries it", { timeout: 300_000 }, async () => {
    const before1 = publication(await plan([endpoint("fraud-registry", "models:/fraud@champion")]), "fraud-registry")[0]!.inputs.digest;
    s.python(`import mlflow; mlflow.MlflowClient().set_registered_model_alias("fraud", "champion", "2")`);
    try {
      const ev = await plan([endpoint("fraud-registry", "models:/fraud@champion")]);
      assert.deepEqual(deployments(ev, "fraud-registry").map((d) => d.metadata.name), ["fraud-registry-v2"]);
      assert.deepEqual(cr(ev, "fraud-registry").spec.trafficSplit.map((t: Obj) => `${t.version}:${t.weight}`), ["v2:100"]);
      const [pub] = publication(ev, "fraud-registry");
      assert.equal(pub?.inputs.version, "v2");
      assert.notEqual(pub?.inputs.digest, before1);
      // Same training code, same requirements: v2 runs the image v1 ran.
      assert.equal(serverImage(ev, "fraud-registry"), serverImage(await plan([endpoint("fraud-registry", "models:/fraud/1")]), "fraud-registry"));
      const canary = await plan([endpoint("fraud-registry", "models:/fraud/1", { trafficSplit: [{ uri: "models:/fraud/1", weight: 90 }, { uri: "models:/fraud@champion", weight: 10 }] })]);
      assert.deepEqual(cr(canary, "fraud-registry").spec.trafficSplit.map((t: Obj) => `${t.version}:${t.weight}`), ["v1:90", "v2:10"]);
      assert.deepEqual(publication(canary, "fraud-registry").map((p) => p.inputs.version).sort(), ["v1", "v2"]);
    } finally {
      s.python(`import mlflow; mlflow.MlflowClient().set_registered_model_alias("fraud", "champion", "1")`);
    }
  });

  it("runs:/<run-id>/model: the run's logged model, label r-<run id>, digest of what MLflow's client downloads", { timeout: 300_000 }, async () => {
    const runId = runIds[1]!;
    const ev = await plan([endpoint("fraud-run", `runs:/${runId}/model`)]);
    const dl = mkdtempSync(join(tmpdir(), "mlflow-run-dl-"));
    try {
      // MLflow's client puts a run's logged model under <dst>/<name>/ and prints where.
      const at = execFileSync(requirePythonEnv().bin("mlflow"), ["artifacts", "download", "--artifact-uri", `runs:/${runId}/model`, "--dst-path", dl], { env: { ...process.env, MLFLOW_TRACKING_URI: s.uri }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n").pop()!;
      assert.ok(at.startsWith(dl), at);
      const [pub] = publication(ev, "fraud-run");
      assert.equal(pub?.inputs.digest, coreutilsDigest(at), "the digest is the manifest of the run's model files");
      assert.equal(pub?.inputs.version, `r-${runId.slice(0, 12)}`);
      assert.equal(pub?.inputs.source, `runs:/${runId}/model`);
    } finally {
      rmSync(dl, { recursive: true, force: true });
    }
    assert.deepEqual(deployments(ev, "fraud-run").map((d) => d.metadata.name), [`fraud-run-r-${runId.slice(0, 12)}`]);
    assert.equal(cr(ev, "fraud-run").spec.model.flavor, "sklearn");
    // Same run as registry version 2: same files, same digest.
    const v2 = publication(await plan([endpoint("fraud-registry", "models:/fraud/2")]), "fraud-registry")[0]!;
    assert.equal(publication(ev, "fraud-run")[0]!.inputs.digest, v2.inputs.digest);
    await assert.rejects(plan([endpoint("no-run", `runs:/${"0".repeat(32)}/model`), endpoint("fine", dir)]),
      /endpoint "no-run": field "model\.uri" has value "runs:\/0{32}\/model" \(runs:\/0{32}\/model: http:\/\/127\.0\.0\.1:\d+ answered 404 RESOURCE_DOES_NOT_EXIST/);
    await assert.rejects(plan([endpoint("no-path", `runs:/${runId}/not-there`)]),
      new RegExp(`endpoint "no-path": field "model\\.uri" .*run ${runId} has no artifact or logged model named "not-there"`));
  });

  it("bad registry input fails before any resource, naming the endpoint, the field and why", { timeout: 120_000 }, async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const cases: [EndpointDeclaration[], string | undefined, RegExp][] = [
      [[endpoint("a", "models:/fraud@nope")], undefined, /endpoint "a": field "model.uri" has value "models:\/fraud@nope" \(models:\/fraud@nope: http:\/\/127\.0\.0\.1:\d+ answered 400 INVALID_PARAMETER_VALUE: Registered model alias nope not found\.\)/],
      [[endpoint("b", "models:/missing/3")], undefined, /endpoint "b": field "model.uri" has value "models:\/missing\/3" \(models:\/missing\/3: .* answered 404 RESOURCE_DOES_NOT_EXIST/],
      [[endpoint("c", "models:/fraud@champion")], closed, /endpoint "c": field "model.uri" .*the MLflow tracking server http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/],
      [[endpoint("d", "models:/fraud/1", { trafficSplit: [{ uri: "models:/fraud/1", weight: 50 }, { uri: "models:/fraud@champion", weight: 50 }] })], undefined, /endpoint "d": field "trafficSplit\[1\]\.uri" has value "models:\/fraud@champion" \(it resolves to v1, as trafficSplit\[0\]\.uri does\)/],
    ];
    for (const [decls, uri, re] of cases) {
      await assert.rejects(plan([...decls, endpoint("fine", dir)], uri ?? s.uri), (e: Error) => {
        assert.equal(e.name, "DeclarationError");
        assert.match(e.message, re);
        assert.doesNotMatch(e.message, /"fine"/, "the good endpoint is not blamed");
        return true;
      });
    }
    await assert.rejects(evaluateStack("local", { declare: () => [endpoint("e", "models:/fraud/1")], fetch: { cacheRoot } }),
      /endpoint "e": field "model.uri" .*no MLflow tracking server is configured \(stack config mlflowTrackingUri/);
  });
});
