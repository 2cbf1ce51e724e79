/**
 * One bad ServingEndpoint never stops the gateway: the agent checks each endpoint on its own, reports a bad one
 * and serves the rest (real HAProxy); an endpoint that turns bad keeps its last valid settings. The limits the
 * gateway checks are the CRD's (one source: controller/src/contract/crd/limits.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { validateServingEndpoint } from "../../controller/src/contract/crd/index.ts";
import { MAX_CONCURRENCY_LIMIT, MAX_REPLICAS_LIMIT } from "../../controller/src/contract/crd/limits.ts";
import { ENDPOINT_LIMITS } from "../../controller/src/gateway/validate.ts";
import { base } from "../controller/crd-cases.ts";
import { call, endpoint, startGateway, until, type Gateway } from "./harness.ts";

const BAD = [
  { name: "my.model", over: {} },
  { name: "a".repeat(64), over: {} },
  { name: "toomanyslots", over: { slots: 10_000 } },
  { name: "concurrency5000", over: { targetConcurrency: 5000 } },
  { name: "target0", over: { targetConcurrency: 0 } },
] as const;

describe("a bad endpoint is reported and skipped; the rest are served (real HAProxy)", () => {
  let gw: Gateway;
  const rejected: Array<{ endpoint: string; problems: readonly string[]; kept: boolean }> = [];
  const accepted: string[] = [];
  before(async () => {
    gw = await startGateway({
      endpoints: [endpoint("iris"), ...BAD.map((b) => endpoint(b.name, b.over))],
      reports: { rejected: (e, problems, kept) => rejected.push({ endpoint: e, problems, kept }), accepted: (e) => accepted.push(e) },
    });
    await gw.addPod("iris");
    await gw.agent.cycle();
  });
  after(async () => gw.stop());

  it("starts with the bad endpoints in its input, serves the good one and reports each bad one once, naming the field", async () => {
    assert.equal((await call(gw.publicPort, "/serving-endpoints/iris/invocations")).status, 200);
    await gw.agent.cycle();
    assert.deepEqual(rejected.map((r) => r.endpoint).sort(), BAD.map((b) => b.name).sort());
    const problems = (n: string): string => rejected.find((r) => r.endpoint === n)!.problems.join("; ");
    assert.match(problems("my.model"), /name: "my\.model" is not allowed; must be a DNS label/);
    assert.match(problems("a".repeat(64)), /1\.\.63 characters/);
    assert.match(problems("toomanyslots"), /slots: 10000 is not allowed; must be an integer in 1\.\.4096/);
    assert.match(problems("concurrency5000"), /targetConcurrency: 5000 is not allowed/);
    assert.match(problems("target0"), /targetConcurrency: 0 is not allowed/);
    assert.ok(rejected.every((r) => !r.kept), "never valid: not served");
    assert.equal((await call(gw.publicPort, "/serving-endpoints/target0/invocations")).status, 404);
  });

  it("an endpoint that turns bad keeps its last valid settings and is reported; fixed, it is accepted again", async () => {
    gw.source.setTargetConcurrency("iris", 0);
    await gw.agent.cycle();
    const r = rejected.find((x) => x.endpoint === "iris");
    assert.ok(r !== undefined && r.kept, JSON.stringify(rejected.at(-1)));
    assert.equal((await call(gw.publicPort, "/serving-endpoints/iris/invocations")).status, 200);
    const slot = [...(gw.agent.slotValues("iris")?.values() ?? [])].find((v) => v.podId !== undefined);
    assert.equal(slot?.maxconn, 2, "the last valid target stays in force");
    gw.source.setTargetConcurrency("iris", 3);
    assert.ok(await until(async () => (await gw.agent.cycle(), accepted.includes("iris"))));
    assert.equal([...(gw.agent.slotValues("iris")?.values() ?? [])].find((v) => v.podId !== undefined)?.maxconn, 3);
  });
});

describe("one source of the limits: the CRD refuses what the gateway cannot serve", () => {
  it("the gateway's bounds are the CRD's", () => {
    assert.equal(ENDPOINT_LIMITS.targetConcurrency.max, MAX_CONCURRENCY_LIMIT);
    assert.equal(ENDPOINT_LIMITS.slots.max, MAX_REPLICAS_LIMIT);
  });
  const cases: Array<{ name: string; edit: (o: any) => void; want: RegExp }> = [
    { name: "a name with a dot", edit: (o) => (o.metadata.name = "my.model"), want: /metadata\.name must be a DNS label/ },
    // The schema's maxLength answers first, in the API server's words; the CEL rule says the same for a dot.
    { name: "a 64-character name", edit: (o) => (o.metadata.name = "a".repeat(64)), want: /metadata\.name: Too long: may not be more than 63 bytes/ },
    { name: "replicas.max 10,000", edit: (o) => (o.spec.replicas.max = 10_000), want: /spec\.replicas\.max/ },
    { name: "concurrency.min 5000", edit: (o) => ((o.spec.concurrency.min = 5000), (o.spec.concurrency.max = 5000)), want: /spec\.concurrency\.min/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, () => {
      const o = structuredClone(base) as any;
      c.edit(o);
      const got = validateServingEndpoint(o);
      assert.equal(got.ok, false);
      if (!got.ok) assert.match(got.errors.map((e) => e.message).join("\n"), c.want);
    });
  }
});
