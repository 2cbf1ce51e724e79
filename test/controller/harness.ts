/**
 * Test harness: the real ApaController + real client-node against the FakeApiServer test double, a fake
 * gateway (HAProxy promex pages rendered from a captured template, per gateway replica) and a ManualClock.
 */
import type { EngineConfig } from "../../controller/src/engine/config.ts";
import { ManualClock } from "../../controller/src/kube/clock.ts";
import { loadConfig } from "../../controller/src/kube/config.ts";
import { ApaController } from "../../controller/src/kube/controller.ts";
import { GatewayScraper } from "../../controller/src/kube/gateway-scraper.ts";
import { kubeConfigForUrl, makeKubeApi, type KubeApi } from "../../controller/src/kube/kube-api.ts";
import { silentLogger } from "../../controller/src/kube/logger.ts";
import { makeControllerMetrics, type ControllerMetrics } from "../../controller/src/kube/own-metrics.ts";
import { renderBackendPage } from "../../bench/controller/promex-page.ts";
import { defaultWarmPoolConfig } from "../../controller/src/kube/warm-pool.ts";
import type { FakeApiServer } from "./fake-api-server.ts";
import { waitFor } from "./helpers.ts";

/** A fake gateway tier: per replica, per endpoint load; cumulative counters advance with `tick`. */
export class FakeGateway {
  /** replica id → endpoint → current load. */
  readonly load = new Map<string, Map<string, { inFlight: number; queued: number; rps: number; serviceMs: number }>>();
  readonly #requests = new Map<string, number>();
  /** Replicas whose scrape fails (outage). */
  readonly down = new Set<string>();

  /** Steady load: `inFlight` requests at the pods, each taking `serviceMs` (so rps = inFlight × 1000 / serviceMs). */
  set(replica: string, endpoint: string, inFlight: number, queued = 0, serviceMs = 100): void {
    let m = this.load.get(replica);
    if (m === undefined) this.load.set(replica, (m = new Map()));
    m.set(endpoint, { inFlight, queued, rps: (inFlight * 1000) / serviceMs, serviceMs });
  }

  remove(replica: string): void {
    this.load.delete(replica);
  }

  tick(seconds = 1): void {
    for (const [r, m] of this.load) for (const [e, l] of m) this.#requests.set(`${r}/${e}`, (this.#requests.get(`${r}/${e}`) ?? 0) + l.rps * seconds);
  }

  targets(): { id: string; url: string }[] {
    return [...this.load.keys()].map((id) => ({ id, url: `http://${id}/metrics` }));
  }

  async fetchText(url: string): Promise<string> {
    const id = url.replace(/^http:\/\//, "").replace(/\/metrics$/, "");
    if (this.down.has(id)) throw new Error("connect ECONNREFUSED (fake gateway down)");
    const m = this.load.get(id);
    if (m === undefined) throw new Error("no such gateway replica");
    return renderBackendPage(
      [...m].map(([e, l]) => {
        const total = Math.floor(this.#requests.get(`${id}/${e}`) ?? 0);
        return {
          proxy: `be_${e}`,
          currentSessions: l.inFlight + l.queued,
          currentQueue: l.queued,
          requestsTotal: total,
          responses2xxTotal: total,
          totalTimeAvgS: l.serviceMs / 1000,
          queueTimeAvgS: 0,
        };
      }),
    );
  }
}

export interface Instance {
  readonly controller: ApaController;
  readonly api: KubeApi;
  readonly metrics: ControllerMetrics;
  /** Makes every API call of this instance fail (a crashed process). */
  kill(): void;
}

export function makeInstance(opts: {
  readonly fake: FakeApiServer;
  readonly clock: ManualClock;
  readonly gateway: FakeGateway;
  readonly token: string;
  readonly isLeader: () => boolean;
  readonly args?: readonly string[];
  /** Engine constants (default: the engine's defaults). */
  readonly engineConfig?: EngineConfig;
}): Instance {
  const real = makeKubeApi(kubeConfigForUrl(opts.fake.url, opts.token));
  let dead = false;
  const api = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => (dead ? Promise.reject(new Error("process killed")) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  const config = loadConfig(["--gateway-url", "http://unused", "--identity", opts.token, ...(opts.args ?? [])], {}, { hostname: "test" });
  const metrics = makeControllerMetrics({ defaultMetrics: false });
  const controller = new ApaController({
    api,
    clock: opts.clock,
    log: silentLogger,
    metrics,
    config,
    scraper: new GatewayScraper({
      targets: () => opts.gateway.targets(),
      fetchText: (url) => opts.gateway.fetchText(url),
      timeoutMs: 500,
      graceMs: config.gatewayGraceMs,
      log: silentLogger,
    }),
    isLeader: () => !dead && opts.isLeader(),
    warmPool: defaultWarmPoolConfig,
    delayFn: async () => {},
    ...(opts.engineConfig !== undefined ? { engineConfig: opts.engineConfig } : {}),
  });
  controller.startCaches();
  return { controller, api, metrics, kill: () => void (dead = true) };
}

/** Advances the clock and the gateway counters by 1 s and runs one cycle on each live instance, `n` times. */
export async function step(clock: ManualClock, gateway: FakeGateway, instances: readonly Instance[], n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    await clock.advance(1000);
    gateway.tick(1);
    for (const inst of instances) await inst.controller.runCycle(clock.nowMs());
  }
}

export async function synced(...instances: Instance[]): Promise<void> {
  await waitFor(() => instances.every((i) => i.controller.synced), 5000, "caches synced");
}
