/** Table tests of the agent's pure decision: desired vs observed → runtime commands. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiKeyMapEntries, reconcile, type ReconcileInput } from "../../controller/src/gateway/reconcile.ts";
import type { ServerStat } from "../../controller/src/gateway/runtime-api.ts";
import type { GatewayEndpoint, PodTarget } from "../../controller/src/gateway/types.ts";

const ep = (over: Partial<GatewayEndpoint> = {}): GatewayEndpoint => ({
  name: "ep",
  runtime: "mlflow",
  auth: { apiKeys: true, jwt: false },
  targetConcurrency: 4,
  slots: 3,
  queueTimeoutMs: 1000,
  maxQueue: 10,
  maxBodyBytes: 1000,
  modelTimeoutMs: 1000,
  ...over,
});
const empty = (server: string, over: Partial<ServerStat> = {}): ServerStat => ({
  backend: "be_ep", server, sessions: 0, queued: 0, maxconn: 4, status: "MAINT", addr: "0.0.0.0", port: 1, ...over,
});
const live = (server: string, port: number, over: Partial<ServerStat> = {}): ServerStat =>
  empty(server, { status: "no check", addr: "127.0.0.1", port, ...over });
const pod = (id: string, port: number, over: Partial<PodTarget> = {}): PodTarget => ({
  id, addr: "127.0.0.1", port, ready: true, terminating: false, ...over,
});
const input = (pods: PodTarget[], servers: ServerStat[], over: Partial<ReconcileInput> = {}): ReconcileInput => ({
  endpoints: [ep()],
  pods: new Map([["ep", pods]]),
  apiKeys: [],
  gatewayReplicas: 1,
  apiKeyMapPath: "/k.map",
  observed: { servers, apiKeyMap: new Map() },
  ...over,
});

describe("reconcile", () => {
  const cases: Array<{ name: string; input: ReconcileInput; want: string[]; reload?: RegExp }> = [
    { name: "in sync: nothing to do", input: input([pod("a", 9001)], [live("pod1", 9001), empty("pod2"), empty("pod3")]), want: [] },
    {
      name: "a new ready pod takes the first free slot: maxconn before ready",
      input: input([pod("a", 9001), pod("b", 9002)], [live("pod1", 9001), empty("pod2"), empty("pod3")]),
      want: ["set server be_ep/pod2 addr 127.0.0.1 port 9002", "set maxconn server be_ep/pod2 4", "set server be_ep/pod2 state ready"],
    },
    { name: "a pod that is not ready yet gets no slot", input: input([pod("a", 9001, { ready: false })], [empty("pod1"), empty("pod2"), empty("pod3")]), want: [] },
    {
      name: "a terminating pod is drained",
      input: input([pod("a", 9001, { terminating: true })], [live("pod1", 9001, { sessions: 2 }), empty("pod2"), empty("pod3")]),
      want: ["set server be_ep/pod1 state drain"],
    },
    {
      name: "a drained pod with nothing in flight goes to maintenance",
      input: input([pod("a", 9001, { terminating: true })], [live("pod1", 9001, { status: "DRAIN" }), empty("pod2"), empty("pod3")]),
      want: ["set server be_ep/pod1 state maint"],
    },
    {
      name: "a draining pod with requests in flight stays draining",
      input: input([pod("a", 9001, { terminating: true })], [live("pod1", 9001, { status: "DRAIN", sessions: 1 }), empty("pod2"), empty("pod3")]),
      want: [],
    },
    {
      name: "a pod that vanished while busy drains; its slot is not reused yet",
      input: input([pod("b", 9002)], [live("pod1", 9001, { sessions: 3 }), empty("pod2"), empty("pod3")]),
      want: ["set server be_ep/pod1 state drain", "set server be_ep/pod2 addr 127.0.0.1 port 9002", "set maxconn server be_ep/pod2 4", "set server be_ep/pod2 state ready"],
    },
    {
      name: "a vanished idle pod's slot goes to maintenance",
      input: input([], [live("pod1", 9001), empty("pod2"), empty("pod3")]),
      want: ["set server be_ep/pod1 state maint"],
    },
    {
      name: "a slot left in maintenance by a gone pod is reused from maintenance",
      input: input([pod("c", 9003)], [live("pod1", 9001, { status: "MAINT" }), empty("pod2", { sessions: 1, status: "MAINT" }), empty("pod3")]),
      want: ["set server be_ep/pod1 addr 127.0.0.1 port 9003", "set maxconn server be_ep/pod1 4", "set server be_ep/pod1 state ready"],
    },
    {
      name: "target concurrency change → set maxconn on live slots only",
      input: input([pod("a", 9001)], [live("pod1", 9001, { maxconn: 2 }), empty("pod2", { maxconn: 2 }), empty("pod3")]),
      want: ["set maxconn server be_ep/pod1 4"],
    },
    {
      name: "maxconn divided across 3 gateway replicas, floor, never 0",
      input: input([pod("a", 9001)], [live("pod1", 9001)], { gatewayReplicas: 3, endpoints: [ep({ slots: 1 })] }),
      want: ["set maxconn server be_ep/pod1 1"],
    },
    {
      name: "maxconn with target 1 on 4 gateway replicas is 1, not 0 (0 = unlimited)",
      input: input([pod("a", 9001)], [live("pod1", 9001)], { gatewayReplicas: 4, endpoints: [ep({ slots: 1, targetConcurrency: 1 })] }),
      want: ["set maxconn server be_ep/pod1 1"],
    },
    {
      name: "a slot found in maintenance holding a ready pod (after a restart) is re-enabled",
      input: input([pod("a", 9001)], [live("pod1", 9001, { status: "MAINT" }), empty("pod2"), empty("pod3")]),
      want: ["set server be_ep/pod1 state ready"],
    },
    {
      name: "more ready pods than slots → fill what exists and ask for a reload",
      input: input([pod("a", 9001), pod("b", 9002)], [empty("pod1")], { endpoints: [ep({ slots: 1 })] }),
      want: ["set server be_ep/pod1 addr 127.0.0.1 port 9001", "set maxconn server be_ep/pod1 4", "set server be_ep/pod1 state ready"],
      reload: /endpoint ep needs 2 slots, has 1/,
    },
    { name: "a missing backend asks for a reload", input: input([pod("a", 9001)], []), want: [], reload: /endpoint ep has no backend/ },
    {
      name: "an undesired backend asks for a reload",
      input: input([], [empty("pod1"), empty("pod2"), empty("pod3"), empty("pod1", { backend: "be_old" })]),
      want: [],
      reload: /backends be_old are no longer desired/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = reconcile(c.input);
      assert.deepEqual(plan.commands, c.want);
      if (c.reload) assert.match(plan.reloadReason ?? "", c.reload);
      else assert.equal(plan.reloadReason, undefined);
    });
  }

  it("API keys: add before delete, change in place; map holds only hashes", () => {
    const keys = [{ id: "k1", sha256: "aa", endpoints: ["ep"] }, { id: "k2", sha256: "bb", endpoints: ["ep", "x"] }];
    const have = new Map([["aa", "k0"], ["aa/ep", "k0"], ["cc", "k3"], ["cc/ep", "k3"]]);
    const plan = reconcile(input([], [empty("pod1"), empty("pod2"), empty("pod3")], { apiKeys: keys, observed: { servers: [empty("pod1"), empty("pod2"), empty("pod3")], apiKeyMap: have } }));
    assert.deepEqual(plan.commands, [
      "set map /k.map aa k1",
      "set map /k.map aa/ep k1",
      "add map /k.map bb k2",
      "add map /k.map bb/ep k2",
      "add map /k.map bb/x k2",
      "del map /k.map cc",
      "del map /k.map cc/ep",
    ]);
    assert.deepEqual([...apiKeyMapEntries(keys).keys()], ["aa", "aa/ep", "bb", "bb/ep", "bb/x"]);
  });

  it("a key listing `*` is authorised on every endpoint served now, and on none that is gone", () => {
    const keys = [{ id: "k1", sha256: "aa", endpoints: ["*"] }, { id: "k2", sha256: "bb", endpoints: ["ep"] }];
    assert.deepEqual([...apiKeyMapEntries(keys, ["ep", "team-ep"]).keys()], ["aa", "aa/ep", "aa/team-ep", "bb", "bb/ep"]);
    assert.deepEqual([...apiKeyMapEntries(keys, []).keys()], ["aa", "bb", "bb/ep"]);
  });

  it("slot assignment is stable: pods keep their slots across cycles", () => {
    const servers = [live("pod1", 9002), live("pod2", 9001), empty("pod3")];
    const plan = reconcile(input([pod("a", 9001), pod("b", 9002)], servers));
    assert.deepEqual(plan.commands, []);
    assert.equal(plan.slots.get("ep")?.get("pod1")?.podId, "b");
    assert.equal(plan.slots.get("ep")?.get("pod2")?.podId, "a");
  });
});
