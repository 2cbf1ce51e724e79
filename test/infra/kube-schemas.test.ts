/**
 * Every Kubernetes object the example stacks render validates against the official schemas
 * (kubernetes-models, generated from the Kubernetes OpenAPI), and every ServingEndpoint custom resource against
 * the CRD source of truth (controller/src/contract/crd validateServingEndpoint: OpenAPI schema + CEL rules).
 * Prometheus-operator objects (ServiceMonitor, PodMonitor) have no installed schema: checked for required fields.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateServingEndpoint } from "../../controller/src/contract/crd/index.ts";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj } from "./helpers.ts";

const MODULES: Record<string, string> = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "scheduling.k8s.io/v1": "kubernetes-models/scheduling.k8s.io/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "apiextensions.k8s.io/v1": "kubernetes-models/apiextensions.k8s.io/v1",
  "batch/v1": "kubernetes-models/batch/v1",
  "admissionregistration.k8s.io/v1": "kubernetes-models/admissionregistration.k8s.io/v1",
};

async function validateOfficial(obj: Obj): Promise<void> {
  const mod = (await import(MODULES[obj.apiVersion]!)) as Record<string, new (o: Obj) => { validate(): void }>;
  const Model = mod[obj.kind];
  assert.ok(Model, `no model for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

for (const stack of EXAMPLE_STACKS) {
  describe(`stack ${stack}: Kubernetes objects validate`, () => {
    it("core/apps/policy/networking/rbac/... objects against kubernetes-models", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj).filter((o) => MODULES[o.apiVersion] !== undefined);
      assert.ok(objs.length > 30, `only ${objs.length} objects`);
      for (const o of objs) {
        try {
          await validateOfficial(o);
        } catch (e) {
          assert.fail(`${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}: ${(e as Error).message}`);
        }
      }
    });

    it("ServingEndpoint custom resources against the CRD (schema + CEL rules)", async () => {
      const crs = kubeObjects(await evaluated(stack)).map((x) => x.obj).filter((o) => o.kind === "ServingEndpoint");
      assert.ok(crs.length >= 2);
      for (const cr of crs) {
        const res = validateServingEndpoint(cr);
        assert.ok(res.ok, `${cr.metadata.name}: ${JSON.stringify(!res.ok && res.errors)}`);
      }
    });

    it("every object kind is covered by a schema or a structural check", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      for (const o of objs) {
        if (MODULES[o.apiVersion] !== undefined || o.kind === "ServingEndpoint") continue;
        assert.equal(o.apiVersion, "monitoring.coreos.com/v1", `${o.apiVersion} ${o.kind} has no validation`);
        assert.ok(o.metadata?.name && o.metadata?.namespace && o.spec?.selector, `${o.kind} ${o.metadata?.name}`);
      }
    });
  });
}
