/**
 * The allowed range of every engine parameter (config-fields.ts holds the parameters and their defaults), and
 * validation of the engine config and of an endpoint spec. Errors name the field, the value and what is allowed.
 */
import { defaultEngineConfig, type EngineConfig } from "./config-fields.ts";
import type { EndpointSpec, RuntimeKind } from "./types.ts";

export { defaultEngineConfig, type EngineConfig } from "./config-fields.ts";

type Rule = { readonly kind: "int" | "number"; readonly min: number; readonly max: number };

const int = (min: number, max: number): Rule => ({ kind: "int", min, max });
const num = (min: number, max: number): Rule => ({ kind: "number", min, max });

const rules: { readonly [K in keyof EngineConfig]: Rule } = {
  sampleIntervalMs: int(100, 60_000),
  stalenessMs: int(1000, 600_000),
  minWindowCoverage: num(0.1, 1),
  horizontalIntervalMs: int(1000, 60_000),
  scaleUpWindowMs: int(1000, 600_000),
  scaleUpFastWindowMs: int(1000, 600_000),
  scaleDownWindowMs: int(5000, 3_600_000),
  targetUtilization: num(0.3, 1),
  staffingBeta: num(0, 10),
  minStaffingBeta: num(0, 10),
  maxStaffingBeta: num(0, 10),
  sloTargetAttainment: num(0.5, 0.999999),
  surgeRatio: num(1.1, 1000),
  backlogDrainMs: int(1000, 600_000),
  scaleUpTolerance: num(0, 0.5),
  scaleDownTolerance: num(0, 0.5),
  maxScaleUpLoadFactor: num(1, 100),
  maxScaleDownRate: num(1.01, 1000),
  scaleToZeroIdleMs: int(10_000, 86_400_000),
  verticalIntervalMs: int(5000, 3_600_000),
  minCompletionsPerWindow: int(1, 1_000_000),
  minStressInFlight: num(0, 1_000_000),
  bindingFraction: num(0.1, 1),
  maxCutFactor: num(0.05, 0.95),
  maxRaiseFactor: num(1.01, 10),
  modelTolerance: num(0, 2),
  refineFraction: num(0, 1),
  refineIntervalMs: int(0, 86_400_000),
  calmWindowsToRaise: int(1, 100),
  ceilingHoldMs: int(0, 86_400_000),
  inflationCut: num(1.01, 100),
  inflationRaise: num(1, 100),
  sloCutFraction: num(0.1, 1),
  sloRaiseFraction: num(0.05, 1),
  podP99MaxQueueFraction: num(0, 100),
  tailCutFraction: num(0, 10),
  tailRaiseBand: num(0.1, 1),
  overObjectiveMinExpected: num(1, 1_000_000),
  overObjectiveRaiseBand: num(0.05, 1),
  overObjectiveMaxStep: num(0.01, 1),
  errorCutFraction: num(0, 1),
  errorRaiseFraction: num(0, 1),
  computeCutUtil: num(0.1, 1),
  computeTrustUtil: num(0.01, 1),
  memoryCutUtil: num(0.1, 1),
  memoryRaiseUtil: num(0.05, 1),
  gpuMemoryCutUtil: num(0.1, 1),
  gpuMemoryRaiseUtil: num(0.05, 1),
  kvCacheCutUtil: num(0.1, 1),
  kvCacheRaiseUtil: num(0.05, 1),
  runtimeQueueCut: num(0, 1_000_000),
  runtimeQueueRaise: num(0, 1_000_000),
  efficientThroughputFraction: num(0.5, 1),
  historySlackSamples: int(0, 600),
  backlogDrainServiceTimes: num(0, 1000),
  errorCutFactor: num(0.05, 0.99),
  raiseMomentumWindows: int(0, 100),
  profileBinsPerOctave: int(1, 16),
  profileMaxBins: int(2, 256),
  profileMinInFlight: num(0, 1000),
  serviceTimeFloorMs: num(0.001, 60_000),
  profileSmoothing: num(0.01, 1),
  fitMinInFlightRatio: num(1.01, 1000),
  fitMinInFlightSpan: num(0, 1_000_000),
  resourceGuessMinUtil: num(0, 1),
  segmentMinFraction: num(0.05, 0.5),
  cpuSaturationMinSampleFraction: num(0, 1),
  overObjectiveForgetFactor: num(1, 1_000_000),
  softCutStartingFraction: num(0, 1000),
  forecastPeriodMs: int(60_000, 31_622_400_000),
  forecastBuckets: int(2, 10_080),
  forecastSmoothing: num(0.01, 1),
  forecastMissFraction: num(0, 1),
  forecastLeadMs: int(0, 3_600_000),
};

/** Pairs where the first field must not exceed the second (the hysteresis band, window nesting). */
const ordered: readonly (readonly [keyof EngineConfig, keyof EngineConfig])[] = [
  ["scaleUpFastWindowMs", "scaleUpWindowMs"],
  ["minStaffingBeta", "maxStaffingBeta"],
  ["scaleUpWindowMs", "scaleDownWindowMs"],
  ["horizontalIntervalMs", "verticalIntervalMs"],
  ["inflationRaise", "inflationCut"],
  ["sloRaiseFraction", "sloCutFraction"],
  ["errorRaiseFraction", "errorCutFraction"],
  ["memoryRaiseUtil", "memoryCutUtil"],
  ["gpuMemoryRaiseUtil", "gpuMemoryCutUtil"],
  ["kvCacheRaiseUtil", "kvCacheCutUtil"],
  ["runtimeQueueRaise", "runtimeQueueCut"],
];

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

function checkRule(prefix: string, field: string, value: unknown, rule: Rule): void {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (rule.kind === "number" || Number.isInteger(value)) &&
    value >= rule.min &&
    value <= rule.max;
  if (!ok) {
    const what = rule.kind === "int" ? "an integer" : "a number";
    throw new Error(
      `${prefix}: ${field} = ${show(value)} is not allowed; expected ${what} in [${rule.min}, ${rule.max}]`,
    );
  }
}

/**
 * Merge `partial` over the defaults and validate every field. Returns a frozen config, or throws an
 * Error naming the first bad field, its value and the allowed range. Unknown fields are rejected too.
 */
export function validateEngineConfig(partial: Partial<EngineConfig> = {}): EngineConfig {
  if (typeof partial !== "object" || partial === null || Array.isArray(partial)) {
    throw new Error(`engine config: ${show(partial)} is not allowed; expected an object`);
  }
  for (const key of Object.keys(partial)) {
    if (!(key in rules)) {
      throw new Error(
        `engine config: ${key} is not a known field; expected one of ${Object.keys(rules).join(", ")}`,
      );
    }
  }
  const merged = { ...defaultEngineConfig, ...partial } as EngineConfig;
  for (const key of Object.keys(rules) as (keyof EngineConfig)[]) {
    checkRule("engine config", key, merged[key], rules[key]);
  }
  for (const [low, high] of ordered) {
    if (merged[low] > merged[high]) {
      throw new Error(
        `engine config: ${low} = ${merged[low]} is not allowed; expected at most ${high} (${merged[high]})`,
      );
    }
  }
  return Object.freeze(merged);
}

const runtimes: readonly RuntimeKind[] = ["mlflow", "vllm", "triton", "custom"];

/** Upper bound on any replica or concurrency figure in a spec (sanity, not policy). */
export const specLimit = 1_000_000;

/**
 * Validate an endpoint spec (the part the engine reads). Returns the spec unchanged, or throws an
 * Error naming the field, its value and what is allowed, e.g.
 * `endpoint spec: concurrency.min = 0 is not allowed; expected an integer in [1, 1000000]`.
 */
export function validateEndpointSpec(spec: EndpointSpec): EndpointSpec {
  const p = "endpoint spec";
  if (typeof spec !== "object" || spec === null) {
    throw new Error(`${p}: ${show(spec)} is not allowed; expected an object`);
  }
  const c = spec.concurrency ?? ({} as EndpointSpec["concurrency"]);
  const r = spec.replicas ?? ({} as EndpointSpec["replicas"]);
  checkRule(p, "concurrency.min", c.min, int(1, specLimit));
  checkRule(p, "concurrency.max", c.max, int(c.min, specLimit));
  if (typeof spec.scaleToZero !== "boolean") {
    throw new Error(`${p}: scaleToZero = ${show(spec.scaleToZero)} is not allowed; expected true or false`);
  }
  checkRule(p, "replicas.min", r.min, int(spec.scaleToZero ? 0 : 1, specLimit));
  checkRule(p, "replicas.max", r.max, int(Math.max(1, r.min), specLimit));
  checkRule(p, "provisionedConcurrency", spec.provisionedConcurrency, int(0, c.max * r.max));
  if (spec.scaleToZero && spec.provisionedConcurrency > 0) {
    throw new Error(
      `${p}: provisionedConcurrency = ${spec.provisionedConcurrency} is not allowed with scaleToZero = true; expected 0`,
    );
  }
  if (!runtimes.includes(spec.runtime)) {
    throw new Error(`${p}: runtime = ${show(spec.runtime)} is not allowed; expected one of ${runtimes.join(", ")}`);
  }
  if (spec.sloP99Ms !== undefined) checkRule(p, "sloP99Ms", spec.sloP99Ms, num(0.001, 86_400_000));
  if (spec.initialTargetConcurrency !== undefined) {
    checkRule(p, "initialTargetConcurrency", spec.initialTargetConcurrency, int(c.min, c.max));
  }
  return spec;
}
