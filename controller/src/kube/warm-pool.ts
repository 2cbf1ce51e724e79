/**
 * Warm-pool sizer, pure. Each compute pool has a low-priority placeholder Deployment (pods sized like one model
 * pod of that pool, labelled `serving.autopilot.dev/warm-pool=<pool>`). When real pods need room the scheduler
 * preempts placeholders at once, and the cluster autoscaler replaces the placeholder capacity in the background.
 *
 * Rule: placeholders(pool) = clamp(ceil(headroom × B), min, max), where B is the largest number of replicas
 * added to that pool's endpoints within any `provisionWindowMs` span of the last `lookbackMs`. In words: keep
 * ready, per pool, as many pod slots as the biggest burst of scale-ups that happened within one node-provisioning
 * time recently — the pods that would otherwise have waited for a new node. Bursts age out after `lookbackMs`,
 * which gives a slow, non-flapping decay.
 */

export interface WarmPoolConfig {
  /** How far back additions count, ms. @default 3600000 (1 h) */
  readonly lookbackMs: number;
  /** Time to provision a node; the burst window, ms. @default 300000 (5 min) */
  readonly provisionWindowMs: number;
  /** Multiplier on the burst. @default 1 */
  readonly headroom: number;
  /** Placeholder count floor per pool. @default 0 */
  readonly minPlaceholders: number;
  /** Placeholder count cap per pool. @default 50 */
  readonly maxPlaceholders: number;
}

export const defaultWarmPoolConfig: WarmPoolConfig = {
  lookbackMs: 3_600_000,
  provisionWindowMs: 300_000,
  headroom: 1,
  minPlaceholders: 0,
  maxPlaceholders: 50,
};

/** `added` replicas were requested for an endpoint on `pool` at `atMs`. */
export interface ReplicaAddition {
  readonly atMs: number;
  readonly pool: string;
  readonly added: number;
}

/** Largest sum of `added` within any window of `windowMs` (two-pointer sweep over sorted additions). */
export function largestBurst(additions: readonly ReplicaAddition[], windowMs: number): number {
  const sorted = [...additions].sort((a, b) => a.atMs - b.atMs);
  let best = 0;
  let sum = 0;
  let lo = 0;
  for (const a of sorted) {
    sum += a.added;
    while (lo < sorted.length && (sorted[lo]?.atMs ?? 0) <= a.atMs - windowMs) {
      sum -= sorted[lo]?.added ?? 0;
      lo += 1;
    }
    best = Math.max(best, sum);
  }
  return best;
}

/** Placeholder replicas per pool for every pool in `pools` (pools without recent additions get the floor). */
export function sizeWarmPools(
  additions: readonly ReplicaAddition[],
  pools: readonly string[],
  nowMs: number,
  cfg: WarmPoolConfig = defaultWarmPoolConfig,
): Map<string, number> {
  const out = new Map<string, number>();
  const recent = additions.filter((a) => a.atMs > nowMs - cfg.lookbackMs && a.atMs <= nowMs && a.added > 0);
  for (const pool of pools) {
    const burst = largestBurst(
      recent.filter((a) => a.pool === pool),
      cfg.provisionWindowMs,
    );
    const want = Math.ceil(burst * cfg.headroom);
    out.set(pool, Math.min(cfg.maxPlaceholders, Math.max(cfg.minPlaceholders, want)));
  }
  return out;
}

/** Drops additions older than the lookback (keeps the controller's memory bounded). */
export function pruneAdditions(additions: readonly ReplicaAddition[], nowMs: number, cfg: WarmPoolConfig): ReplicaAddition[] {
  return additions.filter((a) => a.atMs > nowMs - cfg.lookbackMs);
}
