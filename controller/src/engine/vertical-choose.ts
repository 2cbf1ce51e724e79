/**
 * Vertical stage 3 — choose: from the signals and caps of one window, cut, hold or raise the target.
 * - cut (`StressCut`) when a signal is over its cut threshold, or a fitted cap lies clearly below the target;
 *   to the lowest suggestion, at most halving;
 * - raise (`CalmRaise`) when every signal has been under its raise threshold for enough windows and there is
 *   evidence about higher concurrency; ×1.5 (at least +1), capped;
 * - otherwise hold. Small changes no stress signal asks for wait (one per 10 min). Pure.
 */
import type { EngineConfig } from "./config.ts";
import type { ConcurrencyReason, VerticalMemory } from "./types.ts";
import type { Cap, Signal } from "./vertical-signals.ts";

export interface ChooseInput {
  readonly current: number;
  readonly min: number;
  readonly max: number;
  readonly signals: readonly Signal[];
  readonly caps: readonly Cap[];
  /** Mean per-pod in-flight of the window. */
  readonly inFlight: number;
  /** Mean gateway queue length of the window. */
  readonly meanQueued: number;
  /** The memory before this window, and the tail ceiling after this window's count. */
  readonly prev: VerticalMemory;
  readonly tailCeiling: number | undefined;
  readonly nowMs: number;
  /** A description of the operating point for messages. */
  readonly state: string;
  /** Why soft stress may not cut now (a scale-up under way), or undefined. */
  readonly softHold: string | undefined;
}

/** What the vertical axis does after one window, and what it remembers of it. */
export interface Choice {
  readonly target: number;
  readonly reason: ConcurrencyReason;
  readonly message: string;
  readonly memory: Pick<VerticalMemory, "calmWindows" | "stressWindows" | "lastChangeAtMs" | "lastChangeDirection" | "stressCeiling" | "tailCeiling">;
}

export function clampInt(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(x)));
}

const lowest = (cs: readonly Cap[]): Cap | undefined => (cs.length > 0 ? cs.reduce((m, c) => (c.inFlight < m.inFlight ? c : m)) : undefined);
const f2 = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

export function chooseTarget(i: ChooseInput, cfg: EngineConfig): Choice {
  const { current, prev, nowMs } = i;
  const lo = i.min;
  const hi = i.max;
  const keep = { lastChangeAtMs: prev.lastChangeAtMs, lastChangeDirection: prev.lastChangeDirection, stressCeiling: prev.stressCeiling, tailCeiling: i.tailCeiling };
  const cap = lowest(i.caps);
  // a raise never goes above a learned saturation point: a cap at 2.5 in flight allows 2, not 3
  const capTarget = cap !== undefined ? Math.max(lo, Math.floor(cap.inFlight + 1e-9)) : undefined;
  const hardCap = lowest(i.caps.filter((c) => c.fitted));
  const hardTarget = hardCap !== undefined ? Math.max(lo, Math.round(hardCap.inFlight)) : undefined;

  // Latency and compute stress at under one request in flight per pod is not caused by concurrency
  // (a slow request, the tail of a drain): cutting the limit would not relieve it.
  const loaded = i.inFlight >= cfg.minStressInFlight;
  const stressed = i.signals.filter((g) => g.value >= g.cut && (loaded || !g.needsLoad));
  // While a scale-up's pods are still arriving, the few ready pods run at their limit: only hard stress cuts.
  const over = i.softHold === undefined ? stressed : stressed.filter((g) => g.hard === true);
  // A dead band around a learned saturation point: its estimate moves by ~10% window to window, and an
  // integer target must not follow that noise (with 15%: a cap at 10 cuts a target of 12, not of 11).
  const modelCut = i.softHold === undefined && hardCap !== undefined && hardTarget !== undefined && hardTarget < current && current > hardCap.inFlight * (1 + cfg.modelTolerance);
  if (over.length === 0 && stressed.length > 0) {
    return { target: current, reason: "Hold", message: `${stressed.map((g) => `${g.name} ${f2(g.value)} ≥ ${g.cut}`).join(", ")}; but ${i.softHold}: soft stress does not cut; ${i.state}; keeping ${current}`, memory: { ...keep, stressWindows: 0, calmWindows: 0 } };
  }
  if (over.length > 0 || modelCut) {
    const suggestions = over.map((g) => g.suggest);
    if (hardTarget !== undefined) suggestions.push(hardTarget);
    // At most halving: from 16 the lowest a cut goes is 8, whatever the suggestions.
    const floorByCap = Math.ceil(current * cfg.maxCutFactor);
    const t = clampInt(Math.min(current - 1, Math.max(floorByCap, Math.floor(Math.min(...suggestions) + 1e-9))), lo, hi);
    const names = over.map((g) => `${g.name} ${f2(g.value)} ≥ ${g.cut}`);
    if (modelCut && hardCap !== undefined) names.push(hardCap.name);
    if (t >= current) {
      return { target: current, reason: "Bounds", message: `${names.join(", ")}; but target ${current} is at the minimum ${lo}`, memory: { ...keep, stressWindows: prev.stressWindows + 1, calmWindows: 0 } };
    }
    const wait = over.length === 0 ? refinementWait(current, t, prev.lastChangeAtMs, nowMs, cfg) : undefined;
    if (wait !== undefined) {
      return { target: current, reason: "Hold", message: `${names.join(", ")}; a small refinement ${current} → ${t} waits until ${wait} ms (one per ${cfg.refineIntervalMs / 60_000} min); ${i.state}`, memory: { ...keep, stressWindows: 0, calmWindows: 0 } };
    }
    return {
      target: t,
      reason: "StressCut",
      message: `${names.join(", ")}; ${i.state}; cut ${current} → ${t}`,
      memory: {
        stressWindows: prev.stressWindows + 1,
        calmWindows: 0,
        lastChangeAtMs: nowMs,
        lastChangeDirection: -1,
        // Raises stay below the middle of the cut for a while: the level that hurt, and just under it, are not
        // retried at once (a cut 16 → 8 keeps raises under 12 for `ceilingHoldMs`).
        stressCeiling: over.length > 0 ? { target: Math.ceil((current + t) / 2), untilMs: nowMs + cfg.ceilingHoldMs } : prev.stressCeiling,
        tailCeiling: over.some((g) => g.tail === true) ? t : i.tailCeiling,
      },
    };
  }

  const notCalm = i.signals.filter((g) => g.value > g.raise);
  // With square-root staffing pods run at 60–95% of their limit: 60% counts as binding (5 of 8 does).
  const binding = i.inFlight >= cfg.bindingFraction * current || i.meanQueued >= 1;
  // A raise needs evidence about higher concurrency: either the limit binds now, or the profile says
  // where the pod saturates (then the raise goes at most there).
  const evidence = binding || (capTarget !== undefined && capTarget > current);
  if (notCalm.length > 0 || !evidence) {
    const why = notCalm.length > 0
      ? notCalm.map((g) => `${g.name} ${f2(g.value)} > ${g.raise}`).join(", ")
      : `limit not binding (per-pod in-flight ${f2(i.inFlight)} < ${cfg.bindingFraction} × ${current}) and no saturation point learned`;
    return { target: current, reason: "Hold", message: `${why}; ${i.state}; keeping ${current}`, memory: { ...keep, stressWindows: 0, calmWindows: notCalm.length > 0 ? 0 : prev.calmWindows } };
  }
  const calm = prev.calmWindows + 1;
  const momentum = prev.lastChangeDirection > 0 && prev.lastChangeAtMs !== undefined && nowMs - prev.lastChangeAtMs <= cfg.raiseMomentumWindows * cfg.verticalIntervalMs;
  const need = momentum ? 1 : cfg.calmWindowsToRaise;
  if (calm < need) {
    return { target: current, reason: "Hold", message: `calm for ${calm}/${need} windows; ${i.state}; keeping ${current}`, memory: { ...keep, stressWindows: 0, calmWindows: calm } };
  }
  // ×1.5, at least +1: 1 → 2 → 3 → 4 → 6 → 9 → 13 …
  let t = Math.max(current + 1, Math.floor(current * cfg.maxRaiseFactor));
  const limits: string[] = [];
  if (capTarget !== undefined && capTarget < t && cap !== undefined) {
    t = capTarget;
    limits.push(cap.name);
    // the dead band again: toward a cap at 10 a raise happens only below 10 / 1.15 = 8.7
    if (current >= cap.inFlight / (1 + cfg.modelTolerance)) t = current;
  }
  const ceiling = prev.stressCeiling;
  if (ceiling !== undefined && nowMs < ceiling.untilMs && t >= ceiling.target) {
    t = ceiling.target - 1;
    limits.push(`stress seen at ${ceiling.target} until ${ceiling.untilMs} ms`);
  }
  if (i.tailCeiling !== undefined && t > i.tailCeiling) {
    t = i.tailCeiling;
    limits.push(`requests over the objective: raises go one counted step at a time, now to ${i.tailCeiling}`);
  }
  t = clampInt(t, lo, hi);
  if (t <= current) {
    return { target: current, reason: "Hold", message: `calm, but a raise is capped (${limits.join(", ") || `maximum ${hi}`}); ${i.state}; keeping ${current}`, memory: { ...keep, stressWindows: 0, calmWindows: calm } };
  }
  const wait = refinementWait(current, t, prev.lastChangeAtMs, nowMs, cfg);
  if (wait !== undefined) {
    return { target: current, reason: "Hold", message: `calm; a small refinement ${current} → ${t} waits until ${wait} ms (one per ${cfg.refineIntervalMs / 60_000} min); ${i.state}`, memory: { ...keep, stressWindows: 0, calmWindows: calm } };
  }
  return {
    target: t,
    reason: "CalmRaise",
    message: `every stress signal under its raise threshold for ${calm} windows${binding ? " and the limit is binding" : ""}; ${i.state}; raise ${current} → ${t}${limits.length ? ` (capped: ${limits.join(", ")})` : ""}`,
    memory: { ...keep, stressWindows: 0, calmWindows: 0, lastChangeAtMs: nowMs, lastChangeDirection: 1 },
  };
}

/**
 * Small changes (under `refineFraction` of the target) that no stress signal asks for are refinements:
 * at most one per `refineIntervalMs`, so a steady load sees a steady target. Returns when it may happen,
 * or undefined when it may happen now. Big corrections and stress cuts are never delayed.
 * Example: target 20, a change to 18 (10%) 4 min after the last change waits 6 more minutes.
 */
export function refinementWait(current: number, t: number, lastChangeAtMs: number | undefined, nowMs: number, cfg: EngineConfig): number | undefined {
  if (Math.abs(t - current) >= cfg.refineFraction * current || lastChangeAtMs === undefined) return undefined;
  const at = lastChangeAtMs + cfg.refineIntervalMs;
  return nowMs < at ? at : undefined;
}
