/**
 * A version whose model download fails gets a Kubernetes Event saying why, against the real kube-apiserver with
 * the controller's rendered RBAC: an endpoint pod left Pending by its `fetch-model` init container (the status
 * the kubelet writes after the rendered script exits 1 with a digest mismatch — its termination message, as
 * test/infra/rendered-download.test.ts shows the script printing it) is found by the controller's
 * DownloadFailureReporter, listing with the controller's own ServiceAccount token (TokenRequest), which writes one
 * Warning Event `ModelDownloadFailed` on the ServingEndpoint naming the version and the reason; a second pass
 * writes nothing new; a healthy Pending pod and an unlabelled one get none. Without the pods rule the listing is
 * refused by the API server's RBAC (403).
 * Then the same as the controller process runs it: the real entry point (`controller/src/kube/main.ts`, started
 * with `--download-failure-interval-ms 1000`), leader by its Lease, writes exactly one Event for a failing pod
 * and no second one on the polls after; a pod failing later gets its own, so those polls did run.
 */
import assert from "node:assert/strict";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { after, describe, it } from "node:test";
import { controllerClusterRules, controllerRbac } from "../../controller/src/contract/rbac.ts";
import { ENDPOINT_LABEL, VERSION_LABEL } from "../../controller/src/contract/labels.ts";
import { DownloadFailureReporter } from "../../controller/src/kube/download-failures.ts";
import { kubeConfigForUrl, makeKubeApi } from "../../controller/src/kube/kube-api.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { servingEndpointCrd } from "../../controller/src/contract/crd/index.ts";
import { ensureNamespace, eventually, useControlPlane, waitEstablished } from "./helpers.ts";
import { ControllerProcess, GatewayDouble } from "./peers.ts";

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

describe("the controller process reports model download failures (main.ts, real API server)", () => {
  const NS2 = "ep-scorer";
  const INTERVAL_MS = 1000;
  const gateway = new GatewayDouble();
  let ctl: ControllerProcess | undefined;
  after(async () => {
    await ctl?.stop("SIGTERM");
    await gateway.stop();
  });

  it("one ModelDownloadFailed Event per failing pod from the running controller, not repeated on later polls", { timeout: 120_000 }, async () => {
    const api = cluster().admin;
    const rbac = controllerRbac();
    await ensureNamespace(api, "autopilot-system");
    await ensureNamespace(api, NS2);
    const crd = servingEndpointCrd();
    await api.mustApply(crd as never);
    await waitEstablished(api, crd.metadata.name);
    for (const o of [rbac.serviceAccount, rbac.clusterRole, rbac.clusterRoleBinding, rbac.role, rbac.roleBinding]) await api.mustApply(o as never);
    await api.mustApply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: NS2 } } as never);
    // The kubelet's status after a failed fetch-model run, written through the pod's status subresource.
    const failingPod = async (name: string, version: string, message: string) => {
      await api.mustApply({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: NS2, labels: { [ENDPOINT_LABEL]: "scorer", [VERSION_LABEL]: version } }, spec: { initContainers: [{ name: "fetch-model", image: "amazon/aws-cli:2.22.0" }], containers: [{ name: "server", image: "mlflow:1" }] } } as never);
      const r = await api.request("PATCH", `/api/v1/namespaces/${NS2}/pods/${name}/status`, { status: { phase: "Pending", initContainerStatuses: [{ name: "fetch-model", image: "amazon/aws-cli:2.22.0", imageID: "", ready: false, restartCount: 1, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, reason: "Error", message: `${message}\n`, startedAt: "2026-12-05T00:00:00Z", finishedAt: "2026-12-05T00:00:01Z" } } }] } }, "application/merge-patch+json");
      assert.equal(r.status, 200, JSON.stringify(r.body));
    };
    const events = async () => (await api.get<{ items: Event[] }>(`/apis/events.k8s.io/v1/namespaces/${NS2}/events`)).items.filter((e) => e.reason === "ModelDownloadFailed");
    const v2 = `fetch-model: manifest s3://autopilot-models/scorer/v2/SHA256SUMS has digest sha256:${"b".repeat(64)} but the endpoint declares sha256:${"1".repeat(64)} (the version changed after its digest was taken, or the digest is wrong)`;
    await failingPod("scorer-v2-abc", "v2", v2);

    await gateway.start();
    const kubeconfig = cluster().writeKubeconfig(await cluster().serviceAccountToken("autopilot-system", "apa-controller"), "apa-controller");
    ctl = new ControllerProcess("ctl-dl", kubeconfig, [
      "--gateway-url", gateway.url, "--pod-metrics-interval-ms", "0", "--download-failure-interval-ms", String(INTERVAL_MS),
      "--lease-duration-ms", "4000", "--renew-deadline-ms", "3000", "--retry-period-ms", "500",
    ]);
    await eventually(async () => ctl!.logged("started leading"), 60_000, `the controller leading (${ctl.problems()})`);
    const first = await eventually(async () => ((await events()).length > 0 ? await events() : undefined), 30_000, `a ModelDownloadFailed Event (controller problems: ${ctl.problems()})`);
    assert.equal(first.length, 1);
    const e = first[0]!;
    assert.equal(e.type, "Warning");
    assert.deepEqual({ kind: e.regarding.kind, name: e.regarding.name, namespace: e.regarding.namespace }, { kind: "ServingEndpoint", name: "scorer", namespace: NS2 });
    assert.deepEqual({ kind: e.related?.kind, name: e.related?.name }, { kind: "Pod", name: "scorer-v2-abc" });
    assert.equal(e.note, `version v2 cannot start, its model download failed (pod scorer-v2-abc, 1 restarts): ${v2}; the other versions keep serving`);
    assert.equal(e.reportingController, "serving.autopilot.dev/apa-controller");

    // Several polls later: still one Event for that pod. A pod failing now gets its own, so the polls did run.
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
    const v3 = "fetch-model: s3://autopilot-models/scorer/v3/ has no SHA256SUMS (the version was not published)";
    await failingPod("scorer-v3-def", "v3", v3);
    const failedAtMs = Date.now();
    const both = await eventually(async () => { const l = await events(); return l.length >= 2 ? l : undefined; }, 30_000, `the second pod's Event (controller problems: ${ctl.problems()})`);
    const reportedAfterMs = Date.now() - failedAtMs;
    assert.ok(reportedAfterMs < 6 * INTERVAL_MS, `reported ${reportedAfterMs} ms after the failure: the poll runs every --download-failure-interval-ms (${INTERVAL_MS}), not the 15 s default`);
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    const last = await events();
    assert.deepEqual(last.map((x) => x.related?.name).sort(), ["scorer-v2-abc", "scorer-v3-def"], "one Event per failing pod, none repeated");
    assert.equal(both.length, 2);
    assert.match(last.find((x) => x.related?.name === "scorer-v3-def")!.note, /version v3 cannot start.*has no SHA256SUMS/);
    assert.equal(ctl.exited, false, ctl.problems());
  });
});
