/**
 * The learned latency profile of one pod: mean service time at each level of per-pod in-flight
 * requests, one point per bin of in-flight (half an octave by default), updated once per vertical window
 * (exponential average, so it follows a model that gets slower or faster). Carried in
 * `EngineMemory.vertical.profile`. It gives the low-load service time (the inflation baseline), the latency
 * knee and, for batching engines, the linear latency model S(x) = intercept + slope·x.
 */
import type { EngineConfig } from "./config.ts";
import type { LatencyLine, ProfilePoint, ResourceKey } from "./types.ts";

export type { LatencyLine, ProfilePoint, ResourceKey };

/** Resource signals the profile learns against in-flight (compute is learned apart: `cpuSaturation`). */
export const resourceKeys: readonly ResourceKey[] = ["memory", "kv", "gpuMemory"];

/** The profile parameters (a slice of EngineConfig). */
export type ProfileConfig = Pick<
  EngineConfig,
  "profileBinsPerOctave" | "profileMaxBins" | "profileSmoothing" | "fitMinInFlightRatio" | "fitMinInFlightSpan" | "resourceGuessMinUtil" | "profileMinInFlight" | "serviceTimeFloorMs"
>;

/** In-flight below 1/64 shares the lowest bin (an idle pod is not a new operating point per halving). */
const LOWEST_BINNED_IN_FLIGHT = 1 / 64;

/** Bin of a per-pod in-flight: round(binsPerOctave · log2(x)); e.g. with 2 bins per octave 4 → 4, 5.7 → 5, 8 → 6. */
export const binOf = (inFlight: number, binsPerOctave: number): number =>
  Math.round(binsPerOctave * Math.log2(Math.max(inFlight, LOWEST_BINNED_IN_FLIGHT)));

const ema = (old: number | undefined, v: number, alpha: number): number => (old === undefined ? v : old + alpha * (v - old));

/**
 * True when a window is evidence of an operating point: requests were in flight (at least `profileMinInFlight`
 * per pod) and the service time is a measurement (at least `serviceTimeFloorMs`). A window read at in-flight 0,
 * or a 0 ms service time, would otherwise become the low-load minimum and make every normal window look inflated.
 */
export function isProfilePoint(inFlight: number, serviceMs: number, cfg: Pick<ProfileConfig, "profileMinInFlight" | "serviceTimeFloorMs">): boolean {
  return inFlight >= cfg.profileMinInFlight && serviceMs >= cfg.serviceTimeFloorMs && Number.isFinite(inFlight) && Number.isFinite(serviceMs);
}

/** Merge one window's (per-pod in-flight, service time, resource utilisations) into the profile; a window that is no operating point (`isProfilePoint`) leaves it as it is. */
export function updateProfile(
  points: readonly ProfilePoint[],
  inFlight: number,
  serviceMs: number,
  resources: Readonly<Partial<Record<ResourceKey, number>>>,
  cfg: ProfileConfig,
): ProfilePoint[] {
  if (!isProfilePoint(inFlight, serviceMs, cfg)) return [...points];
  const bin = binOf(inFlight, cfg.profileBinsPerOctave);
  const alpha = cfg.profileSmoothing;
  const old = points.find((p) => p.bin === bin);
  const merged: Partial<Record<ResourceKey, number>> = { ...(old?.resources ?? {}) };
  for (const key of resourceKeys) {
    const v = resources[key];
    if (v !== undefined) merged[key] = ema(old?.resources[key], v, alpha);
  }
  const point: ProfilePoint = { bin, inFlight: ema(old?.inFlight, inFlight, alpha), serviceMs: ema(old?.serviceMs, serviceMs, alpha), resources: merged };
  let next = [...points.filter((p) => p.bin !== bin), point];
  if (next.length > cfg.profileMaxBins) {
    next = next.sort((p, q) => Math.abs(p.bin - bin) - Math.abs(q.bin - bin)).slice(0, cfg.profileMaxBins);
  }
  return next.sort((p, q) => p.bin - q.bin);
}

/**
 * The knee of a pod whose latency inflates with in-flight (processor sharing over a few cores, an I/O
 * pool of fixed size): from the most inflated profile point, the in-flight that would give the same
 * throughput without inflation, x · s0 / s. Undefined until some point shows inflation ≥ `minInflation`.
 * Points under `minInFlight` requests per pod are no evidence: inflation there is not concurrency's doing.
 * Example: s0 = 5 ms, a point at 8 in flight with 20 ms → knee 8 · 5 / 20 = 2 (a 2-core pod).
 */
export function kneeOf(points: readonly ProfilePoint[], s0: number, minInflation: number, minInFlight = 0): number | undefined {
  let best: ProfilePoint | undefined;
  for (const p of points) if (p.inFlight >= minInFlight && p.serviceMs / s0 >= minInflation && (best === undefined || p.inFlight > best.inFlight)) best = p;
  return best === undefined ? undefined : (best.inFlight * s0) / best.serviceMs;
}

/**
 * Lowest service time in the profile (service time never falls as in-flight grows), never under `floorMs`;
 * points under the floor (from a memory written before the floor existed) are ignored.
 */
export function lowLoadServiceMs(points: readonly ProfilePoint[], floorMs: number): number | undefined {
  let best: number | undefined;
  for (const p of points) if (p.serviceMs >= floorMs && (best === undefined || p.serviceMs < best)) best = p.serviceMs;
  return best;
}

/**
 * Least-squares line S(x) = intercept + slope·x through the profile points. Undefined unless the points
 * span at least `fitMinInFlightRatio` × and `fitMinInFlightSpan` requests of in-flight and give a
 * positive slope and intercept.
 */
export function fitLatencyLine(points: readonly ProfilePoint[], cfg: ProfileConfig): LatencyLine | undefined {
  const line = fitLine(points.map((p) => [p.inFlight, p.serviceMs] as const), cfg);
  if (line === undefined || !(line.slope > 0) || !(line.intercept > 0)) return undefined;
  return { interceptMs: line.intercept, slopeMs: line.slope };
}

/** Service time of a latency line at per-pod in-flight x, ms. */
export const lineAt = (line: LatencyLine, inFlight: number): number => line.interceptMs + line.slopeMs * inFlight;

/** Where a resource reaches a level: fitted from the profile, or guessed from one reading. */
export interface ResourceLimit {
  readonly inFlight: number;
  /** Fitted through points spanning a range of in-flight (may cut); a guess only bounds a raise. */
  readonly fitted: boolean;
}

/**
 * In-flight per pod at which resource `key` reaches `level`: from a line fitted through the profile
 * (`fitted`, when its points span a range of in-flight; a flat line means no limit), else in proportion
 * to the latest observation (a guess that errs low when the resource has a fixed base: good enough to
 * bound a raise, never used to cut). Undefined when the resource is not reported or too small.
 * Example: memory 0.4 at 8 in flight, 0.6 at 24 → line 0.3 + 0.0125·x reaches 0.8 at x = 40.
 */
export function inFlightAt(
  points: readonly ProfilePoint[],
  key: ResourceKey,
  level: number,
  latest: { readonly inFlight: number; readonly value: number | undefined },
  cfg: ProfileConfig,
): ResourceLimit | undefined {
  const pts = points.flatMap((p) => (p.resources[key] !== undefined ? [[p.inFlight, p.resources[key]] as const] : []));
  const line = fitLine(pts, cfg);
  if (line !== undefined) {
    // A flat line (a fixed allocation, e.g. weights) never reaches the level: no limit.
    if (line.slope <= 1e-6 * Math.max(level, 1e-9) || line.intercept >= level) return line.intercept >= level ? { inFlight: 0, fitted: true } : undefined;
    return { inFlight: (level - line.intercept) / line.slope, fitted: true };
  }
  if (latest.value === undefined || latest.value < cfg.resourceGuessMinUtil || latest.inFlight <= 0) return undefined;
  return { inFlight: (level * latest.inFlight) / latest.value, fitted: false };
}

function fitLine(pts: readonly (readonly [number, number])[], cfg: ProfileConfig): { intercept: number; slope: number } | undefined {
  if (pts.length < 2) return undefined;
  let xMin = Infinity;
  let xMax = 0;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of pts) {
    xMin = Math.min(xMin, x);
    xMax = Math.max(xMax, x);
    sx += x;
    sy += y;
  }
  if (xMax < cfg.fitMinInFlightRatio * xMin || xMax - xMin < cfg.fitMinInFlightSpan) return undefined;
  const n = pts.length;
  const mx = sx / n;
  const my = sy / n;
  let cov = 0;
  let vx = 0;
  for (const [x, y] of pts) {
    cov += (x - mx) * (y - my);
    vx += (x - mx) ** 2;
  }
  const slope = cov / vx;
  if (!Number.isFinite(slope)) return undefined;
  return { intercept: my - slope * mx, slope };
}

/**
 * Efficient concurrency of a batching pod from its latency line (see docs/engine.md): the pod p99 is held
 * to `sloFraction` of the SLO at x_slo = (sloFraction·SLO/r − a)/b (r = pod p99 / mean); throughput
 * T(x) = x/(a + b·x); the efficient point is the smallest x with T(x) ≥ fraction·T(x_slo), i.e.
 * x = k·a/(1 − k·b) with k = fraction·T(x_slo). Example: a = 20 ms, b = 5 ms, SLO 100 ms, sloFraction 0.8,
 * r = 1.2, fraction 0.95 → x_slo = (66.7 − 20)/5 = 9.3; T(x_slo) = 9.3/66.7 = 0.14/ms; k = 0.133 → x = 2.67/0.335 ≈ 8.
 */
export function efficientConcurrency(
  line: LatencyLine,
  p99Ratio: number,
  sloP99Ms: number | undefined,
  sloFraction: number,
  maxConcurrency: number,
  fraction: number,
): number | undefined {
  const a = line.interceptMs;
  const b = line.slopeMs;
  if (!(b > 0) || !(a > 0)) return undefined;
  let xs = maxConcurrency;
  if (sloP99Ms !== undefined) xs = Math.min(xs, ((sloFraction * sloP99Ms) / p99Ratio - a) / b);
  if (!(xs > 0)) return 1;
  const k = fraction * (xs / (a + b * xs));
  const denom = 1 - k * b;
  if (denom <= 0) return undefined;
  return Math.min(xs, (k * a) / denom);
}
