/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection rules:
 * - a candidate takes the Lease only after it has seen the same holder record unchanged for `leaseDurationMs`
 *   on its own monotonic clock (no trust in other nodes' clocks, nor in its own wall clock, which can step);
 * - the leader renews every `retryPeriodMs` and considers itself leader only while its last successful renew is
 *   younger than `renewDeadlineMs` (< lease duration) on the monotonic clock, so it stops writing before anyone
 *   else may start, even when the node's wall clock steps backwards;
 * - an attempt (read + write) that has not answered by the renew deadline counts as failed;
 * - every write carries the Lease's resourceVersion; a 409 means someone else won.
 * The wall clock is used only for the times written into the Lease (`renewTime`, `acquireTime`).
 * Failover after a crash ≤ leaseDurationMs + retryPeriodMs (15 s + 2 s with the defaults). On graceful shutdown
 * `release()` empties the holder so the other replica takes over on its next retry.
 */
import { V1MicroTime, type V1Lease } from "@kubernetes/client-node";
import type { Clock } from "./clock.ts";
import { httpStatusOf, type KubeApi } from "./kube-api.ts";
import type { Logger } from "./logger.ts";

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly leaseName: string;
  /** This replica's identity (pod name). */
  readonly identity: string;
  /** @default 15000 */
  readonly leaseDurationMs: number;
  /** @default 10000; must be < leaseDurationMs and > 1.2 × retryPeriodMs (checked by `validateLeaderTimings`) */
  readonly renewDeadlineMs: number;
  /** @default 2000 */
  readonly retryPeriodMs: number;
}

export interface LeaderCallbacks {
  onStartedLeading?(): void;
  onStoppedLeading?(): void;
}

function timeMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = v instanceof Date ? v.getTime() : Date.parse(String(v));
  return Number.isNaN(ms) ? undefined : ms;
}

/** client-go's jitter factor: the renew deadline must leave room for more than one retry period. */
export const RETRY_JITTER_FACTOR = 1.2;

/**
 * The timing rules client-go enforces: lease duration > renew deadline > 1.2 × retry period. Undefined when
 * they hold, else the problem in words (naming the values).
 */
export function leaderTimingProblem(t: { readonly leaseDurationMs: number; readonly renewDeadlineMs: number; readonly retryPeriodMs: number }): string | undefined {
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) return `lease duration ${t.leaseDurationMs} ms must be greater than the renew deadline ${t.renewDeadlineMs} ms`;
  if (!(t.renewDeadlineMs > RETRY_JITTER_FACTOR * t.retryPeriodMs)) {
    return `renew deadline ${t.renewDeadlineMs} ms must be greater than ${RETRY_JITTER_FACTOR} × the retry period ${t.retryPeriodMs} ms (${RETRY_JITTER_FACTOR * t.retryPeriodMs} ms)`;
  }
  return undefined;
}

export class LeaderElector {
  readonly #api: KubeApi;
  readonly #cfg: LeaderElectionConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #cb: LeaderCallbacks;
  #leading = false;
  #lastRenewMs = Number.NEGATIVE_INFINITY;
  #observed: { key: string; atMs: number } | undefined;
  #stopped = true;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(api: KubeApi, cfg: LeaderElectionConfig, clock: Clock, log: Logger, cb: LeaderCallbacks = {}) {
    const problem = leaderTimingProblem(cfg);
    if (problem !== undefined) throw new Error(`leader election: ${problem}`);
    this.#api = api;
    this.#cfg = cfg;
    this.#clock = clock;
    this.#log = log.child({ lease: `${cfg.namespace}/${cfg.leaseName}`, identity: cfg.identity });
    this.#cb = cb;
  }

  /** True only while this replica holds a Lease renewed within the renew deadline. Gate every write on it. */
  isLeader(): boolean {
    return this.#leading && this.#clock.monotonicMs() - this.#lastRenewMs < this.#cfg.renewDeadlineMs;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#loop = this.#run();
  }

  /** Stops campaigning. With `release`, an owned Lease is handed back (holder emptied) for a fast failover. */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#loop;
    if (release && this.#leading) await this.#release();
    this.#setLeading(false);
  }

  /** One acquire-or-renew attempt; the loop calls it every retry period. Exposed for tests. */
  async tryAcquireOrRenew(): Promise<boolean> {
    // Leading: the attempt must finish inside what is left of the renew deadline; else one deadline.
    const left = this.#leading ? this.#cfg.renewDeadlineMs - (this.#clock.monotonicMs() - this.#lastRenewMs) : this.#cfg.renewDeadlineMs;
    const stop = new AbortController();
    const timedOut = this.#clock.sleep(Math.max(0, left), stop.signal).then(() => "timeout" as const);
    try {
      const r = await Promise.race([this.#attempt(), timedOut]);
      if (r !== "timeout") return r;
      this.#log.warn("lease attempt timed out at the renew deadline", { timeoutMs: Math.max(0, left) });
      if (!this.isLeader()) this.#setLeading(false);
      return false;
    } finally {
      stop.abort();
    }
  }

  async #attempt(): Promise<boolean> {
    const now = this.#clock.nowMs();
    const mono = this.#clock.monotonicMs();
    const { namespace, leaseName, identity } = this.#cfg;
    let lease: V1Lease | undefined;
    try {
      lease = await this.#api.readLease(namespace, leaseName);
    } catch (err) {
      this.#log.warn("reading lease failed", { error: err, status: httpStatusOf(err) });
      return false;
    }
    const spec = lease?.spec ?? {};
    const fresh = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#cfg.leaseDurationMs / 1000),
      renewTime: new V1MicroTime(now),
    };
    try {
      if (lease === undefined) {
        await this.#api.createLease(namespace, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: leaseName, namespace },
          spec: { ...fresh, acquireTime: new V1MicroTime(now), leaseTransitions: 0 },
        });
        this.#renewed(mono);
        return true;
      }
      const holder = spec.holderIdentity ?? "";
      if (holder === identity) {
        await this.#api.replaceLease(namespace, leaseName, { ...lease, spec: { ...spec, ...fresh } });
        this.#renewed(mono);
        return true;
      }
      // Someone else's (or a released) record: wait until it has been unchanged for a lease duration.
      const key = `${holder}|${String(timeMs(spec.renewTime))}|${lease.metadata?.resourceVersion ?? ""}`;
      if (this.#observed?.key !== key) this.#observed = { key, atMs: mono };
      const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.#cfg.leaseDurationMs / 1000)) * 1000;
      if (holder !== "" && mono - this.#observed.atMs < durationMs) {
        this.#setLeading(false);
        return false;
      }
      await this.#api.replaceLease(namespace, leaseName, {
        ...lease,
        spec: { ...spec, ...fresh, acquireTime: new V1MicroTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 },
      });
      this.#log.info("acquired lease", { previousHolder: holder });
      this.#renewed(mono);
      return true;
    } catch (err) {
      const status = httpStatusOf(err);
      this.#log.warn(status === 409 ? "lease write conflict (another replica won)" : "lease write failed", { error: err, status });
      if (!this.isLeader()) this.#setLeading(false);
      return false;
    }
  }

  #renewed(monoMs: number): void {
    this.#lastRenewMs = monoMs;
    this.#setLeading(true);
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#log.info(leading ? "started leading" : "stopped leading");
    if (leading) this.#cb.onStartedLeading?.();
    else this.#cb.onStoppedLeading?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.tryAcquireOrRenew();
      if (this.#leading && !this.isLeader()) this.#setLeading(false);
      await this.#clock.sleep(this.#cfg.retryPeriodMs, this.#abort.signal);
    }
  }

  async #release(): Promise<void> {
    try {
      const lease = await this.#api.readLease(this.#cfg.namespace, this.#cfg.leaseName);
      if (lease?.spec?.holderIdentity !== this.#cfg.identity) return;
      await this.#api.replaceLease(this.#cfg.namespace, this.#cfg.leaseName, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: new V1MicroTime(this.#clock.nowMs()) },
      });
      this.#log.info("released lease");
    } catch (err) {
      this.#log.warn("releasing lease failed", { error: err });
    }
  }
}
