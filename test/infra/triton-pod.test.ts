/**
 * The Triton endpoint's pod as the program renders it (local stack, `text-embedder`, under Pulumi's mocks): Triton
 * serves the repository the adapter's init step prepares, and the adapter — on the pod's serving port, the
 * Service's `http` target — answers the MLflow protocol by calling Triton on localhost. The init step and the
 * adapter then run with their rendered arguments against the example onnx model and a KServe-v2 TEST DOUBLE of
 * Triton (Triton cannot run here). Paths are re-rooted under a temporary directory, the port mapped to a free
 * one, the bind address to 127.0.0.1 and the server URL to the double's; every other argument is the rendered one.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { startKserveV2Double } from "../../bench/adapter/kserve-v2-double.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { ADAPTER_MAIN } from "../../components/endpoint/endpoint-spec.ts";
import { curl, EXPECTED, irisBodies } from "../serving/helpers.ts";
import { evaluated, kubeObjects, type Obj } from "./helpers.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SOURCE_OF = (builtJs: string): string => join(REPO, builtJs.replace(/^dist\//, "").replace(/\.js$/, ".ts"));

async function rendered(): Promise<{ dep: Obj; svc: Obj }> {
  const objs = kubeObjects(await evaluated("local")).map((x) => x.obj);
  const dep = objs.find((o) => o.kind === "Deployment" && o.metadata.name.startsWith("text-embedder-c-"));
  const svc = objs.find((o) => o.kind === "Service" && o.metadata.name.startsWith("text-embedder-c-"));
  assert.ok(dep && svc, "text-embedder Deployment and Service");
  return { dep, svc };
}

const arg = (args: readonly string[], flag: string): string => {
  const eq = args.find((a) => a.startsWith(`${flag}=`));
  if (eq !== undefined) return eq.slice(flag.length + 1);
  const i = args.indexOf(flag);
  assert.ok(i >= 0 && i + 1 < args.length, `${flag} in ${args.join(" ")}`);
  return args[i + 1] as string;
};

describe("Triton endpoint pod (rendered): Triton + the MLflow-protocol adapter", () => {
  const work = mkdtempSync(join(tmpdir(), "triton-pod-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("wiring: init steps fetch then prepare; Triton reads what prepare writes; the adapter has the serving port and calls Triton on localhost", async () => {
    const { dep, svc } = await rendered();
    const pod = dep.spec.template.spec;
    assert.deepEqual(pod.initContainers.map((c: Obj) => c.name), ["fetch-model", "triton-repository"]);
    assert.deepEqual(pod.containers.map((c: Obj) => c.name), ["server", "mlflow-adapter"]);
    const [triton, adapter] = pod.containers as [Obj, Obj];
    const prepare = pod.initContainers[1] as Obj;
    assert.equal(adapter.image, prepare.image);
    assert.equal(prepare.args[0], ADAPTER_MAIN);
    assert.equal(prepare.args[1], "prepare");
    assert.equal(adapter.args[1], "serve");
    // The repository prepare writes is Triton's, on the same volume.
    const repo = arg(prepare.args, "--repository");
    assert.equal(arg(triton.args, "--model-repository"), repo);
    const mountOf = (c: Obj, path: string) => (c.volumeMounts as Obj[]).find((m) => m.mountPath === path);
    assert.equal(mountOf(prepare, repo)?.name, "triton-repository");
    assert.equal(mountOf(triton, repo)?.name, "triton-repository");
    assert.equal(mountOf(triton, repo)?.readOnly, true);
    assert.ok((pod.volumes as Obj[]).some((v) => v.name === "triton-repository" && v.emptyDir !== undefined));
    // The model is mounted at the same path in prepare, Triton (the links point there) and the adapter (MLmodel).
    const modelDir = arg(prepare.args, "--model-dir");
    assert.equal(arg(adapter.args, "--model-dir"), modelDir);
    for (const c of [prepare, triton, adapter]) assert.equal(mountOf(c, modelDir)?.subPath, (mountOf(triton, modelDir) as Obj).subPath);
    // Names and ports line up.
    assert.equal(arg(prepare.args, "--model-name"), "text-embedder");
    assert.equal(arg(adapter.args, "--model-name"), "text-embedder");
    assert.equal(new URL(arg(adapter.args, "--server")).port, arg(triton.args, "--http-port"));
    assert.equal(new URL(arg(adapter.args, "--server")).hostname, "127.0.0.1");
    const http = (adapter.ports as Obj[]).find((p) => p.name === "http");
    assert.equal(String(http?.containerPort), arg(adapter.args, "--port"));
    assert.equal(svc.spec.ports[0].targetPort, "http");
    assert.ok(!(triton.ports as Obj[]).some((p) => p.name === "http"), "Triton's own port is not the serving port");
    // Readiness: the adapter's /ping (Triton and the model ready); Triton keeps its own probes.
    assert.equal(adapter.readinessProbe.httpGet.path, "/ping");
    assert.equal(String(adapter.readinessProbe.httpGet.port), arg(adapter.args, "--port"));
    assert.equal(triton.readinessProbe.httpGet.path, "/v2/health/ready");
    for (const c of [prepare, adapter]) {
      assert.equal(c.securityContext.runAsNonRoot, true);
      assert.deepEqual(c.resources.requests, c.resources.limits);
    }
  });

  it("as rendered: prepare's and the adapter's arguments, run against the example model and the Triton test double, give {\"predictions\": …}", async (t) => {
    const { dep } = await rendered();
    const pod = dep.spec.template.spec;
    const prepare = pod.initContainers[1] as Obj;
    const [triton, adapter] = pod.containers as [Obj, Obj];
    // Re-root the pod's absolute paths under `work`; the published model (the example onnx model) at the model mount.
    const reroot = (a: string): string => (a.startsWith("/") ? join(work, a) : a);
    const modelDir = reroot(arg(prepare.args, "--model-dir"));
    mkdirSync(modelDir, { recursive: true });
    cpSync(join(REPO, "examples/models/iris-onnx"), modelDir, { recursive: true });
    const prepared = execFileSync(process.execPath, [SOURCE_OF(prepare.args[0]), ...prepare.args.slice(1).map(reroot)], { encoding: "utf8" });
    t.diagnostic(prepared.trim());
    // The test double loads the repository with the batch size Triton is rendered with.
    const batch = Number(arg(triton.args, "--backend-config").replace(/^default-max-batch-size=/, ""));
    assert.equal(batch, 64);
    const double = await startKserveV2Double({ repository: reroot(arg(triton.args, "--model-repository")), defaultMaxBatchSize: batch });
    const port = await freePort();
    const serveArgs = (adapter.args as string[]).slice(1).map(reroot).map((a, i, all) => {
      if (all[i - 1] === "--port") return String(port);
      if (all[i - 1] === "--server") return double.url;
      if (all[i - 1] === "--host") return "127.0.0.1";
      return a;
    });
    const child = spawn(process.execPath, [SOURCE_OF(adapter.args[0]), ...serveArgs, "--host", "127.0.0.1"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`adapter exited ${code}`)));
        createInterface({ input: child.stdout! }).once("line", () => resolve());
      });
      const ping = await curl(`http://127.0.0.1:${port}${adapter.readinessProbe.httpGet.path}`);
      assert.equal(ping.status, 200);
      const r = await curl(`http://127.0.0.1:${port}/invocations`, { data: irisBodies().dataframe_records });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json, { predictions: EXPECTED.labels.map((label) => ({ label })) });
    } finally {
      child.kill("SIGTERM");
      await double.close();
    }
  });
});
