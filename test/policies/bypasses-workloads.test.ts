/**
 * Ways around the workload policies, each run through the real registered policies: look-alike names of exempt
 * node agents, pods hidden in kinds the pack used to skip (ReplicationController, PodTemplate, custom resources),
 * host access beyond the host namespaces (hostPath, hostPort, procMount, sysctls), and a namespace left to the
 * provider.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { violations } from "./harness.ts";
import { resources, restrictedContainer, restrictedPod } from "./fixtures.ts";
import { definitions } from "../../policies/pack.ts";
import { validatePackConfig } from "../../policies/offline/pack-config.ts";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";

const container = (extra: Record<string, unknown> = {}) => ({
  name: "c", image: "ghcr.io/acme/tool:1.0", resources: resources("1", "1Gi"), securityContext: restrictedContainer, ...extra,
});
const podSpec = (extra: Record<string, unknown> = {}, c: Record<string, unknown> = {}) => ({ securityContext: restrictedPod, containers: [container(c)], ...extra });
const workload = (type: string, name: string, ns: string | undefined, props: Record<string, unknown>, extra: Partial<OfflineResource> = {}): OfflineResource => ({
  type, name, props: { metadata: { name, ...(ns !== undefined ? { namespace: ns } : {}) }, ...props }, ...extra,
});
const deployment = (name: string, ns: string | undefined, spec: Record<string, unknown>, extra: Partial<OfflineResource> = {}) =>
  workload("kubernetes:apps/v1:Deployment", name, ns, { spec: { template: { metadata: {}, spec } } }, extra);

describe("restricted-pod-security: exemptions are exact namespace/name pairs", () => {
  it("a look-alike of an exempt node agent in an endpoint namespace is checked", async () => {
    const shell = workload("kubernetes:apps/v1:DaemonSet", "shell-dcgm-exporter", "ep-iris", { spec: { template: { spec: podSpec({ hostPID: true }) } } });
    assert.deepEqual(await violations("restricted-pod-security", [shell]), ["DaemonSet ep-iris/shell-dcgm-exporter: hostPID is true."]);
  });
  it("the exempt agent's own name in another namespace is checked", async () => {
    const moved = workload("kubernetes:apps/v1:DaemonSet", "gpu-dcgm-dcgm-exporter", "ep-iris", { spec: { template: { spec: podSpec({ hostNetwork: true }) } } });
    assert.deepEqual(await violations("restricted-pod-security", [moved]), ["DaemonSet ep-iris/gpu-dcgm-dcgm-exporter: hostNetwork is true."]);
  });
  it("the exact pair stays exempt", async () => {
    const agent = workload("kubernetes:apps/v1:DaemonSet", "gpu-dcgm-dcgm-exporter", "autopilot-gpu-system", { spec: { template: { spec: podSpec({ hostPID: true }) } } });
    assert.deepEqual(await violations("restricted-pod-security", [agent]), []);
  });
  it("a glob in the config is refused, naming the key and the value", () => {
    assert.throws(() => validatePackConfig({ "restricted-pod-security": { exemptWorkloads: ["*/*dcgm-exporter*"] } }, definitions),
      /restricted-pod-security\.exemptWorkloads\.0: value "\*\/\*dcgm-exporter\*" must match pattern/);
  });
});

describe("pods in kinds beyond the built-in workloads", () => {
  const hostile = podSpec({ hostNetwork: true }, { image: "ghcr.io/acme/tool:latest" });
  const cases: { what: string; r: OfflineResource; who: string }[] = [
    { what: "ReplicationController", r: workload("kubernetes:core/v1:ReplicationController", "rc", "ep-m", { spec: { template: { spec: hostile } } }), who: "ReplicationController ep-m/rc" },
    { what: "PodTemplate", r: workload("kubernetes:core/v1:PodTemplate", "pt", "ep-m", { template: { spec: hostile } }), who: "PodTemplate ep-m/pt" },
    { what: "a custom resource with spec.template (Argo Rollout)", r: workload("kubernetes:argoproj.io/v1alpha1:Rollout", "ro", "ep-m", { spec: { template: { spec: hostile } } }), who: "Rollout ep-m/ro spec.template.spec" },
    { what: "a custom resource with a list of pod templates (RayCluster workers)", r: workload("kubernetes:ray.io/v1:RayCluster", "ray", "ep-m", {
      spec: { headGroupSpec: { template: { spec: podSpec() } }, workerGroupSpecs: [{ groupName: "w", template: { spec: hostile } }] },
    }), who: "RayCluster ep-m/ray spec.workerGroupSpecs[0].template.spec" },
  ];
  for (const c of cases) {
    it(`${c.what}: pod security and image pinning see its pods`, async () => {
      assert.deepEqual(await violations("restricted-pod-security", [c.r]), [`${c.who}: hostNetwork is true.`]);
      assert.deepEqual(await violations("images-pinned-and-allowed", [c.r]), [`${c.who} containers[0] "c": image "ghcr.io/acme/tool:latest" is not pinned (tag latest).`]);
    });
  }
  it("a custom resource's template metadata counts (runtime annotation makes it a GPU workload)", async () => {
    const r = workload("kubernetes:argoproj.io/v1alpha1:Rollout", "ro", "ep-m", { spec: { template: { metadata: { annotations: { "serving.autopilot.dev/runtime": "vllm" } }, spec: podSpec() } } });
    const found = await violations("gpu-runtime-on-gpu-pool", [r]);
    assert.equal(found.length, 3);
    assert.match(found[0]!, /^Rollout ep-m\/ro spec\.template\.spec \(GPU workload: runtime "vllm"\): no container requests nvidia\.com\/gpu/);
  });
  it("custom resources without pod specs pass untouched", async () => {
    const r = workload("kubernetes:monitoring.coreos.com/v1:PodMonitor", "pm", "ep-m", { spec: { selector: {}, podMetricsEndpoints: [{ port: "http" }] } });
    assert.deepEqual(await violations("restricted-pod-security", [r]), []);
  });
});

describe("restricted-pod-security: host access beyond the host namespaces", () => {
  it("hostPath / and a hostPort", async () => {
    const d = deployment("m", "ep-m", podSpec({ volumes: [{ name: "root", hostPath: { path: "/" } }] }, { ports: [{ containerPort: 8080, hostPort: 8080 }] }));
    assert.deepEqual(await violations("restricted-pod-security", [d]), [
      "Deployment ep-m/m containers[0] \"c\": ports[0].hostPort is 8080.",
      "Deployment ep-m/m: volumes[0] \"root\" mounts host path \"/\", outside allowedHostPaths (/var/lib/autopilot/models).",
    ]);
  });
  it("a hostPath that climbs out of the cache directory", async () => {
    const d = deployment("m", "ep-m", podSpec({ volumes: [{ name: "c", hostPath: { path: "/var/lib/autopilot/models/../../../etc" } }] }));
    assert.deepEqual(await violations("restricted-pod-security", [d]), [
      "Deployment ep-m/m: volumes[0] \"c\" mounts host path \"/var/lib/autopilot/models/../../../etc\", outside allowedHostPaths (/var/lib/autopilot/models).",
    ]);
  });
  it("the node-local model cache directory is allowed", async () => {
    const d = deployment("m", "ep-m", podSpec({ volumes: [{ name: "c", hostPath: { path: "/var/lib/autopilot/models/iris", type: "Directory" } }, { name: "t", emptyDir: {} }] }));
    assert.deepEqual(await violations("restricted-pod-security", [d]), []);
  });
  it("procMount Unmasked, an unsafe sysctl and a volume type outside the profile", async () => {
    const d = deployment("m", "ep-m", podSpec({
      securityContext: { ...restrictedPod, sysctls: [{ name: "net.ipv4.tcp_syncookies", value: "1" }, { name: "kernel.core_pattern", value: "|/x" }] },
      volumes: [{ name: "n", nfs: { server: "x", path: "/" } }],
    }, { securityContext: { ...restrictedContainer, procMount: "Unmasked" } }));
    const found = await violations("restricted-pod-security", [d]);
    assert.deepEqual(found.map((m) => m.replace(/ \(kernel\.shm_rmid_forced.*\)\./, " (…).")), [
      "Deployment ep-m/m containers[0] \"c\": procMount is Unmasked, not Default.",
      "Deployment ep-m/m: securityContext.sysctls sets \"kernel.core_pattern\", which is not one of the safe sysctls (…).",
      "Deployment ep-m/m: volumes[0] \"n\" is a nfs volume, which the restricted profile does not allow.",
    ]);
  });
});

describe("a namespace left to the provider", () => {
  const provider = (ns: string): OfflineResource => ({ type: "pulumi:providers:kubernetes", name: "ns-provider", urn: "urn:pulumi:t::p::pulumi:providers:kubernetes::ns-provider", props: { namespace: ns } });
  const via = { provider: "urn:pulumi:t::p::pulumi:providers:kubernetes::ns-provider::id-1" };
  const endpointNs: OfflineResource = { type: "kubernetes:core/v1:Namespace", name: "ns", props: { metadata: { name: "ep-iris", labels: { "serving.autopilot.dev/endpoint": "iris" } } } };
  const denyAll: OfflineResource = { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: "deny", props: { metadata: { name: "deny", namespace: "ep-iris" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } } };
  const allowAll = (extra: Partial<OfflineResource>): OfflineResource => ({
    type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: "allow-all", props: { metadata: { name: "allow-all" }, spec: { podSelector: {}, ingress: [{}] } }, ...extra,
  });
  it("an allow-all NetworkPolicy through a provider whose namespace is the endpoint's is caught", async () => {
    assert.deepEqual(await violations("endpoint-default-deny-ingress", [provider("ep-iris"), endpointNs, denyAll, allowAll(via)]),
      ["NetworkPolicy ep-iris/allow-all: ingress[0] has no \"from\", which admits every source."]);
  });
  it("without a provider namespace it lands in default, outside the endpoint", async () => {
    assert.deepEqual(await violations("endpoint-default-deny-ingress", [endpointNs, denyAll, allowAll({})]), []);
  });
  it("resource policies see the provider's namespace too", async () => {
    const d = deployment("shell", undefined, podSpec({ hostPID: true }), via);
    assert.deepEqual(await violations("restricted-pod-security", [provider("ep-iris"), d]), ["Deployment ep-iris/shell: hostPID is true."]);
  });
});

describe("helm-release-reviewed: what a helm.sh/v3:Release installs", () => {
  const release = (props: Record<string, unknown>): OfflineResource[] => [{ type: "kubernetes:helm.sh/v3:Release", name: "rel", props: { name: "tools", namespace: "ep-m", chart: "acme/tools", ...props } }];
  it("an unreviewed chart, however harmless its values look", async () => {
    assert.deepEqual(await violations("helm-release-reviewed", release({ version: "1.2.3" })),
      ["Release ep-m/tools (chart \"acme/tools\"): \"acme/tools@1.2.3\" is not in allowedCharts; Helm applies a Release's objects inside the provider, so no policy sees them."]);
  });
  it("no version, and values that switch on host access", async () => {
    assert.deepEqual(await violations("helm-release-reviewed", release({ values: { agent: { privileged: true, hostNetwork: true, ports: [{ hostPort: 9100 }] }, cache: { hostPath: { path: "/" } } } })), [
      "Release ep-m/tools (chart \"acme/tools\"): no version; the chart would float to whatever its repository serves next.",
      "Release ep-m/tools (chart \"acme/tools\"): values.agent.privileged sets privileged: true.",
      "Release ep-m/tools (chart \"acme/tools\"): values.agent.hostNetwork sets hostNetwork: true.",
      "Release ep-m/tools (chart \"acme/tools\"): values.agent.ports[0].hostPort sets hostPort: 9100.",
      "Release ep-m/tools (chart \"acme/tools\"): values.cache.hostPath mounts host path \"/\".",
    ]);
  });
  it("a reviewed, pinned chart with plain values passes", async () => {
    assert.deepEqual(await violations("helm-release-reviewed", release({ version: "1.2.3", values: { replicas: 2 } }), { "helm-release-reviewed": { allowedCharts: ["acme/tools@1.2.3"] } }), []);
  });
  it("helm.v4.Chart is not its business (its objects reach every policy)", async () => {
    assert.deepEqual(await violations("helm-release-reviewed", [{ type: "kubernetes:helm.sh/v4:Chart", name: "c", props: { chart: "acme/tools" } }]), []);
  });
});
