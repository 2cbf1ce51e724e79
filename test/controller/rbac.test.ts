/**
 * Least privilege, checked: the requests the real controller makes against the FakeApiServer test double are
 * all allowed by the exported RBAC rules, and every verb of every rule is used.
 */
import { V1MicroTime } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ValidatingAdmissionPolicy } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
import { ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { LeaderElector } from "../../controller/src/kube/leader-election.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { controllerClusterRules, controllerLeaseRules, controllerRbac, gatewayAgentRbac, type ExplainedRule } from "../../controller/src/contract/rbac.ts";
import { FakeApiServer, type RecordedRequest } from "./fake-api-server.ts";
import { FakeGateway, makeInstance, step, synced } from "./harness.ts";
import { deploymentObj, endpointSliceObj, servingEndpointObj } from "./helpers.ts";

interface Access {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  readonly name: string | undefined;
}

function accessOf(r: RecordedRequest): Access {
  const m = /^\/apis\/([^/]+)\/[^/]+(?:\/namespaces\/[^/]+)?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(r.path);
  if (m === null) throw new Error(`unexpected path ${r.path}`);
  const [, group = "", resource = "", name, sub] = m;
  const verb =
    r.method === "GET" ? (name === undefined ? (r.query["watch"] === "true" ? "watch" : "list") : "get") : ({ POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" } as Record<string, string>)[r.method] ?? "?";
  return { group, resource: sub === undefined ? resource : `${resource}/${sub}`, verb, name };
}

const allows = (rule: ExplainedRule, a: Access) =>
  rule.apiGroups.includes(a.group) && rule.resources.includes(a.resource) && rule.verbs.includes(a.verb) && (rule.resourceNames === undefined || (a.name !== undefined && rule.resourceNames.includes(a.name)));

describe("RBAC", () => {
  it("objects are valid rbac.authorization.k8s.io/v1 and admissionregistration.k8s.io/v1 (official schema, kubernetes-models)", () => {
    const c = controllerRbac();
    const g = gatewayAgentRbac();
    for (const o of [c.clusterRole, g.clusterRole]) assert.doesNotThrow(() => new ClusterRole(o as never).validate());
    for (const o of [c.clusterRoleBinding, g.clusterRoleBinding]) assert.doesNotThrow(() => new ClusterRoleBinding(o as never).validate());
    assert.doesNotThrow(() => new Role(c.role as never).validate());
    assert.doesNotThrow(() => new RoleBinding(c.roleBinding as never).validate());
    assert.doesNotThrow(() => new ValidatingAdmissionPolicy(c.deploymentWritesPolicy as never).validate());
    assert.doesNotThrow(() => new ValidatingAdmissionPolicyBinding(c.deploymentWritesPolicyBinding as never).validate());
    assert.equal(c.deploymentWritesPolicy.spec.matchConditions[0]?.expression, "request.userInfo.username == 'system:serviceaccount:autopilot-system:apa-controller'");
    assert.ok(!JSON.stringify([c.clusterRole, c.role]).includes("reason"), "the rules' reasons stay out of the applied objects");
  });

  it("every request the controller makes is allowed, and every granted verb is used", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    const clock = new ManualClock(1_800_000_000_000);
    const gw = new FakeGateway();
    const L = "serving.autopilot.dev/endpoint";
    const se = servingEndpointObj("ep-fraud", "fraud");
    se.metadata["uid"] = "uid-fraud"; // a stored object has one: the controller sets it as the Deployment's owner
    fake.put("servingendpoints", se);
    fake.put("deployments", deploymentObj("ep-fraud", "fraud", 2, { [L]: "fraud" }));
    fake.put("deployments", deploymentObj("autopilot-system", "warm-gpu", 0, { "serving.autopilot.dev/warm-pool": "gpu" }));
    fake.put("endpointslices", endpointSliceObj("ep-fraud", "fraud-x", { [L]: "fraud" }, ["10.0.0.1", "10.0.0.2"]));
    fake.put("pods", { metadata: { name: "fraud-1", namespace: "ep-fraud", labels: { [L]: "fraud" } }, containers: [{ name: "model", usage: { cpu: "500m", memory: "1Gi" } }] } as never);
    gw.set("gw-a", "fraud", 40, 0, 100);
    const a = makeInstance({ fake, clock, gateway: gw, token: "ctl", isLeader: () => true });
    const elector = new LeaderElector(a.api, { namespace: "autopilot-system", leaseName: "apa-controller", identity: "ctl", leaseDurationMs: 10_000, renewDeadlineMs: 8000, retryPeriodMs: 2000 }, clock, silentLogger);
    try {
      await synced(a);
      assert.equal(await elector.tryAcquireOrRenew(), true); // create
      assert.equal(await elector.tryAcquireOrRenew(), true); // get + update
      assert.equal((await a.api.listPodMetrics("serving.autopilot.dev/endpoint")).length, 1);
      await step(clock, gw, [a], 25);
      // The series patch of an aggregated Event (the recorder sends it once similar events pile up).
      const ev = fake.list("events")[0];
      assert.ok(ev !== undefined, "a scale Event was created");
      await a.api.patchEvent(ev.metadata.namespace ?? "", ev.metadata.name, { series: { count: 2, lastObservedTime: new V1MicroTime(clock.nowMs()) } });
      const rules = [...controllerClusterRules(), ...controllerLeaseRules("apa-controller")];
      const accesses = fake.requests.map(accessOf);
      const denied = accesses.filter((x) => !rules.some((r) => allows(r, x)));
      assert.deepEqual(denied, [], "no request outside the granted rules");
      const unused = rules.flatMap((r) => r.verbs.filter((v) => !accesses.some((x) => allows({ ...r, verbs: [v] }, x))).map((v) => `${r.resources.join(",")}:${v}`));
      assert.deepEqual(unused, [], "no granted verb goes unused");
    } finally {
      await a.controller.stop();
      await fake.stop();
    }
  });
});
