/**
 * A version whose model download fails gets a Kubernetes Event saying why, against the real kube-apiserver with
 * the controller's rendered RBAC: an endpoint pod left Pending by its `fetch-model` init container (the status
 * the kubelet writes after the rendered script exits 1 with a digest mismatch — its termination message, as
 * test/infra/rendered-download.test.ts shows the script printing it) is found by the controller's
 * DownloadFailureReporter, listing with the controller's own ServiceAccount token (TokenRequest), which writes one
 * Warning Event `ModelDownloadFailed` on the ServingEndpoint naming the version and the reason; a second pass
 * writes nothing new; a healthy Pending pod and an unlabelled one get none. Without the pods rule the listing is
 * refused by the API server's RBAC (403).
 */
import assert from "node:assert/strict";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { describe, it } from "node:test";
import { controllerClusterRules, controllerRbac } from "../../controller/src/contract/rbac.ts";
import { ENDPOINT_LABEL, VERSION_LABEL } from "../../controller/src/contract/labels.ts";
import { DownloadFailureReporter } from "../../controller/src/kube/download-failures.ts";
import { kubeConfigForUrl, makeKubeApi } from "../../controller/src/kube/kube-api.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { ensureNamespace, useControlPlane } from "./helpers.ts";

const cluster = useControlPlane();
const NS = "ep-fraud";
const MISMATCH = `fetch-model: manifest s3://autopilot-models/fraud/v2/SHA256SUMS has digest sha256:${"a".repeat(64)} but the endpoint declares sha256:${"0".repeat(64)} (the version changed after its digest was taken, or the digest is wrong)`;

interface Event { reason: string; type: string; note: string; regarding: { kind: string; name: string; namespace: string }; related?: { kind: string; name: string }; reportingController: string }

describe("model download failures become Events on the ServingEndpoint (real API server, rendered RBAC)", () => {
  it("one Warning Event per failing pod, naming the version and the reason; none for healthy or unlabelled pods", { timeout: 120_000 }, async () => {
    const api = cluster().admin;
    const rbac = controllerRbac();
    await ensureNamespace(api, "autopilot-system");
    await ensureNamespace(api, NS);
    for (const o of [rbac.serviceAccount, rbac.clusterRole, rbac.clusterRoleBinding]) await api.mustApply(o as never);
    // No controller-manager here to make the namespace's default ServiceAccount the pods run as.
    await api.mustApply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: NS } } as never);
    const token = await cluster().serviceAccountToken("autopilot-system", "apa-controller");
    const pod = async (name: string, labels: Record<string, string>, initStatus?: Record<string, unknown>) => {
      await api.mustApply({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: NS, labels }, spec: { initContainers: [{ name: "fetch-model", image: "amazon/aws-cli:2.22.0" }], containers: [{ name: "server", image: "mlflow:1" }] } } as never);
      if (initStatus !== undefined) {
        const r = await api.request("PATCH", `/api/v1/namespaces/${NS}/pods/${name}/status`, { status: { phase: "Pending", initContainerStatuses: [{ name: "fetch-model", image: "amazon/aws-cli:2.22.0", imageID: "", ready: false, restartCount: 2, ...initStatus }] } }, "application/merge-patch+json");
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
    };
    const labels = (version: string) => ({ [ENDPOINT_LABEL]: "fraud", [VERSION_LABEL]: version });
    // The kubelet's view after two failed runs: waiting in back-off, the last run's termination message kept.
    await pod("fraud-v2-abc", labels("v2"), {
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: { terminated: { exitCode: 1, reason: "Error", message: `download: s3://autopilot-models/fraud/v2/MLmodel to ../MLmodel\n${MISMATCH}\n`, startedAt: "2026-12-03T17:00:00Z", finishedAt: "2026-12-03T17:00:02Z" } },
    });
    await pod("fraud-v1-ok", labels("v1"), { state: { running: { startedAt: "2026-12-03T17:00:00Z" } } });
    await pod("stray", {}, { state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, reason: "Error", message: "fetch-model: no manifest" } } });

    const kc = kubeConfigForUrl(cluster().server, token);
    const core = kc.makeApiClient(CoreV1Api);
    const k = makeKubeApi(kc);
    const reporter = new DownloadFailureReporter({
      listPendingPods: async () => (await core.listPodForAllNamespaces({ labelSelector: ENDPOINT_LABEL, fieldSelector: "status.phase=Pending" })).items as V1Pod[],
      createEvent: (ns, e) => k.createEvent(ns, e), isLeader: () => true, nowMs: () => Date.now(), log: silentLogger, instance: "ctl-test",
    });
    await reporter.poll();
    await reporter.poll();
    assert.equal(reporter.created, 1);
    const events = (await api.get<{ items: Event[] }>(`/apis/events.k8s.io/v1/namespaces/${NS}/events`)).items.filter((e) => e.reason === "ModelDownloadFailed");
    assert.equal(events.length, 1, "one Event, not one per pass");
    const e = events[0]!;
    assert.equal(e.type, "Warning");
    assert.deepEqual({ kind: e.regarding.kind, name: e.regarding.name, namespace: e.regarding.namespace }, { kind: "ServingEndpoint", name: "fraud", namespace: NS });
    assert.deepEqual({ kind: e.related?.kind, name: e.related?.name }, { kind: "Pod", name: "fraud-v2-abc" });
    assert.equal(e.note, `version v2 cannot start, its model download failed (pod fraud-v2-abc, 2 restarts): ${MISMATCH}; the other versions keep serving`.slice(0, 1024));
    assert.equal(e.reportingController, "serving.autopilot.dev/apa-controller");

    // The rule is what makes the listing possible: a token bound to the other controller rules only is refused.
    const without = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "no-pod-read" }, rules: controllerClusterRules().map(({ reason: _r, ...r }) => r) };
    await api.mustApply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "no-pod-read", namespace: "autopilot-system" } } as never);
    await api.mustApply(without as never);
    await api.mustApply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "no-pod-read" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "no-pod-read" }, subjects: [{ kind: "ServiceAccount", name: "no-pod-read", namespace: "autopilot-system" }] } as never);
    const other = cluster().clientFor(await cluster().serviceAccountToken("autopilot-system", "no-pod-read"));
    assert.equal((await other.request("GET", `/api/v1/pods?labelSelector=${encodeURIComponent(ENDPOINT_LABEL)}`)).status, 403);
    const sa = cluster().clientFor(token);
    assert.equal((await sa.request("GET", `/api/v1/pods?labelSelector=${encodeURIComponent(ENDPOINT_LABEL)}`)).status, 200);
    assert.equal((await sa.request("GET", `/api/v1/namespaces/${NS}/pods/fraud-v2-abc`)).status, 403, "list only: no get, no watch");
  });
});
