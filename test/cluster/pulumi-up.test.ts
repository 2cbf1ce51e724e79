/**
 * `pulumi up --stack local` with the real Pulumi engine (the CLI built from github.com/pulumi/pulumi/pkg/v3)
 * and the real Kubernetes provider (built from github.com/pulumi/pulumi-kubernetes/provider/v4) against the
 * real control plane with kwok nodes: file backend, passphrase secrets, the committed Pulumi.yaml and
 * Pulumi.local.yaml (copied to a scratch directory so nothing in the repository is written) switched to the
 * no-remote-chart local mode of docs/infra.md — an external S3-compatible store (moto on loopback), observability
 * and metrics-server off, the gateway certificate from config — with the kube context pointed at the test
 * cluster. The Node.js language host's Go module is not served by the module proxy, so the program runs as an
 * Automation API inline program (the Node process is the language runtime the engine calls).
 *
 * Up; every example endpoint's Deployments Ready (kwok pods) and its ServingEndpoint accepted; the controller's
 * scale write kept by a second up that changes nothing; destroy leaves nothing of ours in the cluster.
 *
 * Runs when the engine is built (`AUTOPILOT_PULUMI=1 node tools/setup.ts`, or node tools/pulumi/build.ts).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { declareEndpoints } from "../../infra/endpoints.ts";
import { readStackConfig, runProgram } from "../../infra/program.ts";
import { endpointNamespace, versionName } from "../../components/endpoint/endpoint-spec.ts";
import { FIELD_MANAGER } from "../../controller/src/contract/labels.ts";
import { SERVING_API_VERSION, SERVING_PLURAL } from "../../controller/src/contract/crd/types.ts";
import { PULUMI_BIN_DIR, PULUMI_ROOT, pulumiIsCurrent } from "../../tools/pulumi/build.ts";
import { startS3Server, type S3Server } from "../gateway/s3-server.ts";
import { eventually, useControlPlane } from "./helpers.ts";
import { kwokNode } from "./peers.ts";
import { LoadBalancerDouble, noRemoteChartStackFile, selfSignedCertificate } from "./pulumi-stack.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const built = pulumiIsCurrent();
const cluster = built ? useControlPlane({ nodes: true }) : undefined;
/** The address the load-balancer test double hands out (TEST-NET-1: nothing answers there). */
const LB_ADDRESS = "192.0.2.10";
const ENDPOINTS = declareEndpoints({ environment: "dev" });

interface Deployment {
  readonly spec: { readonly replicas: number };
  readonly status: { readonly readyReplicas?: number; readonly updatedReplicas?: number };
}

describe("pulumi up --stack local with the real engine and Kubernetes provider", { skip: built ? false : "the Pulumi engine is not built (AUTOPILOT_PULUMI=1 node tools/setup.ts)" }, () => {
  let work = "";
  let s3: S3Server;
  let lb: LoadBalancerDouble;
  let stack: Stack;
  const log: string[] = [];
  const onOutput = (line: string) => void log.push(line);
  const tail = () => log.join("").split("\n").slice(-80).join("\n");

  before(async () => {
    const cp = cluster!();
    for (let i = 1; i <= 3; i++) await cp.admin.mustApply(kwokNode(`kwok-local-${i}`, {}));
    lb = new LoadBalancerDouble(cp.admin, LB_ADDRESS);
    lb.start();
    s3 = await startS3Server();
    await s3.createBucket("models");
    work = mkdtempSync(join(tmpdir(), "autopilot-pulumi-"));
    const tls = selfSignedCertificate("gateway.autopilot.test");
    copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(work, "Pulumi.yaml"));
    writeFileSync(join(work, "Pulumi.local.yaml"), noRemoteChartStackFile(readFileSync(join(REPO_ROOT, "Pulumi.local.yaml"), "utf8"), {
      kubeContext: "autopilot-test", storeUrl: s3.endpoint, storeAccessKeyId: s3.credentials.accessKeyId, gatewayTlsCert: tls.cert,
    }));
    const pulumiCommand = await PulumiCommand.get({ root: PULUMI_ROOT, skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      {
        stackName: "local",
        projectName: "autopilot-serving",
        program: async () => {
          const out = runProgram(readStackConfig());
          return { gatewayUrl: out.gatewayUrl, gatewayCaCertificate: out.gatewayCaCertificate, grafanaUrl: out.grafanaUrl, endpointUrls: out.endpointUrls };
        },
      },
      {
        workDir: work,
        pulumiCommand,
        secretsProvider: "passphrase",
        envVars: {
          PULUMI_BACKEND_URL: `file://${join(work, "state")}`,
          PULUMI_CONFIG_PASSPHRASE: "autopilot-test-passphrase",
          PULUMI_HOME: join(work, "home"),
          PULUMI_SKIP_UPDATE_CHECK: "true",
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
          KUBECONFIG: cp.kubeconfigPath,
          // The provider binary is found on PATH (an "ambient" plugin): nothing is downloaded.
          PATH: `${PULUMI_BIN_DIR}:${process.env["PATH"] ?? ""}`,
        },
      },
    );
    // The keys the program treats as secrets, set as `pulumi config set --secret` would (encrypted in the stack file).
    await stack.setConfig("autopilot-serving:localModelStoreSecretAccessKey", { value: s3.credentials.secretAccessKey, secret: true });
    await stack.setConfig("autopilot-serving:gatewayTlsKey", { value: tls.key, secret: true });
  });

  after(async () => {
    lb?.stop();
    await s3?.stop();
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("up creates the stack under the real engine and provider", { timeout: 1_800_000 }, async (t) => {
    const started = Date.now();
    const up = await stack.up({ onOutput }).catch((err: unknown) => {
      throw new Error(`pulumi up failed: ${err instanceof Error ? err.message : String(err)}\n${tail()}`);
    });
    assert.equal(up.summary.result, "succeeded");
    t.diagnostic(`up: ${JSON.stringify(up.summary.resourceChanges)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    assert.equal(up.outputs["gatewayUrl"]?.value, `https://${LB_ADDRESS}`);
    assert.deepEqual(Object.keys(up.outputs["endpointUrls"]?.value as Record<string, string>).sort(), ENDPOINTS.map((e) => e.name).sort());
    assert.ok(lb.assigned.includes("autopilot-gateway/gateway"), `load balancer addresses given: ${lb.assigned.join(", ")}`);
  });

  it("every example endpoint's Deployments are Ready and its ServingEndpoint is accepted", async () => {
    const api = cluster!().admin;
    for (const e of ENDPOINTS) {
      const ns = endpointNamespace(e.name);
      for (const v of e.versions) {
        const d = await api.get<Deployment>(`/apis/apps/v1/namespaces/${ns}/deployments/${versionName(e.name, v.version)}`);
        assert.ok(d.spec.replicas >= 1 && d.status.readyReplicas === d.spec.replicas, `${ns}/${versionName(e.name, v.version)}: ${JSON.stringify(d.status)}`);
      }
      const se = await api.get<{ spec: { traffic?: unknown } }>(`/apis/${SERVING_API_VERSION}/namespaces/${ns}/${SERVING_PLURAL}/${e.name}`);
      assert.ok(se.spec !== undefined);
    }
  });

  it("a second up changes nothing and keeps the replicas the controller set", { timeout: 1_200_000 }, async (t) => {
    const api = cluster!().admin;
    const e = ENDPOINTS[0]!;
    const path = `/apis/apps/v1/namespaces/${endpointNamespace(e.name)}/deployments/${versionName(e.name, e.versions[0]!.version)}`;
    const before = (await api.get<Deployment>(path)).spec.replicas;
    // What the APA controller does: a scale-subresource write under its own field manager.
    const scaled = await api.request("PATCH", `${path}/scale?fieldManager=${FIELD_MANAGER}`, { spec: { replicas: before + 1 } }, "application/merge-patch+json");
    assert.equal(scaled.status, 200, JSON.stringify(scaled.body));
    await eventually(async () => (await api.get<Deployment>(path)).status.readyReplicas === before + 1, 120_000, `${path} at ${before + 1} ready replicas`);
    const preview = await stack.preview({ diff: true, onOutput });
    const changed = Object.entries(preview.changeSummary).filter(([k, n]) => k !== "same" && n > 0);
    assert.deepEqual(changed, [], `preview would change: ${JSON.stringify(preview.changeSummary)}\n${tail()}`);
    const again = await stack.up({ onOutput });
    t.diagnostic(`second up: ${JSON.stringify(again.summary.resourceChanges)}`);
    assert.deepEqual(Object.entries(again.summary.resourceChanges ?? {}).filter(([k, n]) => k !== "same" && n > 0), []);
    assert.equal((await api.get<Deployment>(path)).spec.replicas, before + 1, "the second up undid the controller's scale");
  });

  it("destroy leaves nothing of ours in the cluster", { timeout: 1_200_000 }, async (t) => {
    const api = cluster!().admin;
    const destroyed = await stack.destroy({ onOutput }).catch((err: unknown) => {
      throw new Error(`pulumi destroy failed: ${err instanceof Error ? err.message : String(err)}\n${tail()}`);
    });
    assert.equal(destroyed.summary.result, "succeeded");
    t.diagnostic(`destroy: ${JSON.stringify(destroyed.summary.resourceChanges)}`);
    const names = async (path: string) => (await api.get<{ items: { metadata: { name: string; labels?: Record<string, string> } }[] }>(path)).items;
    // Namespace deletion is asynchronous (the namespace controller empties it first); Pulumi waits for it.
    const namespaces = (await names("/api/v1/namespaces")).map((n) => n.metadata.name).filter((n) => n.startsWith("autopilot-") || n.startsWith("ep-"));
    assert.deepEqual(namespaces, []);
    const crds = (await names("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")).map((c) => c.metadata.name).filter((n) => n.endsWith(".autopilot.dev"));
    assert.deepEqual(crds, []);
    for (const path of ["/apis/rbac.authorization.k8s.io/v1/clusterroles", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "/apis/scheduling.k8s.io/v1/priorityclasses"]) {
      const ours = (await names(path)).filter((o) => o.metadata.labels?.["app.kubernetes.io/part-of"] === "autopilot-serving" || o.metadata.name.includes("autopilot"));
      assert.deepEqual(ours.map((o) => o.metadata.name), [], path);
    }
  });
});
