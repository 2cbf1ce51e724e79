/**
 * The only place that reads the wall clock or sets timers. Everything else takes a `Clock` so tests can run
 * minutes of controller time in milliseconds.
 */
import { setTimeout as sleepMs } from "node:timers/promises";

export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock: can step, backwards too, when the node's time is set). */
  nowMs(): number;
  /** Milliseconds on a monotonic clock (arbitrary origin, never steps): for every elapsed-time decision. */
  monotonicMs(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `Date.now()`, `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  sleep: async (ms, signal) => {
    try {
      await sleepMs(ms, undefined, signal ? { signal } : undefined);
    } catch {
      // aborted: the caller checks its own stop flag
    }
  },
};

/**
 * A manual clock for tests: `sleep` resolves when `advance` moves time past its deadline.
 * Waiters are resolved in deadline order.
 */
export class ManualClock implements Clock {
  #now: number;
  /** Wall-clock offset from the virtual time (`stepWall`). */
  #wallOffsetMs = 0;
  #waiters: { at: number; resolve: () => void }[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  nowMs(): number {
    return this.#now + this.#wallOffsetMs;
  }

  /** Virtual time: moves only with `advance`. */
  monotonicMs(): number {
    return this.#now;
  }

  /** Steps the wall clock by `deltaMs` (negative: backwards) without moving monotonic time or timers. */
  stepWall(deltaMs: number): void {
    this.#wallOffsetMs += deltaMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { at: this.#now + Math.max(0, ms), resolve };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve();
      });
    });
  }

  /** Number of pending sleeps. */
  get pending(): number {
    return this.#waiters.length;
  }

  /** Moves time forward by `ms`, resolving due sleeps one at a time and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#waiters.sort((a, b) => a.at - b.at);
      const next = this.#waiters[0];
      if (next === undefined || next.at > target) break;
      this.#waiters.shift();
      this.#now = Math.max(this.#now, next.at);
      next.resolve();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
