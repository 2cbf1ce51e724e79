/**
 * The per-pod limit holds at any gateway replica count: 2 → 3 → 2 gateway processes (each a real HAProxy + agent)
 * share 3 model pods under closed-loop load; every agent divides the target by the replicas alive now, a starting
 * and a terminating replica counted too. In-flight is sampled at the pods every millisecond; no pod may exceed
 * its target and every request must succeed. The load balancer in front is a TEST DOUBLE (round robin over the
 * ready gateways), as is the membership list (in Kubernetes: the gateway Service's EndpointSlices).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startModelServer, type RunningModelServer } from "../../controller/src/model-server/server.ts";
import { call, endpoint, hookBody, startGateway, until, type Gateway } from "./harness.ts";

const TARGET = 6;
const PATH = "/serving-endpoints/iris/invocations";

interface Member {
  gw: Gateway;
  state: "starting" | "ready" | "terminating";
}

describe("per-pod limit with 2 → 3 → 2 gateway replicas under load (real HAProxy)", () => {
  const pods: RunningModelServer[] = [];
  const members: Member[] = [];
  const podMax: number[] = [];
  let sampler: NodeJS.Timeout | undefined;

  /** Publishes the live count (all members, whatever their state) to every agent and waits until applied. */
  async function publish(): Promise<void> {
    for (const m of members) m.gw.source.setGatewayReplicas(members.length);
    for (const m of members) await m.gw.agent.cycle();
  }

  async function join(): Promise<Member> {
    const gw = await startGateway({ endpoints: [endpoint("iris", { targetConcurrency: TARGET, slots: 4, queueTimeoutMs: 10_000, maxQueue: 1000, modelTimeoutMs: 10_000 })] });
    pods.forEach((p, i) => gw.source.upsertPod("iris", { id: `pod-${i}`, addr: "127.0.0.1", port: p.port, ready: true, terminating: false }));
    const m: Member = { gw, state: "starting" };
    members.push(m);
    // Counted while starting: the others lower their limits before this one takes traffic.
    await publish();
    return m;
  }

  before(async () => {
    for (let i = 0; i < 3; i++) pods.push(await startModelServer({ cpuMs: 0, testHooks: true }));
    pods.forEach(() => podMax.push(0));
    sampler = setInterval(() => pods.forEach((p, i) => (podMax[i] = Math.max(podMax[i]!, p.inFlight()))), 1);
    for (let i = 0; i < 2; i++) (await join()).state = "ready";
  });
  after(async () => {
    clearInterval(sampler);
    for (const m of members) await m.gw.stop();
    await Promise.all(pods.map((p) => p.close()));
  });

  it("no pod above its target, no request lost", async (t) => {
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    let running = true;
    let rr = 0;
    const worker = async (): Promise<void> => {
      while (running) {
        const ready = members.filter((m) => m.state === "ready");
        const m = ready[rr++ % ready.length]!;
        try {
          const r = await call(m.gw.publicPort, PATH, { body: hookBody({ sleep_ms: 30 }) });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    };
    // More workers than the pods' total target (3 × 6 = 18): the limits bind and the gateways queue.
    const load = Array.from({ length: 24 }, () => worker());
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(1500);
    const limitsAt = (m: Member) => [...(m.gw.agent.slotValues("iris")?.values() ?? [])].filter((v) => v.podId !== undefined).map((v) => v.maxconn);
    assert.deepEqual(limitsAt(members[0]!), [3, 3, 3], "2 replicas: 6 / 2");

    // 2 → 3: the new replica is counted while it starts; the old ones' requests at the old limit finish
    // (30 ms each) before it takes traffic (in Kubernetes: its start, seconds).
    const third = await join();
    await sleep(200);
    third.state = "ready";
    assert.deepEqual(limitsAt(members[0]!), [2, 2, 2], "3 replicas: 6 / 3");
    await sleep(1500);

    // 3 → 2: the load balancer stops sending to it; it is counted until its last request finished and it is gone.
    third.state = "terminating";
    assert.ok(await until(async () => !/\.scur\.\d+:[^:]*:[^:]*:[1-9]/m.test(await third.gw.api.send("show stat -1 4 -1 typed")), 5000));
    members.splice(members.indexOf(third), 1);
    await third.gw.stop();
    await publish();
    assert.deepEqual(limitsAt(members[0]!), [3, 3, 3], "back to 6 / 2");
    await sleep(1500);
    running = false;
    await Promise.all(load);

    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`${total} requests, statuses ${JSON.stringify([...statuses])}, largest in-flight per pod ${podMax.join(", ")} (target ${TARGET})`);
    assert.deepEqual(errors, []);
    assert.deepEqual([...statuses.keys()], [200], JSON.stringify([...statuses]));
    assert.ok(total > 300, `${total} requests`);
    assert.ok(podMax.every((x) => x <= TARGET), `largest in-flight per pod ${podMax.join(", ")} (target ${TARGET})`);
    assert.ok(podMax.every((x) => x >= TARGET - 1), `the limits bound: ${podMax.join(", ")}`);
  });
});
