/**
 * Every Kubernetes object the program renders for each example stack (offline evaluation under Pulumi's mocks,
 * the objects exactly as rendered) goes to a real kube-apiserver by server-side apply and is accepted: the real
 * schema, defaulting and admission, not a copy of the OpenAPI. Namespaces, CRDs and PriorityClasses are applied
 * for real (other objects need them); everything else with dryRun=All, so stacks that share names do not meet.
 * Objects of kinds the cluster does not serve (prometheus-operator's ServiceMonitor/PodMonitor, installed by the
 * kube-prometheus-stack chart) are listed, not applied, and must be nothing else. The server's warnings count
 * too: none but the PodSecurity ones the rendered namespaces ask for (warn "restricted" where the node cache's
 * hostPath volume needs a weaker enforce level).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import type { KubeObject } from "../../tools/control-plane/kube-rest.ts";
import { evaluated, kubeObjects } from "../infra/helpers.ts";
import { useControlPlane, waitEstablished } from "./helpers.ts";

const cluster = useControlPlane();
/** Kinds whose CRDs come with a chart that cannot be installed here. */
const CHART_CRD_GROUPS = new Set(["monitoring.coreos.com/v1"]);
const FOUNDATION_KINDS = new Set(["Namespace", "CustomResourceDefinition", "PriorityClass"]);
const ENDPOINT_HOSTPATH_WARNING = 'would violate PodSecurity "restricted:latest": restricted volume types (volume "model-cache" uses restricted volume type "hostPath")';

for (const stack of EXAMPLE_STACKS) {
  describe(`stack ${stack}: every rendered Kubernetes object is accepted by a real kube-apiserver`, () => {
    it("server-side apply (foundations for real, the rest dryRun=All)", async () => {
      const api = cluster().admin;
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj as KubeObject);
      const foundations = objs.filter((o) => FOUNDATION_KINDS.has(o.kind));
      const rest = objs.filter((o) => !FOUNDATION_KINDS.has(o.kind) && !CHART_CRD_GROUPS.has(o.apiVersion));
      const failures: string[] = [];
      const warnings: { object: string; namespace: string; text: string }[] = [];
      for (const o of foundations) await api.mustApply(o, { fieldManager: "pulumi-kubernetes" });
      for (const o of foundations.filter((x) => x.kind === "CustomResourceDefinition")) await waitEstablished(api, o.metadata.name);
      for (const o of rest) {
        const res = await api.apply(o, { dryRun: true, fieldManager: "pulumi-kubernetes" });
        for (const text of res.warnings) warnings.push({ object: `${o.kind} ${o.metadata.name}`, namespace: o.metadata.namespace ?? "", text: text.replaceAll('\\"', '"') });
        if (res.status !== 200 && res.status !== 201) {
          failures.push(`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: HTTP ${res.status}: ${(res.body as { message?: string }).message ?? JSON.stringify(res.body)}`);
        }
      }
      assert.deepEqual(failures, []);
      // No deprecation or field warnings. PodSecurity warnings only where the rendered namespace enforces a
      // weaker level than it warns about (the node cache's hostPath volume is outside "restricted"); in an
      // endpoint namespace that volume must be the only thing outside "restricted".
      const enforce = new Map(foundations.filter((o) => o.kind === "Namespace").map((o) => [o.metadata.name, (o.metadata["labels"] as Record<string, string> | undefined)?.["pod-security.kubernetes.io/enforce"]]));
      const unexpected = warnings.filter(({ namespace, text }) => {
        if (!text.startsWith('would violate PodSecurity "restricted:latest"')) return true;
        if (enforce.get(namespace) === "restricted" || enforce.get(namespace) === undefined) return true;
        return namespace.startsWith("ep-") && text !== ENDPOINT_HOSTPATH_WARNING;
      });
      assert.deepEqual(unexpected, []);
      assert.ok(rest.length > 30, `only ${rest.length} objects applied`);
    });

    it("the only objects not applied are of kinds a chart installs", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj as KubeObject);
      const skipped = objs.filter((o) => CHART_CRD_GROUPS.has(o.apiVersion));
      for (const o of skipped) assert.ok(o.kind === "ServiceMonitor" || o.kind === "PodMonitor", `${o.apiVersion} ${o.kind}`);
    });
  });
}
