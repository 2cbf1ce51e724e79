/**
 * Scrapes every gateway replica's page once per cycle — by default the agent's `/stats` (HAProxy's
 * `show stat -1 2 -1` CSV); HAProxy's `/metrics?scope=backend` is read too (format told by content) — and sums
 * the per-endpoint samples across replicas with the shared `GatewayMetricsTracker`
 * (controller/src/gateway/metrics-reader.ts).
 *
 * Fail-static rules for the gateway side:
 * - a replica whose scrape fails, or that vanished from discovery, keeps contributing its last reading for
 *   `graceMs` (so losing one of two replicas does not halve the observed load), and the cycle is reported as
 *   degraded (the controller then allows no scale-down);
 * - after `graceMs` a vanished replica is forgotten (its clients have moved to the others by then); a replica
 *   still listed but failing keeps the cycle degraded.
 */
import { GatewayMetricsTracker, type EndpointOf, type GatewayEndpointSample } from "../gateway/metrics-reader.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./own-metrics.ts";

/** One gateway replica to scrape. */
export interface GatewayTarget {
  /** Stable identity (pod name or URL). */
  readonly id: string;
  readonly url: string;
}

export interface ScrapeResult {
  /** Summed sample per endpoint name. */
  readonly samples: ReadonlyMap<string, GatewayEndpointSample>;
  /** Why this cycle's gateway metrics are not complete; undefined when every replica answered. */
  readonly degraded: string | undefined;
  /** Replicas that answered this cycle. */
  readonly answered: number;
}

export type FetchText = (url: string, timeoutMs: number) => Promise<string>;

/** `fetch` with a timeout; non-2xx is an error. */
export const fetchText: FetchText = async (url, timeoutMs) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
};

export interface GatewayScraperOptions {
  /** Current gateway replicas (from the gateway Service's EndpointSlices, or a static list). */
  readonly targets: () => readonly GatewayTarget[];
  readonly fetchText?: FetchText;
  readonly timeoutMs: number;
  readonly graceMs: number;
  readonly log: Logger;
  readonly metrics?: ControllerMetrics;
  readonly endpointOf?: EndpointOf;
  /** High-resolution timer for scrape latency, ms. @default performance.now */
  readonly perfNowMs?: () => number;
}

export class GatewayScraper {
  readonly #opts: GatewayScraperOptions;
  readonly #tracker: GatewayMetricsTracker;
  /** Last time (controller clock) each replica was listed in discovery. */
  readonly #lastListedMs = new Map<string, number>();
  /** Last time each replica answered. */
  readonly #lastAnsweredMs = new Map<string, number>();

  constructor(opts: GatewayScraperOptions) {
    this.#opts = opts;
    this.#tracker = new GatewayMetricsTracker(opts.endpointOf);
  }

  async scrape(nowMs: number): Promise<ScrapeResult> {
    const targets = this.#opts.targets();
    const fetchFn = this.#opts.fetchText ?? fetchText;
    const perf = this.#opts.perfNowMs ?? (() => performance.now());
    const problems: string[] = [];
    let answered = 0;
    for (const t of targets) this.#lastListedMs.set(t.id, nowMs);
    const pages = await Promise.all(
      targets.map(async (t) => {
        const started = perf();
        try {
          const text = await fetchFn(t.url, this.#opts.timeoutMs);
          this.#opts.metrics?.scrapeSeconds.observe((perf() - started) / 1000);
          return { t, text };
        } catch (err) {
          this.#opts.metrics?.scrapeErrors.inc({ target: t.id });
          problems.push(`gateway replica ${t.id} scrape failed (${err instanceof Error ? err.message : String(err)})`);
          this.#opts.log.warn("gateway scrape failed", { gateway: t.id, url: t.url, error: err });
          return undefined;
        }
      }),
    );
    for (const p of pages) {
      if (p === undefined) continue;
      // Parse one page at a time, after all fetches: parsing is synchronous CPU work.
      try {
        this.#tracker.ingestPage(p.t.id, p.text, nowMs);
        this.#lastAnsweredMs.set(p.t.id, nowMs);
        answered += 1;
      } catch (err) {
        problems.push(`gateway replica ${p.t.id} page unreadable (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    const listed = new Set(targets.map((t) => t.id));
    for (const id of this.#tracker.knownReplicas()) {
      if (listed.has(id)) continue;
      const goneForMs = nowMs - (this.#lastListedMs.get(id) ?? nowMs);
      if (goneForMs > this.#opts.graceMs) {
        this.#tracker.forget(id);
        this.#lastListedMs.delete(id);
        this.#lastAnsweredMs.delete(id);
        this.#opts.log.info("gateway replica forgotten", { gateway: id, goneForMs });
      } else {
        problems.push(`gateway replica ${id} vanished ${goneForMs} ms ago; carrying its last load forward`);
      }
    }
    if (targets.length === 0) problems.push("no gateway replicas to scrape");
    return {
      samples: this.#tracker.samples(nowMs, this.#opts.graceMs),
      degraded: problems.length > 0 ? problems.join("; ") : undefined,
      answered,
    };
  }
}
