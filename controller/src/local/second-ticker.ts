/**
 * The local loop's clock: one tick per period, each aimed at start + k·period on the wall clock (as the
 * simulator's samples end at whole seconds of its run), never drifting by the time the ticks take. A tick that
 * runs past the next boundary is not stacked: the next one goes to the first boundary after it ends, so no
 * two ticks overlap. Timers and the clock are injected.
 *
 *   const t = new SecondTicker({ startMs, periodMs: 1000, tick, now: Date.now, setTimer: setTimeout, clearTimer: clearTimeout });
 *   t.start(); … t.stop();
 */

export interface SecondTickerOptions {
  /** Boundaries are `startMs + k · periodMs`, k ≥ 1. */
  readonly startMs: number;
  /** @default 1000 */
  readonly periodMs?: number;
  /** One tick; the next is scheduled when its promise settles. */
  readonly tick: () => Promise<void>;
  readonly now: () => number;
  readonly setTimer: (f: () => void, ms: number) => unknown;
  readonly clearTimer: (handle: unknown) => void;
  /** A tick that threw. @default ignored */
  readonly onError?: (e: unknown) => void;
}

/** The first boundary `startMs + k·periodMs` (k ≥ 1) strictly after `nowMs`. */
export function nextBoundaryMs(startMs: number, periodMs: number, nowMs: number): number {
  const k = Math.max(1, Math.floor((nowMs - startMs) / periodMs) + 1);
  return startMs + k * periodMs;
}

export class SecondTicker {
  readonly #o: SecondTickerOptions;
  readonly #periodMs: number;
  #handle: unknown;
  #stopped = false;

  constructor(o: SecondTickerOptions) {
    this.#o = o;
    this.#periodMs = o.periodMs ?? 1000;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#handle !== undefined) this.#o.clearTimer(this.#handle);
    this.#handle = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const at = nextBoundaryMs(this.#o.startMs, this.#periodMs, this.#o.now());
    this.#handle = this.#o.setTimer(() => void this.#run(at), Math.max(0, at - this.#o.now()));
  }

  async #run(at: number): Promise<void> {
    this.#handle = undefined;
    if (this.#stopped) return;
    // a timer that fires a little early (timers round to whole ms) waits for its boundary
    if (this.#o.now() < at) {
      this.#handle = this.#o.setTimer(() => void this.#run(at), at - this.#o.now());
      return;
    }
    try {
      await this.#o.tick();
    } catch (e) {
      this.#o.onError?.(e);
    }
    this.#schedule();
  }
}
