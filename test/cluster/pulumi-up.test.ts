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
 * Up; every example endpoint's Deployments Ready (kwok pods); the real controller process, run with the arguments
 * and the ServiceAccount the stack deployed (kwok runs no containers), marks every ServingEndpoint Ready and
 * scales one up from gateway samples (a gateway TEST DOUBLE); a second up changes nothing and keeps that scale;
 * destroy leaves nothing of ours in the cluster.
 *
 * Runs when the engine is built (`AUTOPILOT_PULUMI=1 node tools/setup.ts`, or node tools/pulumi/build.ts).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { declareEndpoints } from "../../infra/endpoints.ts";
import { resolveEndpoints } from "../../components/model/resolve-endpoints.ts";
import { prepareStack, readStackConfig, runProgram } from "../../infra/program.ts";
import { endpointNamespace, versionName } from "../../components/endpoint/endpoint-spec.ts";
import { poolLabels, poolPlacement } from "../../components/node-pool/node-pool-spec.ts";
import { FIELD_MANAGER } from "../../controller/src/contract/labels.ts";
import { SYSTEM_NAMESPACE } from "../../controller/src/contract/names.ts";
import { CONTROLLER_NAME } from "../../components/controller/controller-spec.ts";
import { SERVING_API_VERSION, SERVING_PLURAL } from "../../controller/src/contract/crd/types.ts";
import { PULUMI_BIN_DIR, PULUMI_ROOT, pulumiIsCurrent } from "../../tools/pulumi/build.ts";
import { startS3Server, type S3Server } from "../gateway/s3-server.ts";
import { eventually, useControlPlane } from "./helpers.ts";
import { ControllerProcess, GatewayDouble, kwokNode } from "./peers.ts";
import { LoadBalancerDouble, noRemoteChartStackFile, selfSignedCertificate } from "./pulumi-stack.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const built = pulumiIsCurrent();
const cluster = built ? useControlPlane({ nodes: true }) : undefined;
/** The address the load-balancer test double hands out (TEST-NET-1: nothing answers there). */
const LB_ADDRESS = "192.0.2.10";
// The example endpoints as the program resolves them (version labels and digests come from the shipped models).
const ENDPOINTS = (await resolveEndpoints(declareEndpoints({ environment: "dev" }), { cwd: fileURLToPath(new URL("../../", import.meta.url)) })).endpoints;

interface Deployment {
  readonly metadata: { readonly managedFields?: readonly { readonly manager: string; readonly subresource?: string }[] };
  readonly spec: { readonly replicas: number; readonly template: { readonly spec: { readonly serviceAccountName: string; readonly containers: readonly { readonly args?: readonly string[] }[] } } };
  readonly status: { readonly readyReplicas?: number; readonly updatedReplicas?: number };
}

interface ServingEndpointObject {
  readonly spec: { readonly concurrency: { readonly max: number }; readonly replicas: { readonly max: number } };
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string; readonly message?: string }[] };
}

/** The deployed controller's arguments, minus what points into a cluster network this machine lacks (the gateway double instead). */
function controllerArgs(deployed: Deployment, gatewayUrl: string): string[] {
  const rendered = deployed.spec.template.spec.containers[0]?.args ?? [];
  const out: string[] = [];
  for (let i = 0; i < rendered.length; i += 2) {
    if (["--gateway-service", "--gateway-metrics-port", "--gateway-metrics-path", "--prometheus-url"].includes(rendered[i]!)) continue;
    out.push(rendered[i]!, rendered[i + 1]!);
  }
  return [...out, "--gateway-url", gatewayUrl, "--lease-duration-ms", "4000", "--renew-deadline-ms", "3000", "--retry-period-ms", "500"];
}

describe("pulumi up --stack local with the real engine and Kubernetes provider", { skip: built ? false : "the Pulumi engine is not built (AUTOPILOT_PULUMI=1 node tools/setup.ts)" }, () => {
  let work = "";
  let s3: S3Server;
  let lb: LoadBalancerDouble;
  let stack: Stack;
  const gateway = new GatewayDouble();
  let controller: ControllerProcess | undefined;
  const log: string[] = [];
  const onOutput = (line: string) => void log.push(line);
  const tail = () => log.join("").split("\n").slice(-80).join("\n");

  before(async () => {
    const cp = cluster!();
    const pool = poolLabels(poolPlacement("local", "cpu", "cpu", "kind-node"));
    for (let i = 1; i <= 3; i++) await cp.admin.mustApply(kwokNode(`kwok-local-${i}`, pool));
    await gateway.start();
    lb = new LoadBalancerDouble(cp.admin, LB_ADDRESS);
    lb.start();
    s3 = await startS3Server();
    await s3.createBucket("models");
    work = mkdtempSync(join(tmpdir(), "autopilot-pulumi-"));
    mkdirSync(join(work, "state"));
    const tls = selfSignedCertificate("gateway.autopilot.test");
    copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(work, "Pulumi.yaml"));
    // The CLI checks that the project's `main` exists even for an inline program.
    symlinkSync(join(REPO_ROOT, "infra"), join(work, "infra"));
    // A project directory has its node_modules: the dynamic-provider host resolves @pulumi/pulumi from there.
    symlinkSync(join(REPO_ROOT, "node_modules"), join(work, "node_modules"));
    writeFileSync(join(work, "Pulumi.local.yaml"), noRemoteChartStackFile(readFileSync(join(REPO_ROOT, "Pulumi.local.yaml"), "utf8"), {
      kubeContext: "autopilot-test", storeUrl: s3.endpoint, storeAccessKeyId: s3.credentials.accessKeyId, gatewayTlsCert: tls.cert,
    }));
    const pulumiCommand = await PulumiCommand.get({ root: PULUMI_ROOT, skipVersionCheck: true });
    stack = await LocalWorkspace.createOrSelectStack(
      {
        stackName: "local",
        projectName: "autopilot-serving",
        program: async () => {
          const cfg = readStackConfig();
          const out = runProgram(cfg, await prepareStack(cfg));
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
    // Hermetic: the example's pinned requirements are not checked against PyPI (test/models/requirements-index.test.ts covers the check).
    await stack.setConfig("autopilot-serving:pythonPackageIndexUrl", { value: "" });
    // The keys the program treats as secrets, set as `pulumi config set --secret` would (encrypted in the stack file).
    await stack.setConfig("autopilot-serving:localModelStoreSecretAccessKey", { value: s3.credentials.secretAccessKey, secret: true });
    await stack.setConfig("autopilot-serving:localPayloadLogSecretAccessKey", { value: s3.credentials.secretAccessKey, secret: true });
    await stack.setConfig("autopilot-serving:modelPublishSecretAccessKey", { value: s3.credentials.secretAccessKey, secret: true });
    await stack.setConfig("autopilot-serving:gatewayTlsKey", { value: tls.key, secret: true });
  });

  after(async () => {
    await controller?.stop("SIGKILL");
    await gateway.stop();
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

  it("every example endpoint's Deployments are Ready and the real controller marks every ServingEndpoint Ready", { timeout: 300_000 }, async () => {
    const cp = cluster!();
    const api = cp.admin;
    for (const e of ENDPOINTS) {
      for (const v of e.versions) {
        const path = `/apis/apps/v1/namespaces/${endpointNamespace(e.name)}/deployments/${versionName(e.name, v.version)}`;
        const d = await api.get<Deployment>(path);
        assert.ok(d.spec.replicas >= 1 && d.status.readyReplicas === d.spec.replicas, `${path}: ${JSON.stringify(d.status)}`);
      }
    }
    const deployed = await api.get<Deployment>(`/apis/apps/v1/namespaces/${SYSTEM_NAMESPACE}/deployments/${CONTROLLER_NAME}`);
    const token = await cp.serviceAccountToken(SYSTEM_NAMESPACE, deployed.spec.template.spec.serviceAccountName);
    controller = new ControllerProcess("ctl-pulumi-up", cp.writeKubeconfig(token, CONTROLLER_NAME), controllerArgs(deployed, gateway.url));
    for (const e of ENDPOINTS) {
      const path = `/apis/${SERVING_API_VERSION}/namespaces/${endpointNamespace(e.name)}/${SERVING_PLURAL}/${e.name}`;
      await eventually(
        async () => (await api.get<ServingEndpointObject>(path)).status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        120_000,
        `${path} Ready (controller problems: ${controller.problems()})`,
      );
    }
  });

  it("a second up changes nothing and keeps the replicas the controller set", { timeout: 1_200_000 }, async (t) => {
    const api = cluster!().admin;
    const e = ENDPOINTS[0]!;
    const path = `/apis/apps/v1/namespaces/${endpointNamespace(e.name)}/deployments/${versionName(e.name, e.versions[0]!.version)}`;
    const before = (await api.get<Deployment>(path)).spec.replicas;
    const se = await api.get<ServingEndpointObject>(`/apis/${SERVING_API_VERSION}/namespaces/${endpointNamespace(e.name)}/${SERVING_PLURAL}/${e.name}`);
    // Enough in-flight requests that even the highest per-pod concurrency needs more pods than now.
    gateway.set(e.name, se.spec.concurrency.max * Math.min(se.spec.replicas.max, before + 2));
    const scaled = await eventually(async () => {
      const d = await api.get<Deployment>(path);
      return d.spec.replicas > before && d.status.readyReplicas === d.spec.replicas ? d : undefined;
    }, 180_000, `${path} scaled above ${before} and Ready (controller problems: ${controller?.problems() ?? ""})`);
    assert.ok(scaled.metadata.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.subresource === "scale"), JSON.stringify(scaled.metadata.managedFields));
    await controller?.stop("SIGTERM");
    controller = undefined;
    t.diagnostic(`the controller scaled ${path} ${before} → ${scaled.spec.replicas}`);
    const preview = await stack.preview({ diff: true, onOutput });
    const changed = Object.entries(preview.changeSummary).filter(([k, n]) => k !== "same" && n > 0);
    assert.deepEqual(changed, [], `preview would change: ${JSON.stringify(preview.changeSummary)}\n${tail()}`);
    const again = await stack.up({ onOutput });
    t.diagnostic(`second up: ${JSON.stringify(again.summary.resourceChanges)}`);
    assert.deepEqual(Object.entries(again.summary.resourceChanges ?? {}).filter(([k, n]) => k !== "same" && n > 0), []);
    assert.equal((await api.get<Deployment>(path)).spec.replicas, scaled.spec.replicas, "the second up undid the controller's scale");
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
