/**
 * The simulated gateway's central FIFO queue of one endpoint: a fixed-capacity ring of (arrival time, cost) with
 * the head request's timeout. A full queue takes nothing (the caller answers 429). Allocates nothing per request.
 */
export class GatewayQueue {
  /** Requests the queue holds at most (the gateway's queue bound). */
  readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly arrivedAtMs: Float64Array;
  private readonly costs: Float64Array;
  private head = 0;
  private size = 0;
  private headTimeoutAtMs = Infinity;

  /**
   * @param capacity the queue bound, requests
   * @param timeoutMs how long a request may wait before it is answered 429, ms
   */
  constructor(capacity: number, timeoutMs: number) {
    this.capacity = capacity;
    this.timeoutMs = timeoutMs;
    this.arrivedAtMs = new Float64Array(Math.max(1, capacity));
    this.costs = new Float64Array(Math.max(1, capacity));
  }

  /** Requests waiting now. */
  get length(): number {
    return this.size;
  }

  /** When the oldest waiting request times out, ms; Infinity when none waits. */
  get timeoutAtMs(): number {
    return this.headTimeoutAtMs;
  }

  /** Arrival time of the oldest waiting request, ms (only while one waits). */
  get headArrivedAtMs(): number {
    return this.arrivedAtMs[this.head]!;
  }

  /** Work cost of the oldest waiting request (only while one waits). */
  get headCost(): number {
    return this.costs[this.head]!;
  }

  /** Queues a request that arrived at `t`; false (nothing queued) when the queue is full. */
  push(t: number, cost: number): boolean {
    if (this.size >= this.capacity) return false;
    const i = (this.head + this.size) % this.capacity;
    this.arrivedAtMs[i] = t;
    this.costs[i] = cost;
    this.size++;
    if (this.size === 1) this.headTimeoutAtMs = t + this.timeoutMs;
    return true;
  }

  /** Removes the oldest waiting request (dispatched or timed out). */
  shift(): void {
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    this.headTimeoutAtMs = this.size > 0 ? this.arrivedAtMs[this.head]! + this.timeoutMs : Infinity;
  }
}
