/**
 * The APA decision engine: `decide(input, config)` → desired replicas and target concurrency, each with
 * a reason code and a message, plus when it next wants to run. Pure: no clock, timers or I/O; `nowMs`
 * and the metric history come in, the memory to pass back next time goes out.
 */
import { applyBounds, idleForZero } from "./bounds.ts";
import { defaultEngineConfig, type EngineConfig } from "./config.ts";
import { updateCoverage } from "./coverage.ts";
import { decideHorizontal, replicasFor, rescaleRecommendations, staffingBetaFor, surgeDue, surgePossible, type HistoryColumns, type HorizontalResult } from "./horizontal.ts";
import { lineAt } from "./profile.ts";
import { forecastDemand, observeDemand } from "./seasonality.ts";
import type { Decision, DecisionInput, EngineMemory } from "./types.ts";
import { cadenceSlackMs, decideVertical } from "./vertical.ts";

export { defaultEngineConfig, validateEngineConfig, validateEndpointSpec, type EngineConfig } from "./config.ts";
export { historyWindowMsFor } from "./coverage.ts";
export type { HistoryColumns } from "./horizontal.ts";
export { decodeSeasonality, encodeSeasonality, type Seasonality } from "./seasonality.ts";
export type * from "./types.ts";

export function decide(input: DecisionInput, config: EngineConfig = defaultEngineConfig): Decision {
  const cfg = config;
  const { spec, state, nowMs, memory } = input;
  const sinceMs = memory?.sinceMs ?? nowMs;
  const restartSlots = memory !== undefined ? memory.restartSlots : state.targetConcurrency > 0 ? state.desiredReplicas * state.targetConcurrency : undefined;
  const coverage = updateCoverage(memory?.coverage, input.history, nowMs, cfg.sampleIntervalMs, Math.max(cfg.scaleDownWindowMs, cfg.scaleToZeroIdleMs));

  const scalingUp = state.startingReplicas > cfg.softCutStartingFraction * Math.max(1, state.readyReplicas);
  const scaleUpSeenAtMs = scalingUp ? nowMs : memory?.scaleUpSeenAtMs;
  const v = decideVertical(input, cfg, scaleUpSeenAtMs);
  const c = v.target;
  const baselineServiceMs = v.memory.baselineServiceMs;
  const latencyLine = v.memory.latencyLine;
  const changedC = c !== state.targetConcurrency;
  let recs = memory?.recommendations ?? [];
  if (changedC && state.targetConcurrency > 0) {
    recs = rescaleRecommendations(recs, state.targetConcurrency, c);
  }

  const due =
    memory !== undefined &&
    (nowMs + cadenceSlackMs(cfg) >= memory.lastHorizontalAtMs + cfg.horizontalIntervalMs ||
      changedC ||
      state.desiredReplicas === 0 ||
      surgeDue(input, cfg, c, baselineServiceMs, latencyLine));
  let h: HorizontalResult;
  if (memory === undefined) {
    h = {
      desired: state.desiredReplicas,
      reason: input.history.length === 0 ? "NoMetrics" : "Steady",
      message: `engine (re)started: holding ${state.desiredReplicas} replicas until it has history`,
      observed: undefined,
      recommendations: [],
    };
  } else if (!due) {
    h = {
      desired: state.desiredReplicas,
      reason: "NotDue",
      message: `next horizontal decision at ${memory.lastHorizontalAtMs + cfg.horizontalIntervalMs} ms`,
      observed: undefined,
      recommendations: recs,
    };
  } else {
    h = decideHorizontal({ input, config: cfg, targetConcurrency: c, baselineServiceMs, latencyLine, recommendations: recs, sinceMs, coverage, restartSlots });
  }

  // Forecasting: learn the seasonal peak demand; ahead of a predicted rise, raise the floor by a pod start.
  const seasonality = observeDemand(input.seasonality, due ? h.observed : undefined, nowMs, cfg);
  const podStart = trackPodStart(memory?.podStart, state, nowMs);
  if (due && memory !== undefined && h.reason !== "UnschedulableHold") {
    const leadMs = (podStart.estimateMs ?? cfg.forecastLeadMs) + cfg.horizontalIntervalMs;
    const predicted = forecastDemand(seasonality, nowMs, leadMs);
    if (predicted !== undefined) {
      // the headroom the horizontal axis itself would give that demand (its SLO-derived β at the service time in force)
      const serviceMs = latencyLine !== undefined ? lineAt(latencyLine, cfg.targetUtilization * c) : baselineServiceMs;
      const floor = replicasFor(predicted, c, cfg.targetUtilization, staffingBetaFor(cfg, spec.sloP99Ms, serviceMs, predicted));
      if (floor > h.desired) {
        h = { ...h, desired: floor, reason: "ForecastFloor", message: `${h.message}; the learned seasonality forecasts demand ${predicted.toFixed(1)} within ${(leadMs / 1000).toFixed(0)} s (a pod start ahead): floor ${floor} replicas` };
      }
    }
  }

  let allowZero = state.desiredReplicas === 0 && h.desired === 0;
  if (due && h.desired <= state.desiredReplicas && idleForZero(input, cfg, sinceMs, coverage)) {
    h = { ...h, desired: 0, reason: "ScaleToZero", message: `no requests for ${cfg.scaleToZeroIdleMs / 1000} s; scaling to zero` };
    allowZero = true;
  }
  const b = applyBounds(spec, c, h, allowZero);

  const lastHorizontalAtMs = memory === undefined || due ? nowMs : memory.lastHorizontalAtMs;
  const lastVerticalAtMs = memory === undefined || v.ran ? nowMs : memory.lastVerticalAtMs;
  const nextMemory: EngineMemory = {
    lastHorizontalAtMs,
    lastVerticalAtMs,
    sinceMs,
    recommendations: h.recommendations,
    ...(coverage !== undefined ? { coverage } : {}),
    ...(restartSlots !== undefined ? { restartSlots } : {}),
    ...(scaleUpSeenAtMs !== undefined ? { scaleUpSeenAtMs } : {}),
    podStart,
    vertical: v.memory,
  };
  // Every sample: a step in demand is acted on at once (see `surgeDue`); the regular cycles stay 5 s / 30 s.
  const regularRunAtMs = Math.max(nowMs + 1, Math.min(lastHorizontalAtMs + cfg.horizontalIntervalMs, lastVerticalAtMs + cfg.verticalIntervalMs));
  const nextRunAtMs = Math.max(nowMs + 1, Math.min(nowMs + cfg.sampleIntervalMs, regularRunAtMs));
  return {
    desiredReplicas: b.desired,
    replicasReason: b.reason,
    replicasMessage: b.message,
    targetConcurrency: c,
    concurrencyReason: v.reason,
    concurrencyMessage: v.message,
    observedConcurrency: h.observed,
    nextRunAtMs,
    regularRunAtMs,
    memory: nextMemory,
    seasonality,
  };
}

/**
 * Pod start as the engine sees it: from the first call that sees pods starting to the first that sees none
 * (a whole scale-up: its slowest pod), smoothed. Example: starting seen at 100 s, none at 162 s → 62 s.
 */
function trackPodStart(prev: EngineMemory["podStart"], state: DecisionInput["state"], nowMs: number): NonNullable<EngineMemory["podStart"]> {
  const since = prev?.startingSinceMs;
  const estimate = prev?.estimateMs;
  if (state.startingReplicas > 0) return { startingSinceMs: since ?? nowMs, estimateMs: estimate };
  if (since === undefined) return { startingSinceMs: undefined, estimateMs: estimate };
  const measured = nowMs - since;
  return { startingSinceMs: undefined, estimateMs: estimate === undefined ? measured : estimate + 0.5 * (measured - estimate) };
}

/**
 * Whether a call of `decide` at `input.nowMs` can change anything, given the previous decision's
 * `regularRunAtMs`: the engine has no memory yet, a regular (5 s / 30 s) run is due, the newest sample may be a
 * step in demand (`surgePossible`, the pre-check `decide` itself applies), or requests reach an endpoint at
 * zero replicas. Cheap and allocation-free: a caller with many endpoints calls it every sample and `decide`
 * only when it is true, and gets the decisions of calling `decide` every sample. `columns`: the history's
 * `atMs` and `arrivals` kept beside it (same answer, fewer memory reads).
 */
export function decisionNeeded(input: DecisionInput, regularRunAtMs: number, config: EngineConfig = defaultEngineConfig, columns?: HistoryColumns): boolean {
  const { history, nowMs, state, memory, spec } = input;
  if (memory === undefined || nowMs + cadenceSlackMs(config) >= regularRunAtMs) return true;
  // Bounds are enforced on every call: a state outside them (a spec edit, a manual scale) needs one now.
  const c = state.targetConcurrency;
  if (!Number.isInteger(c) || c < spec.concurrency.min || c > spec.concurrency.max) return true;
  const r = state.desiredReplicas;
  if (r > spec.replicas.max || (r < spec.replicas.min && r !== 0) || r * c < spec.provisionedConcurrency) return true;
  if (state.desiredReplicas === 0) {
    const latest = history[history.length - 1];
    return latest !== undefined && (latest.arrivals > 0 || latest.inFlight > 0 || latest.queued > 0);
  }
  return surgePossible(input, config, columns);
}
