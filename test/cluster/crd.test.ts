/**
 * The ServingEndpoint CRD as the program renders it, applied to a real kube-apiserver (built from Go modules,
 * tools/control-plane): the API server accepts it, serves it, and enforces it — OpenAPI schema, CEL rules,
 * defaults, printer columns, the status and scale subresources. The good and bad objects of the validator's
 * tests (test/controller/crd-cases.ts) get the same verdicts and the same field messages from the real server.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { SERVING_GROUP, SERVING_PLURAL, SERVING_VERSION } from "../../controller/src/contract/crd/types.ts";
import type { KubeObject, KubeResponse } from "../../tools/control-plane/kube-rest.ts";
import { BAD_SERVING_ENDPOINTS, base, GOOD_SERVING_ENDPOINTS, type CrdCase } from "../controller/crd-cases.ts";
import { evaluated, kubeObjects } from "../infra/helpers.ts";
import { ensureNamespace, statusCauses, useControlPlane, waitEstablished } from "./helpers.ts";

const cluster = useControlPlane();
const COLLECTION = `/apis/${SERVING_GROUP}/${SERVING_VERSION}/namespaces/ep-fraud/${SERVING_PLURAL}`;
const STRICT_DRY_RUN = "?dryRun=All&fieldValidation=Strict";

async function renderedCrd(): Promise<KubeObject> {
  const crds = kubeObjects(await evaluated("local")).map((x) => x.obj).filter((o) => o.kind === "CustomResourceDefinition");
  assert.equal(crds.length, 1, "the local stack renders one CRD");
  return crds[0] as KubeObject;
}

describe("ServingEndpoint CRD on a real kube-apiserver", () => {
  before(async () => {
    const api = cluster().admin;
    const crd = await renderedCrd();
    await api.mustApply(crd);
    await waitEstablished(api, crd.metadata.name);
    await ensureNamespace(api, "ep-fraud");
  });

  it("is accepted as rendered and served with its version, scope and short names", async () => {
    const crd = await renderedCrd();
    const served = await cluster().admin.get<{ spec: { scope: string }; status: { acceptedNames: Record<string, unknown> } }>(
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
    );
    const names = (crd["spec"] as { names: Record<string, unknown> }).names;
    for (const [key, value] of Object.entries(names)) assert.deepEqual(served.status.acceptedNames[key], value, `names.${key}`);
    assert.equal(served.spec.scope, "Namespaced");
    const discovery = await cluster().admin.get<{ resources: { name: string }[] }>(`/apis/${SERVING_GROUP}/${SERVING_VERSION}`);
    assert.deepEqual(discovery.resources.map((r) => r.name).sort(), [SERVING_PLURAL, `${SERVING_PLURAL}/scale`, `${SERVING_PLURAL}/status`]);
  });

  /**
   * Sends a case as the API server would get it: a create (dryRun=All, strict field validation), or for a
   * status case a create of its spec and then a status-subresource write of its status.
   */
  async function send(c: CrdCase, index: number): Promise<KubeResponse> {
    const api = cluster().admin;
    if (c.status !== true) return await api.request("POST", COLLECTION + STRICT_DRY_RUN, c.input);
    const { status, ...rest } = c.input as { status: unknown; metadata: object };
    const name = `status-case-${index}`;
    const created = await api.request("POST", COLLECTION, { ...rest, metadata: { ...rest.metadata, name } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return await api.request("PATCH", `${COLLECTION}/${name}/status${STRICT_DRY_RUN}`, { status }, "application/merge-patch+json");
  }

  /** The field of a validator message or of a server cause (`spec.a.b: …` → `spec.a.b`). */
  const fieldOf = (message: string) => message.slice(0, message.indexOf(": "));

  describe("good objects: accepted", () => {
    GOOD_SERVING_ENDPOINTS.forEach((c, i) => {
      it(c.name, async () => {
        const res = await send(c, i);
        assert.ok(res.status === 201 || res.status === 200, `HTTP ${res.status}: ${JSON.stringify(res.body)}`);
      });
    });
  });

  describe("bad objects: rejected, naming the same fields with the same messages", () => {
    BAD_SERVING_ENDPOINTS.forEach((c, i) => {
      it(c.name, async () => {
        const res = await send(c, 100 + i);
        if (res.status === 400) {
          // Refused before validation (strict decoding, wrong apiVersion): same verdict, and the server's message
          // names a field or a value the validator's messages name.
          const message = (res.body as { message: string }).message;
          const named = c.want.flatMap((w) => [fieldOf(w), ...[...w.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)]);
          assert.ok(named.some((n) => message.includes(n)), `400 "${message}" names none of ${JSON.stringify(c.want)}`);
          return;
        }
        assert.equal(res.status, 422, `HTTP ${res.status}: ${JSON.stringify(res.body)}`);
        // Causes without a user field ("<nil>": rules skipped) or on a subresource path (".spec…": the scale
        // subresource's own replicas check, restating a field the schema already names) are left out.
        const causes = statusCauses(res).filter((m) => !m.startsWith("<nil>") && !m.startsWith("."));
        if (c.status === true) {
          // The status subresource validates status on its own and words paths relative to it: fields only.
          assert.deepEqual(causes.map(fieldOf).sort(), c.want.map(fieldOf).sort());
        } else {
          assert.deepEqual(causes.sort(), [...c.want].sort());
        }
      });
    });
  });

  it("applies the schema defaults the validator applies", async () => {
    const res = await cluster().admin.request("POST", COLLECTION + STRICT_DRY_RUN, base);
    assert.equal(res.status, 201);
    const spec = (res.body as { spec: Record<string, unknown> }).spec;
    assert.deepEqual(spec["runtime"], { kind: "auto" });
    assert.equal(spec["provisionedConcurrency"], 0);
    assert.equal(spec["scaleToZero"], false);
    assert.deepEqual(spec["replicas"], { min: 1, max: 10, desired: 0 });
  });

  describe("a stored object", () => {
    const name = "columns";
    const path = `${COLLECTION}/${name}`;
    before(async () => {
      const obj = { ...structuredClone(base), metadata: { name, namespace: "ep-fraud" } };
      const res = await cluster().admin.request("POST", COLLECTION, obj);
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });

    it("the status subresource takes status and ignores spec; the main resource ignores status", async () => {
      const api = cluster().admin;
      const status = {
        replicas: 3, readyReplicas: 2, desiredReplicas: 3, targetConcurrency: 6, observedQps: 12.5, selector: "serving.autopilot.dev/endpoint=columns",
        conditions: [{ type: "Ready", status: "True", reason: "ReplicasReady", message: "2 of 3 replicas ready", lastTransitionTime: "2026-12-01T00:00:00Z" }],
      };
      const patched = await api.request("PATCH", `${path}/status`, { status, spec: { computePool: "gpu" } }, "application/merge-patch+json");
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      const after = await api.get<{ spec: { computePool: string }; status: typeof status }>(path);
      assert.equal(after.spec.computePool, "cpu");
      assert.equal(after.status.targetConcurrency, 6);
      const main = await api.request("PATCH", path, { status: { targetConcurrency: 99 } }, "application/merge-patch+json");
      assert.equal(main.status, 200);
      assert.equal((await api.get<{ status: typeof status }>(path)).status.targetConcurrency, 6);
      const badStatus = await api.request("PATCH", `${path}/status`, { status: { lastScaleTime: "yesterday" } }, "application/merge-patch+json");
      assert.equal(badStatus.status, 422);
    });

    it("the scale subresource reads and writes spec.replicas.desired, leaving min and max as declared", async () => {
      const api = cluster().admin;
      const scale = await api.get<{ kind: string; spec: { replicas?: number }; status: { replicas: number; selector: string } }>(`${path}/scale`);
      assert.equal(scale.kind, "Scale");
      // spec.replicas.desired defaults to 0 (Scale omits a zero spec.replicas), so the read succeeds
      assert.equal(scale.spec.replicas ?? 0, 0);
      assert.equal((await api.get<{ spec: { replicas: { desired: number } } }>(path)).spec.replicas.desired, 0);
      assert.equal(scale.status.replicas, 3);
      assert.equal(scale.status.selector, "serving.autopilot.dev/endpoint=columns");
      const res = await api.request("PATCH", `${path}/scale`, { spec: { replicas: 4 } }, "application/merge-patch+json");
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const after = await api.get<{ spec: { replicas: { min: number; max: number; desired: number } } }>(path);
      assert.deepEqual(after.spec.replicas, { min: 1, max: 10, desired: 4 });
      assert.equal((await api.get<{ spec: { replicas: number } }>(`${path}/scale`)).spec.replicas, 4);
      // Over the CEL bound (min ≤ desired ≤ max = 10): the scale write is validated like any other.
      const over = await api.request("PATCH", `${path}/scale`, { spec: { replicas: 11 } }, "application/merge-patch+json");
      assert.equal(over.status, 422, JSON.stringify(over.body));
      assert.equal((await api.get<{ spec: { replicas: { desired: number } } }>(path)).spec.replicas.desired, 4);
    });

    it("printer columns: the Table form kubectl asks for has the rendered columns and values", async () => {
      const crd = await renderedCrd();
      const version = (crd["spec"] as { versions: { additionalPrinterColumns: { name: string }[] }[] }).versions[0]!;
      const table = await cluster().admin.request("GET", path, undefined, undefined, "application/json;as=Table;v=v1;g=meta.k8s.io");
      assert.equal(table.status, 200);
      const body = table.body as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
      assert.equal(body.kind, "Table");
      assert.deepEqual(body.columnDefinitions.map((c) => c.name), ["Name", ...version.additionalPrinterColumns.map((c) => c.name)]);
      const cells = Object.fromEntries(body.columnDefinitions.map((c, i) => [c.name, body.rows[0]!.cells[i]]));
      assert.equal(cells["Name"], name);
      assert.equal(cells["Ready"], "True", "the Ready condition's status");
      assert.equal(cells["Pods"], 2);
      assert.equal(cells["Target"], 6);
    });
  });
});
