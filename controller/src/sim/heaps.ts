/**
 * Heaps over typed arrays, the simulator's hot data structures (no per-event object allocation).
 */

/**
 * Min-heap of integer ids keyed by a float; each id is in the heap at most once and its key can be
 * changed in place (`set`). Ties break on the smaller id, so runs are deterministic.
 */
export class IndexedMinHeap {
  private keys: Float64Array;
  private heap: Int32Array;
  private pos: Int32Array;
  private n = 0;

  constructor(capacity = 16) {
    this.keys = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.n;
  }

  /** Id with the smallest key, or -1 when empty. */
  peekId(): number {
    return this.n > 0 ? this.heap[0]! : -1;
  }

  /** Smallest key, or +Infinity when empty. */
  peekKey(): number {
    return this.n > 0 ? this.keys[this.heap[0]!]! : Infinity;
  }

  has(id: number): boolean {
    return id < this.pos.length && this.pos[id]! >= 0;
  }

  /** The id at heap position `i` (0 ≤ i < size; any order: for a uniform pick among the ids). */
  idAt(i: number): number {
    return this.heap[i]!;
  }

  key(id: number): number {
    return this.keys[id]!;
  }

  /** Insert `id` or move it to `key`. */
  set(id: number, key: number): void {
    if (id >= this.pos.length) this.grow(id + 1);
    const p = this.pos[id]!;
    if (p < 0) {
      this.keys[id] = key;
      this.heap[this.n] = id;
      this.pos[id] = this.n;
      this.n++;
      this.up(this.n - 1);
      return;
    }
    const old = this.keys[id]!;
    this.keys[id] = key;
    if (key < old) this.up(p);
    else if (key > old) this.down(p);
  }

  remove(id: number): void {
    if (!this.has(id)) return;
    const p = this.pos[id]!;
    this.n--;
    this.pos[id] = -1;
    if (p === this.n) return;
    const last = this.heap[this.n]!;
    this.heap[p] = last;
    this.pos[last] = p;
    this.up(p);
    this.down(this.pos[last]!);
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    return ka < kb || (ka === kb && a < b);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    this.pos[b] = i;
    this.pos[a] = j;
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) return;
      const r = l + 1;
      const m = r < this.n && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      this.swap(i, m);
      i = m;
    }
  }

  private grow(min: number): void {
    const cap = Math.max(min, this.pos.length * 2);
    const keys = new Float64Array(cap);
    keys.set(this.keys);
    const heap = new Int32Array(cap);
    heap.set(this.heap);
    const pos = new Int32Array(cap).fill(-1);
    pos.set(this.pos);
    this.keys = keys;
    this.heap = heap;
    this.pos = pos;
  }
}

/**
 * Min-heap of (key, a, b) triples: one pod's in-flight requests keyed by virtual finish time,
 * carrying arrival and dispatch times.
 */
export class TripleHeap {
  private k: Float64Array;
  private a: Float64Array;
  private b: Float64Array;
  size = 0;

  constructor(capacity = 8) {
    this.k = new Float64Array(capacity);
    this.a = new Float64Array(capacity);
    this.b = new Float64Array(capacity);
  }

  topKey(): number {
    return this.size > 0 ? this.k[0]! : Infinity;
  }
  topA(): number {
    return this.a[0]!;
  }
  topB(): number {
    return this.b[0]!;
  }

  clear(): void {
    this.size = 0;
  }

  push(key: number, a: number, b: number): void {
    if (this.size === this.k.length) this.grow();
    let i = this.size++;
    const k = this.k;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! <= key) break;
      k[i] = k[p]!;
      this.a[i] = this.a[p]!;
      this.b[i] = this.b[p]!;
      i = p;
    }
    k[i] = key;
    this.a[i] = a;
    this.b[i] = b;
  }

  /** Remove the top (read it first with topKey/topA/topB). */
  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const k = this.k;
    const key = k[n]!;
    const a = this.a[n]!;
    const b = this.b[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && k[r]! < k[l]! ? r : l;
      if (k[m]! >= key) break;
      k[i] = k[m]!;
      this.a[i] = this.a[m]!;
      this.b[i] = this.b[m]!;
      i = m;
    }
    k[i] = key;
    this.a[i] = a;
    this.b[i] = b;
  }

  private grow(): void {
    const cap = this.k.length * 2;
    const k = new Float64Array(cap);
    k.set(this.k);
    const a = new Float64Array(cap);
    a.set(this.a);
    const b = new Float64Array(cap);
    b.set(this.b);
    this.k = k;
    this.a = a;
    this.b = b;
  }
}

/** A small heap of timed callbacks (pod lifecycle, policy ticks, sampling): few per simulated second. */
export class TimerQueue {
  private items: { atMs: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  get nextAtMs(): number {
    return this.items.length > 0 ? this.items[0]!.atMs : Infinity;
  }

  add(atMs: number, fn: () => void): void {
    const item = { atMs, seq: this.seq++, fn };
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Remove and return the earliest callback. */
  pop(): (() => void) | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const m = r < h.length && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[m]!, h[i]!)) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.fn;
  }
}

function before(x: { atMs: number; seq: number }, y: { atMs: number; seq: number }): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
}
