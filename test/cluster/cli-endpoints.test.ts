/**
 * `npx autopilot endpoints` against the real kube-apiserver (tools/control-plane): the rendered CRD and the local
 * stack's rendered ServingEndpoint objects applied, a status written through the status subresource as the
 * controller does, then the CLI (a process, kubeconfig from the control plane) prints ready/desired replicas,
 * target concurrency, QPS and the traffic split. A ServiceAccount without RBAC gets exit 4 naming the 403.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubeObject } from "../../tools/control-plane/kube-rest.ts";
import { evaluated, kubeObjects } from "../infra/helpers.ts";
import { ensureNamespace, useControlPlane, waitEstablished } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(ROOT, "controller", "src", "cli", "autopilot.mjs"), ...args], { cwd: ROOT, env: { ...process.env, KUBECONFIG: "" } });
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (err += d));
    c.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe("autopilot endpoints (real kube-apiserver)", () => {
  const cluster = useControlPlane();

  it("lists the rendered ServingEndpoints with the controller's status; no RBAC → exit 4", { timeout: 300_000 }, async () => {
    const cp = cluster();
    const objs = kubeObjects(await evaluated("local")).map((x) => x.obj as KubeObject);
    const crd = objs.find((o) => o.kind === "CustomResourceDefinition")!;
    await cp.admin.mustApply(crd);
    await waitEstablished(cp.admin, crd.metadata.name);
    const crs = objs.filter((o) => o.kind === "ServingEndpoint");
    for (const cr of crs) {
      await ensureNamespace(cp.admin, String(cr.metadata.namespace));
      await cp.admin.mustApply(cr);
    }
    const fraud = crs.find((c) => c.metadata.name === "fraud-classifier")!;
    const path = `/apis/serving.autopilot.dev/v1alpha1/namespaces/${fraud.metadata.namespace}/servingendpoints/fraud-classifier/status`;
    const res = await cp.admin.request("PATCH", path, { status: { readyReplicas: 2, desiredReplicas: 3, targetConcurrency: 7, observedQps: 12.34 } }, "application/merge-patch+json");
    assert.equal(res.status, 200, JSON.stringify(res.body));

    const r = await cli(["endpoints", "--kubeconfig", cp.kubeconfigPath]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split("\n");
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+RUNTIME\s+READY\s+DESIRED\s+TARGET-CONCURRENCY\s+QPS\s+TRAFFIC$/);
    assert.equal(lines.length, 1 + crs.length);
    const version = (fraud.spec as { trafficSplit: { version: string }[] }).trafficSplit[0]!.version;
    assert.match(r.out, new RegExp(`ep-fraud-classifier\\s+fraud-classifier\\s+mlflow\\s+2\\s+3\\s+7\\s+12\\.3\\s+${version}:100%`));
    const json = await cli(["endpoints", "--kubeconfig", cp.kubeconfigPath, "-n", "ep-text-embedder", "--json"]);
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(JSON.parse(json.out).map((row: { name: string; runtime: string }) => [row.name, row.runtime]), [["text-embedder", "triton"]]);

    await ensureNamespace(cp.admin, "cli-test");
    await cp.admin.mustApply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "nobody", namespace: "cli-test" } });
    const denied = await cli(["endpoints", "--kubeconfig", cp.writeKubeconfig(await cp.serviceAccountToken("cli-test", "nobody"), "nobody")]);
    assert.equal(denied.code, 4);
    assert.match(denied.err, /listing ServingEndpoints answered 403 \(check the kubeconfig's credentials and RBAC: list servingendpoints\)/);
    const missing = await cli(["endpoints", "--kubeconfig", "/nonexistent/kubeconfig"]);
    assert.equal(missing.code, 3);
    assert.match(missing.err, /kubeconfig \/nonexistent\/kubeconfig: /);
  });
});
