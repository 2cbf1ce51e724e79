/**
 * What the engine remembers of its long windows, so callers keep only a short history (`historyWindowMsFor`):
 * the stretches of time the samples covered (for "a full down-window of fresh data" before any scale-down, and
 * the idle window of scale-to-zero) and the newest sample that saw traffic. Pure: the next coverage is a
 * function of the previous one and the samples passed in.
 */
import type { EngineConfig } from "./config.ts";
import type { Coverage, EndpointSample } from "./types.ts";

/** The longest window the engine reads from raw samples (the rest lives in `Coverage` and memory), plus slack: 30 s + 5 × 1 s = 35 s by default. */
export function historyWindowMsFor(cfg: EngineConfig): number {
  return Math.max(cfg.scaleUpWindowMs, cfg.scaleUpFastWindowMs, cfg.verticalIntervalMs) + cfg.historySlackSamples * cfg.sampleIntervalMs;
}

const active = (s: EndpointSample): boolean => s.arrivals > 0 || s.inFlight > 0 || s.queued > 0;

/**
 * Folds the samples newer than `prev.lastSampleAtMs` (all of them when `prev` is undefined) and not after
 * `nowMs` into the coverage; spans ending before `nowMs - keepMs` are dropped.
 */
export function updateCoverage(
  prev: Coverage | undefined,
  history: readonly EndpointSample[],
  nowMs: number,
  sampleIntervalMs: number,
  keepMs: number,
): Coverage | undefined {
  let hi = history.length;
  while (hi > 0 && (history[hi - 1]?.atMs ?? 0) > nowMs) hi--;
  let lo = hi;
  const after = prev?.lastSampleAtMs ?? Number.NEGATIVE_INFINITY;
  while (lo > 0 && (history[lo - 1]?.atMs ?? 0) > after) lo--;
  if (lo === hi) return prune(prev, nowMs, keepMs);
  // The newest span stays open (two numbers) while samples extend it: one span object per span, not per sample.
  const prevSpans = prev?.spans ?? [];
  const newestPrev = prevSpans[prevSpans.length - 1];
  let openStartMs = newestPrev?.startMs;
  let openEndMs = newestPrev?.endMs ?? 0;
  const spans = prevSpans.slice(0, -1);
  let lastActiveAtMs = prev?.lastActiveAtMs;
  let lastSampleAtMs = after;
  for (let i = lo; i < hi; i++) {
    const s = history[i];
    if (s === undefined) continue;
    const interval = s.intervalMs !== undefined && s.intervalMs > 0 ? s.intervalMs : sampleIntervalMs;
    const startMs = Math.max(s.atMs - interval, lastSampleAtMs);
    // Adjacent samples (the gateway reader sets intervalMs = time since the previous scrape) extend one span.
    if (openStartMs !== undefined && startMs <= openEndMs + 1e-6) openEndMs = s.atMs;
    else {
      if (openStartMs !== undefined) spans.push({ startMs: openStartMs, endMs: openEndMs });
      openStartMs = startMs;
      openEndMs = s.atMs;
    }
    lastSampleAtMs = s.atMs;
    if (active(s)) lastActiveAtMs = s.atMs;
  }
  if (openStartMs !== undefined) spans.push({ startMs: openStartMs, endMs: openEndMs });
  return prune({ spans, lastSampleAtMs, lastActiveAtMs }, nowMs, keepMs);
}

function prune(c: Coverage | undefined, nowMs: number, keepMs: number): Coverage | undefined {
  if (c === undefined) return undefined;
  const from = nowMs - keepMs;
  let drop = 0;
  while (drop < c.spans.length && (c.spans[drop]?.endMs ?? 0) <= from) drop++;
  return drop === 0 ? c : { ...c, spans: c.spans.slice(drop) };
}

/** Milliseconds of (nowMs - windowMs, nowMs] covered by samples. */
export function coveredMs(c: Coverage | undefined, nowMs: number, windowMs: number): number {
  if (c === undefined) return 0;
  const from = nowMs - windowMs;
  let ms = 0;
  for (const s of c.spans) ms += Math.max(0, Math.min(s.endMs, nowMs) - Math.max(s.startMs, from));
  return ms;
}

/** True when samples cover at least `minWindowCoverage` of the last `windowMs` (gaps make a window untrustworthy). */
export function windowCovered(c: Coverage | undefined, nowMs: number, windowMs: number, cfg: EngineConfig): boolean {
  return coveredMs(c, nowMs, windowMs) >= cfg.minWindowCoverage * windowMs;
}
