/**
 * The second line of defence behind the policy pack, on a real kube-apiserver: the ValidatingAdmissionPolicy and
 * binding the program renders (components/k8s/admission-policy.ts, taken from the offline evaluation exactly as
 * rendered) are applied for real, together with the stack's endpoint namespaces. Every pod-bearing object the
 * program renders into an endpoint namespace is then admitted (dryRun=All still runs admission); crafted
 * variants that break one rule each are denied with the policy's message, in every pod-bearing kind; and the
 * same objects in a namespace that is not an endpoint's are not the policy's business.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { KubeObject, KubeResponse } from "../../tools/control-plane/kube-rest.ts";
import { evaluated, kubeObjects } from "../infra/helpers.ts";
import { eventually, useControlPlane } from "./helpers.ts";

const cluster = useControlPlane();
const STACK = "staging-aws";
const POD_BEARING = new Set(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController", "PodTemplate"]);
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let objs: Obj[] = [];
let deployment: Obj;
const denied = (res: KubeResponse) => (res.status === 403 || res.status === 422 ? String((res.body as { message?: string }).message ?? "") : undefined);

/** A copy of the rendered Deployment with `edit` applied to its pod spec (and, optionally, moved to `namespace`). */
function variant(edit: (spec: Obj) => void, namespace?: string): KubeObject {
  const d = structuredClone(deployment);
  edit(d.spec.template.spec);
  if (namespace !== undefined) d.metadata.namespace = namespace;
  return d as KubeObject;
}

describe(`stack ${STACK}: the rendered ValidatingAdmissionPolicy on a real kube-apiserver`, () => {
  before(async () => {
    const api = cluster().admin;
    objs = kubeObjects(await evaluated(STACK)).map((x) => x.obj);
    const admission = objs.filter((o) => o.apiVersion === "admissionregistration.k8s.io/v1" && o.metadata.name === "autopilot-endpoint-pod-security");
    assert.deepEqual(admission.map((o) => o.kind).sort(), ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"], "the program renders the policy and its binding");
    for (const o of objs.filter((x) => x.kind === "Namespace")) await api.mustApply(o as KubeObject, { fieldManager: "pulumi-kubernetes" });
    await api.mustApply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "not-an-endpoint" } });
    for (const o of admission) await api.mustApply(o as KubeObject, { fieldManager: "pulumi-kubernetes" });
    deployment = objs.find((o) => o.kind === "Deployment" && String(o.metadata.namespace).startsWith("ep-") && (o.spec.template.spec.volumes ?? []).some((v: Obj) => v.hostPath !== undefined))!;
    assert.ok(deployment !== undefined, "an endpoint Deployment with the node-cache hostPath");
    // The API server compiles a new policy and its binding asynchronously: wait until it denies.
    await eventually(async () => denied(await api.apply(variant((s) => { s.hostPID = true; }), { dryRun: true })), 30_000, "the policy to deny hostPID");
  });

  it("admits every pod-bearing object the program renders into the endpoint namespaces", async () => {
    const api = cluster().admin;
    const inEndpoints = objs.filter((o) => POD_BEARING.has(o.kind) && String(o.metadata?.namespace ?? "").startsWith("ep-"));
    // At least one workload per rendered ServingEndpoint (staging-aws's example set: fraud-classifier, text-embedder, llm-chat).
    const endpoints = objs.filter((o) => o.kind === "ServingEndpoint");
    assert.ok(endpoints.length >= 3, `only ${endpoints.length} ServingEndpoints rendered`);
    assert.ok(inEndpoints.length >= endpoints.length, `only ${inEndpoints.length} endpoint workloads for ${endpoints.length} endpoints`);
    const refused: string[] = [];
    for (const o of inEndpoints) {
      const res = await api.apply(o as KubeObject, { dryRun: true, fieldManager: "pulumi-kubernetes" });
      if (res.status !== 200 && res.status !== 201) refused.push(`${o.kind} ${o.metadata.namespace}/${o.metadata.name}: HTTP ${res.status} ${denied(res) ?? ""}`);
    }
    assert.deepEqual(refused, []);
  });

  const otherCache = (s: Obj) => { s.volumes.find((v: Obj) => v.hostPath !== undefined).hostPath.path = "/var/lib/autopilot/models/other-endpoint"; };
  const server = (s: Obj) => s.containers[0];
  const cases: { what: string; edit: (s: Obj) => void; message: RegExp }[] = [
    // The API server's own validation refuses privileged with allowPrivilegeEscalation false, so both go.
    { what: "a privileged container", edit: (s) => { server(s).securityContext.privileged = true; delete server(s).securityContext.allowPrivilegeEscalation; }, message: /privileged containers are not allowed in endpoint namespaces/ },
    { what: "hostNetwork", edit: (s) => { s.hostNetwork = true; }, message: /hostNetwork, hostPID and hostIPC are not allowed/ },
    { what: "a hostPort", edit: (s) => { server(s).ports[0].hostPort = 8080; }, message: /hostPort is not allowed in endpoint namespaces/ },
    { what: "hostPath /", edit: (s) => { s.volumes.push({ name: "root", hostPath: { path: "/" } }); server(s).volumeMounts.push({ name: "root", mountPath: "/host" }); }, message: /hostPath volumes may only mount \/var\/lib\/autopilot\/models\/[a-z-]+ / },
    { what: "another endpoint's cache directory", edit: otherCache, message: /hostPath volumes may only mount \/var\/lib\/autopilot\/models\/[a-z-]+ \(the endpoint's model cache\)/ },
    { what: "an added capability (init container)", edit: (s) => { s.initContainers[0].securityContext.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }; }, message: /containers may add no capability but NET_BIND_SERVICE/ },
    { what: "privilege escalation", edit: (s) => { server(s).securityContext.allowPrivilegeEscalation = true; }, message: /allowPrivilegeEscalation: false/ },
    { what: "root", edit: (s) => { server(s).securityContext.runAsUser = 0; }, message: /must run as non-root/ },
    { what: "procMount Unmasked", edit: (s) => { server(s).securityContext.procMount = "Unmasked"; s.hostUsers = false; }, message: /procMount must be Default/ },
    { what: "an unsafe sysctl", edit: (s) => { s.securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }]; }, message: /only the safe sysctls/ },
  ];
  for (const c of cases) {
    it(`denies ${c.what} in an endpoint namespace, and leaves other namespaces alone`, async () => {
      const api = cluster().admin;
      const res = await api.apply(variant(c.edit), { dryRun: true });
      assert.match(denied(res) ?? `HTTP ${res.status} (admitted)`, new RegExp(`ValidatingAdmissionPolicy 'autopilot-endpoint-pod-security' with binding 'autopilot-endpoint-pod-security' denied request: .*${c.message.source}`));
      const elsewhere = await api.apply(variant(c.edit, "not-an-endpoint"), { dryRun: true });
      assert.ok(elsewhere.status === 200 || elsewhere.status === 201, `not-an-endpoint: HTTP ${elsewhere.status} ${denied(elsewhere) ?? ""}`);
    });
  }

  it("checks every pod-bearing kind: a bare Pod, a CronJob, a PodTemplate, a ReplicationController", async () => {
    const api = cluster().admin;
    const ns = deployment.metadata.namespace as string;
    const spec = structuredClone(deployment.spec.template.spec);
    // A Pod needs its ServiceAccount to exist before it reaches validation (the rendered one, applied for real).
    const sa = objs.find((o) => o.kind === "ServiceAccount" && o.metadata.namespace === ns && o.metadata.name === (spec.serviceAccountName ?? "default"));
    await api.mustApply((sa ?? { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: spec.serviceAccountName ?? "default", namespace: ns } }) as KubeObject);
    spec.hostPID = true;
    const meta = { namespace: ns, labels: deployment.spec.template.metadata.labels };
    const kinds: KubeObject[] = [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "bare", ...meta }, spec },
      { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "cron", namespace: ns }, spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { metadata: { labels: meta.labels }, spec: { ...spec, restartPolicy: "Never" } } } } } },
      { apiVersion: "v1", kind: "PodTemplate", metadata: { name: "tmpl", namespace: ns }, template: { metadata: { labels: meta.labels }, spec } },
      { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "rc", namespace: ns }, spec: { replicas: 1, selector: meta.labels, template: { metadata: { labels: meta.labels }, spec } } },
    ];
    const results: string[] = [];
    for (const o of kinds) {
      const res = await api.apply(o, { dryRun: true });
      results.push(`${o.kind}: ${/hostNetwork, hostPID and hostIPC are not allowed/.test(denied(res) ?? "") ? "denied" : `HTTP ${res.status} ${denied(res) ?? ""}`}`);
    }
    assert.deepEqual(results, ["Pod: denied", "CronJob: denied", "PodTemplate: denied", "ReplicationController: denied"]);
  });

  it("every namespace the program creates carries a Pod Security enforce level, and the API server enforces restricted", async () => {
    const api = cluster().admin;
    const namespaces = objs.filter((o) => o.kind === "Namespace");
    const levels = namespaces.map((o) => `${o.metadata.name}=${o.metadata.labels?.["pod-security.kubernetes.io/enforce"] ?? "none"}`);
    assert.deepEqual(levels.filter((l) => !/=(restricted|baseline|privileged)$/.test(l)), []);
    const restricted = namespaces.filter((o) => o.metadata.labels["pod-security.kubernetes.io/enforce"] === "restricted").map((o) => o.metadata.name as string);
    assert.ok(restricted.includes("autopilot-gateway") && restricted.includes("autopilot-system"), levels.join(" "));
    for (const ns of restricted) {
      await api.mustApply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } });
      const spec = structuredClone(deployment.spec.template.spec);
      delete spec.serviceAccountName;
      spec.hostPID = true;
      const res = await api.apply({ apiVersion: "v1", kind: "Pod", metadata: { name: "psa-probe", namespace: ns }, spec }, { dryRun: true });
      assert.match(denied(res) ?? `HTTP ${res.status} (admitted)`, /violates PodSecurity "restricted:latest": host namespaces \(hostPID=true\)/, ns);
    }
  });
});
