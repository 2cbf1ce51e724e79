/**
 * The gateway agent: keeps a running HAProxy in line with the desired state.
 *
 * Each cycle (every `intervalMs`, and soon after the desired state changes): observe HAProxy through the runtime
 * API, plan with the pure `reconcile`, apply the runtime commands. Pod membership, readiness, per-pod limits and
 * API keys change without a reload. The config is rewritten (with the current slot values, so nothing reverts)
 * and HAProxy reloaded hitlessly only when the endpoint set or a slot count changes. Because every cycle starts
 * from what HAProxy reports, state is re-applied after any HAProxy restart or reload.
 *
 * I/O is injected (`AgentIo`); the clock is injected through `setTimer`.
 */
import { reconcile, type ReconcilePlan } from "./reconcile.ts";
import { renderConfig } from "./render-config.ts";
import { isErrorAnswer, parseInfoPid, parseServerStats, parseShowMap, SHOW_SERVER_STATS, type RuntimeApi } from "./runtime-api.ts";
import type { DesiredState, DesiredStateSource, GatewayEndpoint, GatewaySettings, SlotValues } from "./types.ts";
import { endpointProblems, GatewayConfigError, settingsProblems } from "./validate.ts";

/** The agent's edges: runtime API, config file, reload, timers and logging. */
export interface AgentIo {
  readonly api: RuntimeApi;
  /** Writes the rendered config and the API-key map file (both read by HAProxy at start). */
  writeFiles(configText: string, apiKeyMapText: string): Promise<void>;
  /** Checks the written config and asks the master process for a hitless reload. */
  reload(): Promise<void>;
  /** Schedules `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
  log(message: string): void;
}

/**
 * Where the agent reports an endpoint it cannot serve as declared (Kubernetes: a status condition, an Event and a
 * metric). Called when an endpoint's problems change, not every cycle.
 */
export interface EndpointReports {
  /** `problems` name each field, value and what is allowed; `servingLastGood`: its last valid settings stay in force. */
  rejected(endpoint: string, problems: readonly string[], servingLastGood: boolean): void;
  /** A rejected endpoint is valid again (or gone). */
  accepted(endpoint: string): void;
}

export interface AgentOptions {
  readonly settings: GatewaySettings;
  readonly source: DesiredStateSource;
  readonly io: AgentIo;
  /** Cycle period. @default 1000 */
  readonly intervalMs?: number;
  /** Delay from a desired-state change to the next cycle. @default 20 */
  readonly changeDelayMs?: number;
  /** Reports of endpoints that fail validation. @default log only */
  readonly reports?: EndpointReports;
}

/** What one cycle did. */
export interface CycleResult {
  readonly pid: number;
  readonly commands: number;
  readonly errors: readonly string[];
  readonly reloaded: string | undefined;
}

/** The map file text for a set of entries. */
export function mapFileText(entries: ReadonlyMap<string, string>): string {
  return [...entries].map(([k, v]) => `${k} ${v}\n`).join("");
}

export class GatewayAgent {
  private readonly opts: AgentOptions;
  private cancelTimer: (() => void) | undefined;
  private running = false;
  private inCycle = false;
  private lock: Promise<unknown> = Promise.resolve();
  private dirty = false;
  private busy: Promise<CycleResult | undefined> = Promise.resolve(undefined);
  private unsubscribe: (() => void) | undefined;
  private lastPid = 0;
  private lastPlan: ReconcilePlan | undefined;
  /** Endpoints as last rendered into the config (slot counts included). */
  private rendered: readonly GatewayEndpoint[] | undefined;
  /** Last valid settings of each endpoint: kept in force while a later change is invalid. */
  private readonly lastGood = new Map<string, GatewayEndpoint>();
  /** Problems last reported per rejected endpoint (joined), so a report is made once per change. */
  private readonly rejectedNow = new Map<string, string>();

  constructor(opts: AgentOptions) {
    this.opts = opts;
  }

  /** Writes the initial config for the current desired state (before HAProxy starts). */
  async writeInitialConfig(): Promise<void> {
    const desired = this.valid(this.opts.source.current());
    this.rendered = desired.endpoints;
    const plan = reconcile(this.planInput(desired, { servers: [], apiKeyMap: new Map() }));
    await this.opts.io.writeFiles(renderConfig({ settings: this.settingsFor(desired), endpoints: desired.endpoints }), mapFileText(plan.apiKeyMap));
  }

  /** Starts the cycle loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.opts.source.onChange(() => this.schedule(this.opts.changeDelayMs ?? 20));
    this.schedule(0);
  }

  /** Stops the loop; resolves after a cycle in progress ends. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    this.unsubscribe?.();
    await this.busy.catch(() => undefined);
  }

  /** True when the pod holds no slot, or its slot is out of service with nothing in flight. */
  podDrained(endpoint: string, podId: string): boolean {
    const slots = this.lastPlan?.slots.get(endpoint);
    if (slots === undefined) return true;
    for (const v of slots.values()) if (v.podId === podId) return v.state === "maint";
    return true;
  }

  /** Slot values last planned for an endpoint. */
  slotValues(endpoint: string): SlotValues | undefined {
    return this.lastPlan?.slots.get(endpoint);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.inCycle) {
      // A change during a cycle: run again right after it.
      this.dirty = true;
      return;
    }
    this.cancelTimer?.();
    this.cancelTimer = this.opts.io.setTimer(() => {
      this.cancelTimer = undefined;
      this.inCycle = true;
      this.busy = this.cycle().catch((e: unknown) => {
        this.opts.io.log(`gateway agent: cycle failed: ${(e as Error).message}`);
        return undefined;
      });
      void this.busy.then(() => {
        this.inCycle = false;
        const again = this.dirty;
        this.dirty = false;
        this.schedule(again ? 0 : (this.opts.intervalMs ?? 1000));
      });
    }, ms);
  }

  /** The settings with the live gateway replica count (the per-pod maxconn divisor) when the source knows it. */
  private settingsFor(desired: DesiredState): GatewaySettings {
    const n = desired.gatewayReplicas;
    if (n === undefined || !Number.isInteger(n) || n < 1) return this.opts.settings;
    return { ...this.opts.settings, gatewayReplicas: Math.min(n, 1000) };
  }

  private planInput(desired: DesiredState, observed: { servers: ReturnType<typeof parseServerStats>; apiKeyMap: Map<string, string> }) {
    return {
      endpoints: desired.endpoints,
      pods: desired.pods,
      apiKeys: desired.apiKeys,
      gatewayReplicas: this.settingsFor(desired).gatewayReplicas,
      apiKeyMapPath: this.opts.settings.apiKeyMapPath,
      observed,
    };
  }

  /** One observe → plan → apply cycle (serialised with the loop's). Public so tests and runners can drive it. */
  cycle(): Promise<CycleResult> {
    const run = this.lock.then(() => this.cycleOnce());
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * The desired state with every endpoint checked on its own: a valid one is served (and remembered), an invalid
   * one is reported and either keeps its last valid settings or, never valid, is left out; the others are
   * served either way. Bad gateway-wide settings (the agent's own flags) still throw: nothing could be served.
   */
  private valid(desired: DesiredState): DesiredState {
    const settingsBad = settingsProblems(this.opts.settings);
    if (settingsBad.length > 0) throw new GatewayConfigError(settingsBad);
    const out: GatewayEndpoint[] = [];
    const seen = new Set<string>();
    for (const ep of desired.endpoints) {
      const name = String(ep.name);
      const problems = endpointProblems(ep, `endpoint ${JSON.stringify(name)}`, this.opts.settings);
      if (seen.has(name)) problems.push(`endpoint ${JSON.stringify(name)}: the name is declared twice; the first is served`);
      const last = this.lastGood.get(name);
      if (problems.length === 0) {
        seen.add(name);
        this.lastGood.set(name, ep);
        out.push(ep);
        if (this.rejectedNow.delete(name)) {
          this.opts.io.log(`gateway agent: endpoint ${name} is valid again`);
          this.opts.reports?.accepted(name);
        }
        continue;
      }
      const kept = last !== undefined && !seen.has(name);
      if (kept) {
        seen.add(name);
        out.push(last);
      }
      const key = problems.join("\n");
      if (this.rejectedNow.get(name) !== key) {
        this.rejectedNow.set(name, key);
        this.opts.io.log(`gateway agent: endpoint ${name} rejected (${kept ? "serving its last valid settings" : "not served"}): ${problems.join("; ")}`);
        this.opts.reports?.rejected(name, problems, kept);
      }
    }
    const present = new Set(desired.endpoints.map((e) => String(e.name)));
    for (const name of [...this.lastGood.keys()]) if (!present.has(name)) this.lastGood.delete(name);
    for (const name of [...this.rejectedNow.keys()]) {
      if (!present.has(name)) {
        this.rejectedNow.delete(name);
        this.opts.reports?.accepted(name);
      }
    }
    return { ...desired, endpoints: out };
  }

  private async cycleOnce(): Promise<CycleResult> {
    const { api, log } = this.opts.io;
    const desired = this.valid(this.opts.source.current());
    const pid = parseInfoPid(await api.send("show info"));
    if (this.lastPid !== 0 && pid !== this.lastPid) log(`gateway agent: HAProxy worker changed ${this.lastPid} → ${pid}; re-applying state`);
    this.lastPid = pid;
    const servers = parseServerStats(await api.send(SHOW_SERVER_STATS));
    const apiKeyMap = parseShowMap(await api.send(`show map ${this.opts.settings.apiKeyMapPath}`));
    const plan = reconcile(this.planInput(desired, { servers, apiKeyMap }));
    this.lastPlan = plan;

    const shapeChanged = this.rendered === undefined || !sameShape(this.rendered, desired.endpoints);
    const reason = plan.reloadReason ?? (shapeChanged ? "endpoint settings changed" : undefined);
    const errors: string[] = [];
    for (const cmd of plan.commands) {
      const answer = await api.send(cmd);
      if (isErrorAnswer(answer)) errors.push(`${cmd}: ${answer.trim()}`);
    }
    for (const e of errors) log(`gateway agent: runtime command failed: ${e}`);
    if (plan.commands.length > 0) {
      const shown = plan.commands.filter((c) => !c.includes(" map ")).slice(0, 8);
      log(`gateway agent: applied ${plan.commands.length} runtime commands${shown.length > 0 ? `: ${shown.join("; ")}` : " (API-key map)"}`);
    }
    if (reason !== undefined) {
      const endpoints = desired.endpoints.map((ep) => ({ ...ep, slots: plan.slotCounts.get(ep.name) ?? ep.slots }));
      const text = renderConfig({ settings: this.settingsFor(desired), endpoints, runtime: plan.slots });
      await this.opts.io.writeFiles(text, mapFileText(plan.apiKeyMap));
      log(`gateway agent: reloading HAProxy: ${reason}`);
      await this.opts.io.reload();
      this.rendered = desired.endpoints;
    } else if (plan.commands.length > 0) {
      // Keep the files in step with the runtime state (slots: addresses, states, maxconn; the key map), so a
      // reload or restart the agent did not start (SIGUSR2 to the master, a container restart) loses nothing.
      const endpoints = this.rendered ?? desired.endpoints;
      await this.opts.io.writeFiles(
        renderConfig({ settings: this.settingsFor(desired), endpoints: endpoints.map((ep) => ({ ...ep, slots: plan.slotCounts.get(ep.name) ?? ep.slots })), runtime: plan.slots }),
        mapFileText(plan.apiKeyMap),
      );
    }
    return { pid, commands: plan.commands.length, errors, reloaded: reason };
  }
}

/** Endpoint settings that need a reload when they change (everything but the target concurrency). */
function sameShape(a: readonly GatewayEndpoint[], b: readonly GatewayEndpoint[]): boolean {
  const norm = (eps: readonly GatewayEndpoint[]): string =>
    JSON.stringify([...eps].map((e) => ({ ...e, targetConcurrency: 0 })).sort((x, y) => x.name.localeCompare(y.name)));
  return norm(a) === norm(b);
}
