/** Capped exponential backoff, pure. Same shape as client-node's ListWatch: 1 s, 2 s, 4 s … capped at 30 s. */

export interface BackoffPolicy {
  /** Delay after the first failure, ms. @default 1000 */
  readonly baseMs: number;
  /** Largest delay, ms. @default 30000 */
  readonly maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1000, maxMs: 30_000 };

/** Delay before retry number `failures` (1 = after the first failure); 0 when `failures` ≤ 0. */
export function backoffDelayMs(failures: number, policy: BackoffPolicy = defaultBackoff): number {
  if (failures <= 0) return 0;
  // 2 ** 30 keeps the product finite long before the cap matters.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 30));
}
