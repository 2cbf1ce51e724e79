/**
 * The learned latency profile of one pod: mean service time at each level of per-pod in-flight
 * requests, one point per half-octave bin, updated once per vertical window (exponential average, so it
 * follows a model that gets slower or faster). Carried in `EngineMemory.extra` as `px<k>` / `ps<k>`.
 * It gives the low-load service time (the inflation baseline) and, for batching engines, the linear
 * latency model S(x) = a + b·x.
 */

export interface ProfilePoint {
  /** Bin index: round(2·log2(x)). */
  readonly k: number;
  /** Mean per-pod in-flight of the observations in the bin. */
  readonly x: number;
  /** Mean pod service time at that in-flight, ms. */
  readonly s: number;
}

/** Most bins kept; the ones farthest from the latest observation go first. */
export const maxProfileBins = 12;
/** Weight of a new window in its bin's average. */
export const profileAlpha = 0.5;

const binOf = (x: number) => Math.round(2 * Math.log2(Math.max(x, 1 / 64)));

export function readProfile(extra: Readonly<Record<string, number>> | undefined): ProfilePoint[] {
  const out: ProfilePoint[] = [];
  if (extra === undefined) return out;
  for (const [key, x] of Object.entries(extra)) {
    if (!key.startsWith("px")) continue;
    const k = Number(key.slice(2));
    const s = extra[`ps${key.slice(2)}`];
    if (Number.isInteger(k) && s !== undefined && Number.isFinite(x) && Number.isFinite(s)) out.push({ k, x, s });
  }
  return out.sort((p, q) => p.k - q.k);
}

export function writeProfile(points: readonly ProfilePoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    out[`px${p.k}`] = p.x;
    out[`ps${p.k}`] = p.s;
  }
  return out;
}

/** Merge one window's (per-pod in-flight, service time) into the profile. */
export function updateProfile(points: readonly ProfilePoint[], x: number, s: number): ProfilePoint[] {
  const k = binOf(x);
  const old = points.find((p) => p.k === k);
  const merged: ProfilePoint = old
    ? { k, x: old.x + profileAlpha * (x - old.x), s: old.s + profileAlpha * (s - old.s) }
    : { k, x, s };
  let next = [...points.filter((p) => p.k !== k), merged];
  if (next.length > maxProfileBins) {
    next = next.sort((p, q) => Math.abs(p.k - k) - Math.abs(q.k - k)).slice(0, maxProfileBins);
  }
  return next.sort((p, q) => p.k - q.k);
}

/** Lowest service time in the profile (service time never falls as in-flight grows). */
export function lowLoadServiceMs(points: readonly ProfilePoint[]): number | undefined {
  let best: number | undefined;
  for (const p of points) if (best === undefined || p.s < best) best = p.s;
  return best;
}

/**
 * Least-squares line S(x) = a + b·x through the profile points. Undefined unless the points span at
 * least a 1.5× range of in-flight and give a positive slope and intercept.
 */
export function fitLinear(points: readonly ProfilePoint[]): { a: number; b: number } | undefined {
  if (points.length < 2) return undefined;
  let xMin = Infinity;
  let xMax = 0;
  let sx = 0;
  let ss = 0;
  for (const p of points) {
    xMin = Math.min(xMin, p.x);
    xMax = Math.max(xMax, p.x);
    sx += p.x;
    ss += p.s;
  }
  if (xMax < 1.5 * xMin || xMax - xMin < 1) return undefined;
  const n = points.length;
  const mx = sx / n;
  const ms = ss / n;
  let cov = 0;
  let vx = 0;
  for (const p of points) {
    cov += (p.x - mx) * (p.s - ms);
    vx += (p.x - mx) ** 2;
  }
  const b = cov / vx;
  const a = ms - b * mx;
  if (!(b > 0) || !(a > 0)) return undefined;
  return { a, b };
}
