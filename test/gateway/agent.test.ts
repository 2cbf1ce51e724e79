/**
 * The agent's cycle without HAProxy: `FakeHaproxy` is a test double of the runtime API (it keeps slots and the
 * key map in memory and answers the commands the agent uses in 2.6.12's formats). Real-HAProxy behaviour is
 * covered by runtime-changes.test.ts; this checks the agent's own decisions step by step.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayAgent, type AgentIo } from "../../controller/src/gateway/agent.ts";
import type { RuntimeApi } from "../../controller/src/gateway/runtime-api.ts";
import type { GatewayEndpoint, GatewaySettings } from "../../controller/src/gateway/types.ts";
import { LocalDesiredStateSource } from "../../controller/src/local/local-source.ts";

interface Slot { addr: string; port: number; status: string; maxconn: number; sessions: number }

/** Test double of HAProxy's runtime API. */
class FakeHaproxy implements RuntimeApi {
  pid = 100;
  slots = new Map<string, Slot>();
  map = new Map<string, string>();
  sent: string[] = [];
  /** A fresh process with `count` empty slots per backend (what a restart from an initial config looks like). */
  restart(backends: Record<string, number>): void {
    this.pid++;
    this.slots.clear();
    for (const [be, count] of Object.entries(backends)) {
      for (let i = 1; i <= count; i++) this.slots.set(`${be}/pod${i}`, { addr: "0.0.0.0", port: 1, status: "MAINT", maxconn: 1, sessions: 0 });
    }
  }
  async send(cmd: string): Promise<string> {
    if (cmd === "show info") return `Name: HAProxy\nPid: ${this.pid}\n`;
    if (cmd.startsWith("show stat")) {
      let out = "";
      let sv = 0;
      for (const [id, s] of this.slots) {
        const [be, name] = id.split("/") as [string, string];
        sv++;
        const f = (pos: number, n: string, v: string | number) => `S.4.${sv}.${pos}.${n}.1:KNS:str:${v}\n`;
        out += f(0, "pxname", be) + f(1, "svname", name) + f(2, "qcur", 0) + f(4, "scur", s.sessions) + f(6, "slim", s.maxconn) + f(17, "status", s.status) + f(73, "addr", `${s.addr}:${s.port}`);
      }
      return out;
    }
    if (cmd.startsWith("show map")) return [...this.map].map(([k, v], i) => `0x${(i + 1).toString(16)} ${k} ${v}\n`).join("");
    this.sent.push(cmd);
    let m: RegExpExecArray | null;
    if ((m = /^set server (\S+) addr (\S+) port (\d+)$/.exec(cmd))) {
      const s = this.slots.get(m[1]!);
      if (!s) return "No such server.\n";
      s.addr = m[2]!;
      s.port = Number(m[3]);
    } else if ((m = /^set server (\S+) state (\w+)$/.exec(cmd))) {
      const s = this.slots.get(m[1]!);
      if (!s) return "No such server.\n";
      s.status = m[2] === "ready" ? "UP" : m[2]!.toUpperCase();
    } else if ((m = /^set maxconn server (\S+) (\d+)$/.exec(cmd))) {
      const s = this.slots.get(m[1]!);
      if (!s) return "No such server.\n";
      s.maxconn = Number(m[2]);
    } else if ((m = /^(add|set) map \S+ (\S+) (\S+)$/.exec(cmd))) this.map.set(m[2]!, m[3]!);
    else if ((m = /^del map \S+ (\S+)$/.exec(cmd))) this.map.delete(m[1]!);
    return "\n";
  }
}

const settings: GatewaySettings = {
  bindAddress: "127.0.0.1", publicPort: 8080, metricsPort: 8404, statsSocketPath: "/run/gw/admin.sock",
  apiKeyMapPath: "/run/gw/keys.map", gatewayReplicas: 2, jwtIssuers: [],
};
const ep = (name: string, over: Partial<GatewayEndpoint> = {}): GatewayEndpoint => ({
  name, runtime: "mlflow", auth: { apiKeys: true, jwt: false }, targetConcurrency: 8, slots: 2,
  queueTimeoutMs: 1000, maxQueue: 10, maxBodyBytes: 1000, modelTimeoutMs: 1000, ...over,
});

function setup() {
  const fake = new FakeHaproxy();
  fake.restart({ be_a: 2 });
  const source = new LocalDesiredStateSource({ endpoints: [ep("a")], apiKeys: [{ id: "k1", sha256: "aa", endpoints: ["a"] }] });
  const files: Array<{ config: string; map: string }> = [];
  let reloads = 0;
  const logs: string[] = [];
  const io: AgentIo = {
    api: fake,
    writeFiles: async (config, map) => void files.push({ config, map }),
    reload: async () => {
      reloads++;
      // The reloaded process starts from the written config: here, a fresh process with the new slot counts.
      const last = files.at(-1)?.config ?? "";
      const backends: Record<string, number> = {};
      for (const m of last.matchAll(/^backend (\S+)$/gm)) backends[m[1]!] = (last.split(`backend ${m[1]}`)[1]?.split("\nbackend ")[0]?.match(/server(-template)? pod/g) ?? []).length;
      fake.restart(Object.fromEntries(Object.keys(backends).map((b) => [b, 2])));
    },
    setTimer: () => () => undefined,
    log: (m) => logs.push(m),
  };
  const agent = new GatewayAgent({ settings, source, io });
  // As in use: the initial config is written before HAProxy starts (without it, the first cycle reloads once,
  // because the agent cannot know which settings the running config has).
  void agent.writeInitialConfig();
  return { fake, source, agent, files, logs, reloads: () => reloads };
}

describe("GatewayAgent cycle (runtime API test double)", () => {
  it("fills slots, divides maxconn across gateway replicas, syncs keys, then has nothing to do", async () => {
    const { fake, source, agent } = setup();
    source.upsertPod("a", { id: "p1", addr: "10.0.0.1", port: 8080, ready: true, terminating: false });
    const r = await agent.cycle();
    assert.equal(r.reloaded, undefined);
    assert.deepEqual(fake.sent, [
      "set server be_a/pod1 addr 10.0.0.1 port 8080",
      "set maxconn server be_a/pod1 4",
      "set server be_a/pod1 state ready",
      "add map /run/gw/keys.map aa k1",
      "add map /run/gw/keys.map aa/a k1",
    ]);
    fake.sent = [];
    assert.equal((await agent.cycle()).commands, 0);
  });

  it("a target change is one set maxconn per live slot, no reload", async () => {
    const { fake, source, agent, files } = setup();
    source.upsertPod("a", { id: "p1", addr: "10.0.0.1", port: 8080, ready: true, terminating: false });
    await agent.cycle();
    fake.sent = [];
    source.setTargetConcurrency("a", 2);
    const r = await agent.cycle();
    assert.deepEqual(fake.sent, ["set maxconn server be_a/pod1 1"]);
    assert.equal(r.reloaded, undefined);
    assert.equal(files.length, 3, "the initial config, the first cycle's, and this change's: the file follows the runtime state");
    assert.match(files.at(-1)!.config, /server pod1 10\.0\.0\.1:8080 maxconn 1 /);
  });

  it("after a restart (new pid, empty slots) the next cycle re-applies pods, limits and keys", async () => {
    const { fake, source, agent, logs } = setup();
    source.upsertPod("a", { id: "p1", addr: "10.0.0.1", port: 8080, ready: true, terminating: false });
    await agent.cycle();
    fake.restart({ be_a: 2 });
    fake.map.clear();
    fake.sent = [];
    await agent.cycle();
    assert.equal(fake.sent.length, 5);
    assert.ok(logs.some((l) => /HAProxy worker changed 101 → 102; re-applying state/.test(l)), logs.join(" | "));
    assert.deepEqual(fake.slots.get("be_a/pod1"), { addr: "10.0.0.1", port: 8080, status: "UP", maxconn: 4, sessions: 0 });
  });

  it("a new endpoint reloads once, with the current slot values written into the config", async () => {
    const { source, agent, files, reloads } = setup();
    source.upsertPod("a", { id: "p1", addr: "10.0.0.1", port: 8080, ready: true, terminating: false });
    await agent.cycle();
    source.setEndpoint(ep("b"));
    const r = await agent.cycle();
    assert.match(r.reloaded ?? "", /endpoint b has no backend/);
    assert.equal(reloads(), 1);
    const cfg = files.at(-1)?.config ?? "";
    assert.match(cfg, /backend be_b/);
    assert.match(cfg, /server pod1 10\.0\.0\.1:8080 maxconn 4 weight 100/);
  });

  it("a bad endpoint is refused on its own: nothing of it is applied, its last valid settings stay, the others go on", async () => {
    const { fake, source, agent, logs } = setup();
    source.upsertPod("a", { id: "p1", addr: "10.0.0.1", port: 8080, ready: true, terminating: false });
    await agent.cycle();
    source.setEndpoint(ep("a", { targetConcurrency: 0 }));
    source.setEndpoint(ep("b", { targetConcurrency: 5000 }));
    const sentBefore = fake.sent.length;
    const r = await agent.cycle();
    assert.equal(r.reloaded, undefined, "b is never valid: no backend for it, no reload");
    assert.ok(fake.sent.slice(sentBefore).every((c) => !/^set maxconn/.test(c)), fake.sent.slice(sentBefore).join("\n"));
    assert.ok(logs.some((m) => /endpoint a rejected \(serving its last valid settings\): endpoint "a"\.targetConcurrency: 0 is not allowed; must be an integer in 1\.\.4096/.test(m)), logs.join("\n"));
    assert.ok(logs.some((m) => /endpoint b rejected \(not served\)/.test(m)));
    assert.equal(agent.slotValues("a")?.get("pod1")?.maxconn, 4);
  });

  it("bad gateway-wide settings are refused before anything is applied", async () => {
    const fake = new FakeHaproxy();
    const source = new LocalDesiredStateSource({ endpoints: [ep("a")], apiKeys: [] });
    const io: AgentIo = { api: fake, writeFiles: async () => undefined, reload: async () => undefined, setTimer: () => () => undefined, log: () => undefined };
    const agent = new GatewayAgent({ settings: { ...settings, gatewayReplicas: 0 }, source, io });
    await assert.rejects(agent.cycle(), /settings\.gatewayReplicas: 0 is not allowed/);
    assert.deepEqual(fake.sent, []);
  });
});
