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
  /** Mean resource utilisations at that in-flight, where reported (see `resourceKeys`). */
  readonly r: Readonly<Partial<Record<ResourceKey, number>>>;
}

/** Resource signals the profile learns against in-flight: compute (CPU, or GPU outside batching engines), memory, KV-cache, GPU memory. */
export type ResourceKey = "compute" | "memory" | "kv" | "gpuMemory";
export const resourceKeys: readonly ResourceKey[] = ["compute", "memory", "kv", "gpuMemory"];
const rkPrefix: Record<ResourceKey, string> = { compute: "pc", memory: "pm", kv: "pk", gpuMemory: "pg" };

/** Most bins kept; the ones farthest from the latest observation go first. */
export const maxProfileBins = 12;
/** Weight of a new window in its bin's average. */
export const profileAlpha = 0.5;

export const binOf = (x: number): number => Math.round(2 * Math.log2(Math.max(x, 1 / 64)));

export function readProfile(extra: Readonly<Record<string, number>> | undefined): ProfilePoint[] {
  const out: ProfilePoint[] = [];
  if (extra === undefined) return out;
  for (const [key, x] of Object.entries(extra)) {
    if (!key.startsWith("px")) continue;
    const k = Number(key.slice(2));
    const s = extra[`ps${key.slice(2)}`];
    if (!Number.isInteger(k) || s === undefined || !Number.isFinite(x) || !Number.isFinite(s)) continue;
    const r: Partial<Record<ResourceKey, number>> = {};
    for (const rk of resourceKeys) {
      const v = extra[`${rkPrefix[rk]}${key.slice(2)}`];
      if (v !== undefined && Number.isFinite(v)) r[rk] = v;
    }
    out.push({ k, x, s, r });
  }
  return out.sort((p, q) => p.k - q.k);
}

export function writeProfile(points: readonly ProfilePoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    out[`px${p.k}`] = p.x;
    out[`ps${p.k}`] = p.s;
    for (const rk of resourceKeys) {
      const v = p.r[rk];
      if (v !== undefined) out[`${rkPrefix[rk]}${p.k}`] = v;
    }
  }
  return out;
}

const ema = (old: number | undefined, v: number) => (old === undefined ? v : old + profileAlpha * (v - old));

/** Merge one window's (per-pod in-flight, service time, resource utilisations) into the profile. */
export function updateProfile(
  points: readonly ProfilePoint[],
  x: number,
  s: number,
  r: Readonly<Partial<Record<ResourceKey, number>>> = {},
): ProfilePoint[] {
  const k = binOf(x);
  const old = points.find((p) => p.k === k);
  const rr: Partial<Record<ResourceKey, number>> = { ...(old?.r ?? {}) };
  for (const rk of resourceKeys) {
    const v = r[rk];
    if (v !== undefined) rr[rk] = ema(old?.r[rk], v);
  }
  const merged: ProfilePoint = { k, x: ema(old?.x, x), s: ema(old?.s, s), r: rr };
  let next = [...points.filter((p) => p.k !== k), merged];
  if (next.length > maxProfileBins) {
    next = next.sort((p, q) => Math.abs(p.k - k) - Math.abs(q.k - k)).slice(0, maxProfileBins);
  }
  return next.sort((p, q) => p.k - q.k);
}

/**
 * The knee of a pod whose latency inflates with in-flight (processor sharing over a few cores, an I/O
 * pool of fixed size): from the most inflated profile point, the in-flight that would give the same
 * throughput without inflation, x · s0 / s. Undefined until some point shows inflation ≥ `minInflation`.
 */
export function kneeOf(points: readonly ProfilePoint[], s0: number, minInflation: number): number | undefined {
  let best: ProfilePoint | undefined;
  for (const p of points) if (p.s / s0 >= minInflation && (best === undefined || p.x > best.x)) best = p;
  return best === undefined ? undefined : (best.x * s0) / best.s;
}

/** Lowest service time in the profile (service time never falls as in-flight grows). */
export function lowLoadServiceMs(points: readonly ProfilePoint[]): number | undefined {
  let best: number | undefined;
  for (const p of points) if (best === undefined || p.s < best) best = p.s;
  return best;
}

/**
 * Least-squares line S(x) = a + b·x through the profile points. Undefined unless the points span at
 * least a 1.5× range of in-flight (and a 1-request range) and give a positive slope and intercept.
 */
export function fitLinear(points: readonly ProfilePoint[]): { a: number; b: number } | undefined {
  return fitLine(points.map((p) => [p.x, p.s] as const), true);
}

/**
 * In-flight per pod at which resource `key` reaches `level`: from a line fitted through the profile
 * (`fitted`, when its points span a range of in-flight; a flat line means no limit), else in proportion
 * to the latest observation (a guess that errs low when the resource has a fixed base: good enough to
 * bound a raise, never used to cut). Undefined when the resource is not reported or too small.
 */
export function inFlightAt(
  points: readonly ProfilePoint[],
  key: ResourceKey,
  level: number,
  latest: { readonly x: number; readonly v: number | undefined },
): { readonly x: number; readonly fitted: boolean } | undefined {
  const pts = points.flatMap((p) => (p.r[key] !== undefined ? [[p.x, p.r[key]] as const] : []));
  const line = fitLine(pts, false);
  if (line !== undefined) {
    // A flat line (a fixed allocation, e.g. weights) never reaches the level: no limit.
    if (line.b <= 1e-6 * Math.max(level, 1e-9) || line.a >= level) return line.a >= level ? { x: 0, fitted: true } : undefined;
    return { x: (level - line.a) / line.b, fitted: true };
  }
  if (latest.v === undefined || latest.v < 0.05 || latest.x <= 0) return undefined;
  return { x: (level * latest.x) / latest.v, fitted: false };
}

function fitLine(pts: readonly (readonly [number, number])[], positiveIntercept: boolean): { a: number; b: number } | undefined {
  const points = pts.map(([x, s]) => ({ x, s }));
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
  if (positiveIntercept && (!(b > 0) || !(a > 0))) return undefined;
  if (!Number.isFinite(b)) return undefined;
  return { a, b };
}

/** Efficient concurrency of a batching pod from a linear latency model S(x) = a + b·x (see docs). */
export function efficientConcurrency(
  a: number,
  b: number,
  p99Ratio: number,
  sloP99Ms: number | undefined,
  sloFraction: number,
  maxC: number,
  fraction: number,
): number | undefined {
  if (!(b > 0) || !(a > 0)) return undefined;
  let xs = maxC;
  if (sloP99Ms !== undefined) xs = Math.min(xs, ((sloFraction * sloP99Ms) / p99Ratio - a) / b);
  if (!(xs > 0)) return 1;
  const k = fraction * (xs / (a + b * xs));
  const denom = 1 - k * b;
  if (denom <= 0) return undefined;
  return Math.min(xs, (k * a) / denom);
}
