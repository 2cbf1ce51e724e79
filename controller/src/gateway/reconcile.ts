/**
 * The agent's decision (pure): desired state + what HAProxy reports now → slot assignment, runtime commands,
 * and whether a reload is needed. Table-tested in `test/gateway/reconcile.test.ts`.
 *
 * Slots keep their pod: a pod stays in the slot that holds its address. New ready pods take free slots (empty
 * and idle). A pod that is terminating, not ready or gone is drained (no new requests, in-flight finish) and
 * put in maintenance once idle. maxconn per pod = max(1, floor(target / gateway replicas)); never 0.
 */
import { backendName, slotName } from "./render-backend.ts";
import { slotStateOf, type ServerStat } from "./runtime-api.ts";
import type { ApiKeyEntry, GatewayEndpoint, PodTarget, SlotValue } from "./types.ts";
import { perPodMaxconn } from "./validate.ts";

/** What HAProxy reports now. */
export interface ObservedState {
  /** Server rows of `show stat`. */
  readonly servers: readonly ServerStat[];
  /** Current API-key map entries. */
  readonly apiKeyMap: ReadonlyMap<string, string>;
}

export interface ReconcileInput {
  readonly endpoints: readonly GatewayEndpoint[];
  readonly pods: ReadonlyMap<string, readonly PodTarget[]>;
  readonly apiKeys: readonly ApiKeyEntry[];
  readonly gatewayReplicas: number;
  readonly apiKeyMapPath: string;
  readonly observed: ObservedState;
}

export interface ReconcilePlan {
  /** Runtime API commands, in order. Empty when HAProxy already matches. */
  readonly commands: readonly string[];
  /** Desired value of every slot, per endpoint (also what a reload writes into the config). */
  readonly slots: ReadonlyMap<string, ReadonlyMap<string, SlotValue>>;
  /** Slot count per endpoint needed to hold every pod (≥ the endpoint's `slots`). */
  readonly slotCounts: ReadonlyMap<string, number>;
  /** Why a reload is needed (missing backend, too few slots), or undefined. */
  readonly reloadReason: string | undefined;
  /** Desired API-key map content. */
  readonly apiKeyMap: ReadonlyMap<string, string>;
}

const EMPTY_ADDR = "0.0.0.0";
/** A key's `endpoints` entry that opens every endpoint the gateway serves, present and future. */
export const ALL_ENDPOINTS = "*";

/**
 * The API-key map: `sha256` → key id (authenticates), `sha256/endpoint` → key id (authorises) and, for a key
 * with its own cap, `sha256.max` → requests in flight allowed. A key listing `*` is authorised on each of
 * `endpoints` (the endpoints the gateway serves now; a new one gets its entries in the cycle that adds it).
 */
export function apiKeyMapEntries(keys: readonly ApiKeyEntry[], endpoints: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keys) {
    out.set(k.sha256, k.id);
    if (k.maxInFlight !== undefined) out.set(`${k.sha256}.max`, String(k.maxInFlight));
    for (const ep of k.endpoints.includes(ALL_ENDPOINTS) ? [...new Set([...k.endpoints.filter((e) => e !== ALL_ENDPOINTS), ...endpoints])] : k.endpoints) out.set(`${k.sha256}/${ep}`, k.id);
  }
  return out;
}

function mapCommands(path: string, want: ReadonlyMap<string, string>, have: ReadonlyMap<string, string>): string[] {
  const cmds: string[] = [];
  for (const [k, v] of want) {
    if (!have.has(k)) cmds.push(`add map ${path} ${k} ${v}`);
    else if (have.get(k) !== v) cmds.push(`set map ${path} ${k} ${v}`);
  }
  // Revocations after additions: a key rotated to a new one never leaves a gap.
  for (const k of have.keys()) if (!want.has(k)) cmds.push(`del map ${path} ${k}`);
  return cmds;
}

interface EndpointPlan {
  slots: Map<string, SlotValue>;
  commands: string[];
  needed: number;
  missing: boolean;
}

function planEndpoint(ep: GatewayEndpoint, pods: readonly PodTarget[], observed: readonly ServerStat[], maxconn: number): EndpointPlan {
  const be = backendName(ep.name);
  const have = observed.filter((s) => s.backend === be);
  const byName = new Map(have.map((s) => [s.server, s]));
  const key = (addr: string, port: number): string => `${addr}:${port}`;
  const podByAddr = new Map(pods.map((p) => [key(p.addr, p.port), p]));
  const slots = new Map<string, SlotValue>();
  const placed = new Set<string>();

  // 1. Slots that hold a known pod keep it; slots of gone pods drain until idle, then go to maintenance.
  for (const s of have) {
    if (s.addr === EMPTY_ADDR) continue;
    const pod = podByAddr.get(key(s.addr, s.port));
    if (pod !== undefined && !placed.has(pod.id)) {
      placed.add(pod.id);
      const serving = pod.ready && !pod.terminating;
      const state = serving ? "ready" : s.sessions > 0 || slotStateOf(s.status) === "ready" ? "drain" : "maint";
      slots.set(s.server, { podId: pod.id, addr: s.addr, port: s.port, state, maxconn });
    } else if (s.sessions > 0 || s.queued > 0) {
      slots.set(s.server, { addr: s.addr, port: s.port, state: "drain", maxconn });
    }
  }
  // 2. New ready pods take free slots in name order; not-ready new pods wait outside the gateway.
  const free = Array.from({ length: Math.max(ep.slots, have.length) }, (_, i) => slotName(i + 1)).filter(
    (n) => !slots.has(n) && byName.has(n),
  );
  const waiting = pods.filter((p) => p.ready && !p.terminating && !placed.has(p.id));
  for (const pod of waiting) {
    const name = free.shift();
    if (name === undefined) break;
    slots.set(name, { podId: pod.id, addr: pod.addr, port: pod.port, state: "ready", maxconn });
    placed.add(pod.id);
  }
  const unplaced = waiting.filter((p) => !placed.has(p.id)).length;
  // 3. Every remaining slot is empty and in maintenance.
  for (const s of have) {
    if (!slots.has(s.server)) slots.set(s.server, { addr: EMPTY_ADDR, port: 1, state: "maint", maxconn });
  }

  const commands: string[] = [];
  for (const [name, want] of slots) {
    const cur = byName.get(name);
    if (cur === undefined) continue;
    const id = `${be}/${name}`;
    const curState = slotStateOf(cur.status);
    if (want.addr !== EMPTY_ADDR && (cur.addr !== want.addr || cur.port !== want.port)) {
      // A slot changes address only from maintenance: never re-point a slot that still serves.
      if (curState !== "maint") commands.push(`set server ${id} state maint`);
      commands.push(`set server ${id} addr ${want.addr} port ${want.port}`);
      if (want.state !== "maint" || curState !== "maint") commands.push(`set maxconn server ${id} ${want.maxconn}`);
      if (want.state !== "maint") commands.push(`set server ${id} state ${want.state}`);
      continue;
    }
    if (cur.maxconn !== want.maxconn && want.addr !== EMPTY_ADDR) commands.push(`set maxconn server ${id} ${want.maxconn}`);
    if (curState !== want.state) commands.push(`set server ${id} state ${want.state}`);
  }
  const needed = have.length + unplaced;
  return { slots, commands, needed: Math.max(ep.slots, needed), missing: have.length === 0 };
}

/** Plans the runtime commands that bring HAProxy to the desired state. */
export function reconcile(input: ReconcileInput): ReconcilePlan {
  const commands: string[] = [];
  const slots = new Map<string, ReadonlyMap<string, SlotValue>>();
  const slotCounts = new Map<string, number>();
  const reasons: string[] = [];
  for (const ep of input.endpoints) {
    const maxconn = perPodMaxconn(ep.targetConcurrency, input.gatewayReplicas);
    const plan = planEndpoint(ep, input.pods.get(ep.name) ?? [], input.observed.servers, maxconn);
    slots.set(ep.name, plan.slots);
    slotCounts.set(ep.name, plan.needed);
    commands.push(...plan.commands);
    const haveCount = input.observed.servers.filter((s) => s.backend === backendName(ep.name)).length;
    if (plan.missing) reasons.push(`endpoint ${ep.name} has no backend in the running HAProxy`);
    else if (plan.needed > haveCount) reasons.push(`endpoint ${ep.name} needs ${plan.needed} slots, has ${haveCount}`);
  }
  const known = new Set(input.endpoints.map((e) => backendName(e.name)));
  const extra = [...new Set(input.observed.servers.map((s) => s.backend))].filter((b) => !known.has(b));
  if (extra.length > 0) reasons.push(`backends ${extra.join(", ")} are no longer desired`);
  const apiKeyMap = apiKeyMapEntries(input.apiKeys, input.endpoints.map((e) => e.name));
  commands.push(...mapCommands(input.apiKeyMapPath, apiKeyMap, input.observed.apiKeyMap));
  return { commands, slots, slotCounts, reloadReason: reasons.length > 0 ? reasons.join("; ") : undefined, apiKeyMap };
}
