/**
 * The controller's API writes, rate-limited and retried like client-go's workqueue + client rate limiter:
 * - a token bucket (`qps` tokens per second, at most `burst` saved) bounds every write the controller sends;
 * - writes are keyed (`<kind> <namespace/name>`): a newer write of the same key replaces a pending one, so an
 *   endpoint has at most one pending status write, whatever the number of cycles it waited;
 * - a failed write is retried after a per-key exponential backoff (`baseMs`, 2×, 4× … capped at `maxMs`),
 *   reset by the key's next success; 429 and 5xx never cause a tight retry loop;
 * - `drain` runs what the bucket allows, scale writes first, then status, then owner references, then events; what is left stays
 *   pending for the next drain (nothing is dropped but superseded writes and expired events).
 * Pure bookkeeping around the caller's write functions; time comes from the caller.
 */
import { httpStatusOf } from "./kube-api.ts";

export type WriteKind = "scale" | "owner" | "status" | "event";

const PRIORITY: Readonly<Record<WriteKind, number>> = { scale: 0, status: 1, owner: 2, event: 3 };

export interface WriteQueueOptions {
  /** Sustained writes per second. */
  readonly qps: number;
  /** Writes that may go at once after a quiet period. */
  readonly burst: number;
  /** First retry delay of a failed key, ms. @default 1000 */
  readonly baseMs?: number;
  /** Largest retry delay, ms. @default 300000 */
  readonly maxMs?: number;
}

interface Pending {
  readonly key: string;
  readonly kind: WriteKind;
  run: () => Promise<void>;
  /** Called once with the error when the write failed (the item is retried after its backoff). */
  onError: ((err: unknown) => void) | undefined;
  /** Drop the write instead of retrying it once this time has passed (events). */
  expiresAtMs: number;
  seq: number;
}

/** Token bucket on the caller's clock. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #atMs: number | undefined;

  constructor(qps: number, burst: number) {
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** Takes a token if one is available at `nowMs`. */
  tryTake(nowMs: number): boolean {
    if (this.#atMs !== undefined && nowMs > this.#atMs) this.#tokens = Math.min(this.#burst, this.#tokens + ((nowMs - this.#atMs) / 1000) * this.#qps);
    if (this.#atMs === undefined || nowMs > this.#atMs) this.#atMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export class WriteQueue {
  readonly #bucket: TokenBucket;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #pending = new Map<string, Pending>();
  readonly #failures = new Map<string, { count: number; notBeforeMs: number }>();
  #seq = 0;
  /** Counters for metrics and tests. */
  readonly stats = { sent: 0, failed: 0, deferred: 0, superseded: 0, expired: 0 };

  constructor(o: WriteQueueOptions) {
    this.#bucket = new TokenBucket(o.qps, o.burst);
    this.#baseMs = o.baseMs ?? 1000;
    this.#maxMs = o.maxMs ?? 300_000;
  }

  /** Pending writes. */
  get size(): number {
    return this.#pending.size;
  }

  has(kind: WriteKind, key: string): boolean {
    return this.#pending.has(`${kind} ${key}`);
  }

  /** True while `key`'s last write of `kind` failed and its backoff has not passed. */
  backingOff(kind: WriteKind, key: string, nowMs: number): boolean {
    const f = this.#failures.get(`${kind} ${key}`);
    return f !== undefined && nowMs < f.notBeforeMs;
  }

  /** Queues a write (replacing a pending one of the same kind and key). */
  enqueue(kind: WriteKind, key: string, run: () => Promise<void>, opts: { onError?: (err: unknown) => void; ttlMs?: number; nowMs?: number } = {}): void {
    const id = `${kind} ${key}`;
    const old = this.#pending.get(id);
    if (old !== undefined) this.stats.superseded += 1;
    this.#pending.set(id, {
      key: id,
      kind,
      run,
      onError: opts.onError,
      expiresAtMs: opts.ttlMs === undefined ? Number.POSITIVE_INFINITY : (opts.nowMs ?? 0) + opts.ttlMs,
      seq: old?.seq ?? this.#seq++,
    });
  }

  /** Drops a pending write (e.g. leadership lost, object deleted). */
  cancel(kind: WriteKind, key: string): void {
    this.#pending.delete(`${kind} ${key}`);
  }

  clear(): void {
    this.#pending.clear();
  }

  /**
   * Takes a token for a write made outside the queue (scale writes, which the cycle awaits): false when the
   * bucket is empty or `key` is backing off.
   */
  admit(kind: WriteKind, key: string, nowMs: number): boolean {
    if (this.backingOff(kind, key, nowMs)) {
      this.stats.deferred += 1;
      return false;
    }
    if (!this.#bucket.tryTake(nowMs)) {
      this.stats.deferred += 1;
      return false;
    }
    this.stats.sent += 1;
    return true;
  }

  /** Records the outcome of an admitted write (per-key backoff). */
  settle(kind: WriteKind, key: string, nowMs: number, err?: unknown): void {
    const id = `${kind} ${key}`;
    if (err === undefined) {
      this.#failures.delete(id);
      return;
    }
    this.stats.failed += 1;
    const count = (this.#failures.get(id)?.count ?? 0) + 1;
    this.#failures.set(id, { count, notBeforeMs: nowMs + this.retryDelayMs(count, err) });
  }

  /** Backoff after `count` consecutive failures: base × 2^(count−1), capped; a conflict (409) retries at once. */
  retryDelayMs(count: number, err: unknown): number {
    if (httpStatusOf(err) === 409) return 0;
    return Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(count - 1, 30));
  }

  /** Sends what the bucket allows at `nowMs`, by priority then age; resolves when those writes settle. */
  async drain(nowMs: number): Promise<void> {
    const ready = [...this.#pending.values()]
      .filter((p) => {
        if (p.expiresAtMs <= nowMs) {
          this.#pending.delete(p.key);
          this.stats.expired += 1;
          return false;
        }
        const f = this.#failures.get(p.key);
        return f === undefined || nowMs >= f.notBeforeMs;
      })
      .sort((a, b) => PRIORITY[a.kind] - PRIORITY[b.kind] || a.seq - b.seq);
    const running: Promise<void>[] = [];
    for (const p of ready) {
      if (!this.#bucket.tryTake(nowMs)) {
        this.stats.deferred += ready.length - running.length;
        break;
      }
      this.#pending.delete(p.key);
      this.stats.sent += 1;
      running.push(
        p.run().then(
          () => void this.#failures.delete(p.key),
          (err: unknown) => {
            this.stats.failed += 1;
            const count = (this.#failures.get(p.key)?.count ?? 0) + 1;
            this.#failures.set(p.key, { count, notBeforeMs: nowMs + this.retryDelayMs(count, err) });
            p.onError?.(err);
            // Retry unless a newer write of the key came meanwhile.
            if (!this.#pending.has(p.key)) this.#pending.set(p.key, p);
          },
        ),
      );
    }
    await Promise.all(running);
  }
}
