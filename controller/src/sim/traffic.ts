/**
 * Arrival generation: each traffic segment becomes a rate function (Poisson by thinning, or evenly
 * spaced) or a trace replay. `ArrivalStream.next()` returns arrival times in ascending ms without
 * allocating; the cost of the last arrival is in `cost`.
 */
import { resolve } from "node:path";
import { IndexedMinHeap } from "./heaps.ts";
import { Prng } from "./prng.ts";
import type { CostSpec, Scenario, TrafficSegment } from "./scenario-types.ts";
import { readTrace, type Trace } from "./trace.ts";

/** Piecewise description of a rate-based segment (times in seconds from the scenario start). */
interface RateShape {
  /** Requests/s at time tS, before noise. */
  rate(tS: number): number;
  /** End of the piece that contains tS; `bound` is ≥ rate on it. */
  pieceEnd(tS: number): number;
  bound(tS: number, endS: number): number;
  /** True when the rate is constant on every piece (no thinning draw needed). */
  readonly exact: boolean;
}

function constShape(qps: number, endS: number): RateShape {
  return { rate: () => qps, pieceEnd: () => endS, bound: () => qps, exact: true };
}

function rampShape(startS: number, endS: number, from: number, to: number): RateShape {
  const slope = (to - from) / (endS - startS);
  const rate = (t: number): number => from + slope * (t - startS);
  return {
    rate,
    pieceEnd: (t) => Math.min(endS, Math.floor(t) + 1),
    bound: (t, e) => Math.max(rate(t), rate(e)),
    exact: false,
  };
}

function sineShape(startS: number, endS: number, base: number, amp: number, periodS: number, phaseS: number): RateShape {
  const w = (2 * Math.PI) / periodS;
  const rate = (t: number): number => Math.max(0, base + amp * Math.sin(w * (t - startS + phaseS)));
  // on a piece of length ≤ 1 s the curve rises at most amp·w²/8 above the chord's ends
  const curve = (amp * w * w) / 8 + (amp * w) / 2;
  return {
    rate,
    pieceEnd: (t) => Math.min(endS, Math.floor(t) + 1),
    bound: (t, e) => Math.max(rate(t), rate(e)) + curve,
    exact: false,
  };
}

function burstyShape(startS: number, endS: number, b: NonNullable<TrafficSegment["bursty"]>): RateShape {
  const cycle = b.onS + b.offS;
  const firstOn = b.startOn ?? false;
  const phaseAt = (t: number): { on: boolean; end: number } => {
    const k = Math.floor((t - startS) / cycle);
    const inCycle = t - startS - k * cycle;
    const firstLen = firstOn ? b.onS : b.offS;
    const c0 = startS + k * cycle;
    return inCycle < firstLen ? { on: firstOn, end: c0 + firstLen } : { on: !firstOn, end: c0 + cycle };
  };
  return {
    rate: (t) => (phaseAt(t).on ? b.onQps : b.offQps),
    pieceEnd: (t) => Math.min(endS, phaseAt(t).end),
    bound: (t) => (phaseAt(t).on ? b.onQps : b.offQps),
    exact: true,
  };
}

/** Superposed, circularly shifted copies of one trace (see TraceSpec.scale), merged lazily. */
class TraceReplay {
  private readonly trace: Trace;
  private readonly spanMs: number;
  private readonly copies: number;
  private readonly lastFraction: number;
  private readonly startMs: number;
  private readonly speedup: number;
  private readonly heap: IndexedMinHeap;
  private readonly pos: Float64Array;
  private readonly rng: Prng;
  cost = 1;

  constructor(trace: Trace, startMs: number, speedup: number, scale: number, rng: Prng) {
    this.trace = trace;
    const n = trace.timesMs.length;
    const last = trace.timesMs[n - 1]!;
    // one mean gap after the last row, so a looped trace does not stack two arrivals
    this.spanMs = last + (n > 1 ? last / (n - 1) : 1000);
    this.copies = Math.ceil(scale);
    this.lastFraction = scale - (this.copies - 1);
    this.startMs = startMs;
    this.speedup = speedup;
    this.rng = rng;
    this.heap = new IndexedMinHeap(this.copies);
    this.pos = new Float64Array(this.copies);
    for (let k = 0; k < this.copies; k++) {
      const offset = (k * this.spanMs) / this.copies;
      // the first row of copy k is the first whose shifted time wraps past the span
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (trace.timesMs[mid]! < this.spanMs - offset) lo = mid + 1;
        else hi = mid;
      }
      const j0 = lo;
      this.pos[k] = j0;
      this.heap.set(k, this.timeOf(k, j0));
    }
  }

  private timeOf(k: number, p: number): number {
    const n = this.trace.timesMs.length;
    const cycle = Math.floor(p / n);
    const i = p - cycle * n;
    const offset = (k * this.spanMs) / this.copies;
    const traceMs = this.trace.timesMs[i]! + offset + (cycle - 1) * this.spanMs;
    return this.startMs + traceMs / this.speedup;
  }

  /** Next arrival, ms from the scenario start. */
  next(): number {
    for (;;) {
      const k = this.heap.peekId();
      const t = this.heap.peekKey();
      const p = this.pos[k]!;
      const n = this.trace.timesMs.length;
      const i = p % n;
      this.pos[k] = p + 1;
      this.heap.set(k, this.timeOf(k, p + 1));
      if (k === this.copies - 1 && this.lastFraction < 1 && this.rng.uniform() >= this.lastFraction) continue;
      this.cost = this.trace.costs ? this.trace.costs[i]! : 1;
      return t;
    }
  }

  /** Mean rate of the replay, requests/s. */
  meanRate(): number {
    return (this.trace.timesMs.length * (this.copies - 1 + this.lastFraction) * this.speedup * 1000) / this.spanMs;
  }
}

interface CompiledSegment {
  readonly startS: number;
  readonly endS: number;
  readonly shape: RateShape | undefined;
  readonly replay: TraceReplay | undefined;
  readonly uniform: boolean;
  readonly noise: Float64Array | undefined;
  readonly noisePeriodS: number;
  readonly attribution: string | undefined;
}

/** Expected rate at the end of a segment (what a following ramp starts from). */
function endRateOf(seg: CompiledSegment): number {
  if (seg.shape) return seg.shape.rate(seg.endS - 1e-9);
  return seg.replay ? seg.replay.meanRate() : 0;
}

/** Compile a scenario's traffic. `rng` feeds noise factors, thinning and trace thinning. */
function compile(scenario: Scenario, rng: Prng): CompiledSegment[] {
  const out: CompiledSegment[] = [];
  let startS = 0;
  scenario.traffic.forEach((seg, i) => {
    const endS = Math.min(seg.untilS, scenario.durationS);
    if (endS <= startS) return;
    const prevRate = out.length > 0 ? endRateOf(out[out.length - 1]!) : 0;
    let shape: RateShape | undefined;
    let replay: TraceReplay | undefined;
    if (seg.qps !== undefined) shape = constShape(seg.qps, endS);
    else if (seg.rampToQps !== undefined) shape = rampShape(startS, seg.untilS, seg.fromQps ?? prevRate, seg.rampToQps);
    else if (seg.sine) shape = sineShape(startS, endS, seg.sine.base, seg.sine.amplitude, seg.sine.periodS, seg.sine.phaseS ?? 0);
    else if (seg.bursty) shape = burstyShape(startS, endS, seg.bursty);
    else if (seg.trace) {
      const tr = seg.trace;
      const trace = readTrace(resolve(scenario.baseDir, tr.path), tr.timeColumn ?? "TIMESTAMP", tr.costColumn, `traffic[${i}].trace`);
      replay = new TraceReplay(trace, startS * 1000, tr.speedup ?? 1, tr.scale ?? 1, rng);
    }
    let noise: Float64Array | undefined;
    if (seg.noise && seg.noise.cv > 0) {
      const n = Math.ceil((endS - startS) / seg.noise.periodS) + 1;
      noise = new Float64Array(n);
      for (let k = 0; k < n; k++) noise[k] = rng.jitterFactor(seg.noise.cv);
    }
    out.push({
      startS,
      endS,
      shape,
      replay,
      uniform: seg.arrivals === "uniform",
      noise,
      noisePeriodS: seg.noise?.periodS ?? 1,
      attribution: seg.trace?.attribution,
    });
    startS = endS;
  });
  return out;
}

/** Per-request cost draw for synthetic traffic (light = 1). */
function costDraw(cost: CostSpec | undefined, rng: Prng): () => number {
  if (!cost) return () => 1;
  return () => (rng.uniform() < cost.heavyFraction ? cost.heavyFactor : 1);
}

/** The scenario's arrivals, in order. Deterministic for the scenario's seed. */
export class ArrivalStream {
  /** Cost (relative work) of the arrival `next()` last returned. */
  cost = 1;
  private readonly segs: CompiledSegment[];
  private readonly rng: Prng;
  private readonly drawCost: () => number;
  private si = 0;
  private tS = 0;

  constructor(scenario: Scenario, seedOffset = 0) {
    this.rng = new Prng(scenario.seed * 7919 + 17 + seedOffset);
    this.segs = compile(scenario, this.rng);
    this.drawCost = costDraw(scenario.model.cost, this.rng);
    this.tS = this.segs[0]?.startS ?? 0;
  }

  /** Attribution lines of every trace the traffic uses. */
  attributions(): string[] {
    return [...new Set(this.segs.map((s) => s.attribution).filter((a): a is string => a !== undefined))];
  }

  /** Next arrival time in ms, or +Infinity after the last segment. */
  next(): number {
    for (;;) {
      const seg = this.segs[this.si];
      if (!seg) return Infinity;
      if (seg.replay) {
        const t = seg.replay.next();
        if (t >= seg.endS * 1000) {
          this.advance();
          continue;
        }
        this.cost = seg.replay.cost;
        return t;
      }
      const shape = seg.shape!;
      let t = this.tS;
      if (t >= seg.endS) {
        this.advance();
        continue;
      }
      let end = shape.pieceEnd(t);
      let factor = 1;
      if (seg.noise) {
        const k = Math.floor((t - seg.startS) / seg.noisePeriodS);
        factor = seg.noise[k] ?? 1;
        end = Math.min(end, seg.startS + (k + 1) * seg.noisePeriodS);
      }
      const max = shape.bound(t, end) * factor;
      if (!(max > 0)) {
        this.tS = end;
        continue;
      }
      if (seg.uniform) {
        const r = shape.rate(t) * factor;
        if (!(r > 0)) {
          this.tS = end;
          continue;
        }
        t += 1 / r;
        if (t >= seg.endS) {
          this.tS = seg.endS;
          continue;
        }
        this.tS = t;
      } else {
        t += this.rng.exponential() / max;
        if (t >= end) {
          this.tS = end;
          continue;
        }
        this.tS = t;
        if (!shape.exact && this.rng.uniform() * max > shape.rate(t) * factor) continue;
      }
      this.cost = this.drawCost();
      return t * 1000;
    }
  }

  private advance(): void {
    this.si++;
    const seg = this.segs[this.si];
    if (seg) this.tS = seg.startS;
  }
}

/** Expected offered rate (requests/s) at time tS; trace segments give their mean rate. Noise excluded. */
export function expectedRate(scenario: Scenario, tS: number): number {
  let startS = 0;
  let prev = 0;
  for (const seg of scenario.traffic) {
    const endS = seg.untilS;
    let rate: (t: number) => number;
    if (seg.qps !== undefined) rate = () => seg.qps!;
    else if (seg.rampToQps !== undefined) rate = rampShape(startS, endS, seg.fromQps ?? prev, seg.rampToQps).rate;
    else if (seg.sine) rate = sineShape(startS, endS, seg.sine.base, seg.sine.amplitude, seg.sine.periodS, seg.sine.phaseS ?? 0).rate;
    else if (seg.bursty) rate = burstyShape(startS, endS, seg.bursty).rate;
    else rate = () => NaN;
    if (tS < endS) return rate(tS);
    prev = rate(endS - 1e-9);
    startS = endS;
  }
  return 0;
}

/**
 * The largest step up in the expected offered rate: segment boundaries and burst edges.
 * Undefined when the traffic has no discontinuous rise (smooth shapes, traces).
 */
export function largestStepUp(scenario: Scenario): { atS: number; fromQps: number; toQps: number } | undefined {
  const edges: number[] = [];
  let startS = 0;
  for (const seg of scenario.traffic) {
    edges.push(startS);
    if (seg.bursty) {
      const b = seg.bursty;
      for (let t = startS; t < seg.untilS; t += b.onS + b.offS) {
        edges.push(t + (b.startOn ? 0 : b.offS));
        edges.push(t + b.onS + b.offS);
      }
    }
    startS = seg.untilS;
  }
  let best: { atS: number; fromQps: number; toQps: number } | undefined;
  for (const e of edges) {
    if (e <= 0 || e >= scenario.durationS) continue;
    const before = expectedRate(scenario, e - 1e-6);
    const after = expectedRate(scenario, e + 1e-6);
    // a ramp's end is not a step: only rises of more than 5% (and 1 request/s) count
    if (!Number.isFinite(before) || !Number.isFinite(after) || after - before <= Math.max(1, 0.05 * before)) continue;
    if (!best || after - before > best.toQps - best.fromQps) best = { atS: e, fromQps: before, toQps: after };
  }
  return best;
}
