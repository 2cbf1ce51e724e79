/**
 * Scenario loading: JSON parse → JSON Schema validation (ajv) → semantic checks → defaults.
 * Every error names the field, the value and what is allowed; nothing is half-loaded.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { validateEngineConfig } from "../engine/config.ts";
import { POD_SIGNAL_KEYS, type ModelSpec, type Scenario, type TrafficSegment } from "./scenario-types.ts";

const schemaPath = new URL("./scenario.schema.json", import.meta.url);
/** The scenario JSON Schema (draft-07), as shipped in `controller/src/sim/scenario.schema.json`. */
export const scenarioSchema: Record<string, unknown> = JSON.parse(readFileSync(schemaPath, "utf8"));

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateSchema = ajv.compile(scenarioSchema);

/** Thrown for any invalid scenario; `errors` holds one line per problem. */
export class ScenarioError extends Error {
  readonly errors: readonly string[];
  constructor(source: string, errors: readonly string[]) {
    super(`invalid scenario ${source}:\n  - ${errors.join("\n  - ")}`);
    this.name = "ScenarioError";
    this.errors = errors;
  }
}

const SHAPES = ["qps", "rampToQps", "sine", "bursty", "trace"] as const;

/** Read, validate and default a scenario file. Trace paths resolve against the file's folder. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ScenarioError(file, [`cannot read file: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  return parseScenario(raw, dirname(resolve(file)), file);
}

/** Validate and default an already-parsed scenario object. */
export function parseScenario(raw: unknown, baseDir: string, source = "<inline>"): Scenario {
  if (!validateSchema(raw)) {
    throw new ScenarioError(source, formatAjvErrors(validateSchema.errors ?? [], raw));
  }
  const r = raw as Record<string, any>;
  const errors = semanticErrors(r);
  if (errors.length > 0) throw new ScenarioError(source, errors);
  return withDefaults(r, baseDir);
}

function semanticErrors(r: Record<string, any>): string[] {
  const errors: string[] = [];
  const traffic = r.traffic as Record<string, unknown>[];
  let prev = 0;
  traffic.forEach((seg, i) => {
    const shapes = SHAPES.filter((k) => seg[k] !== undefined);
    if (shapes.length !== 1) {
      errors.push(
        `traffic[${i}]: needs exactly one of ${SHAPES.join(", ")}; got ${shapes.length === 0 ? "none" : shapes.join(", ")}`,
      );
    }
    const untilS = seg.untilS as number;
    if (untilS <= prev) errors.push(`traffic[${i}].untilS: must be greater than the previous segment's end (${prev}), got ${untilS}`);
    prev = Math.max(prev, untilS);
    if (seg.fromQps !== undefined && seg.rampToQps === undefined) {
      errors.push(`traffic[${i}].fromQps: only allowed with rampToQps`);
    }
    if (seg.noise !== undefined && seg.trace !== undefined) errors.push(`traffic[${i}].noise: not allowed with trace`);
    if (seg.arrivals !== undefined && seg.trace !== undefined) errors.push(`traffic[${i}].arrivals: not allowed with trace`);
  });
  for (const key of ["concurrency", "replicas"] as const) {
    const range = r.endpoint[key] as { min: number; max: number };
    if (range.min < 1) errors.push(`endpoint.${key}.min: must be >= 1 (scale to zero is not simulated), got ${range.min}`);
    if (range.min > range.max) errors.push(`endpoint.${key}: min (${range.min}) must be <= max (${range.max})`);
  }
  const itc = r.endpoint.initialTargetConcurrency as number | undefined;
  const c = r.endpoint.concurrency as { min: number; max: number };
  if (itc !== undefined && (itc < c.min || itc > c.max)) {
    errors.push(`endpoint.initialTargetConcurrency: must be within endpoint.concurrency [${c.min}, ${c.max}], got ${itc}`);
  }
  if (r.model.kind === "batching" && r.model.baseMs + r.model.perRequestMs <= 0) {
    errors.push(`model: baseMs + perRequestMs must be > 0`);
  }
  if (r.engine !== undefined) {
    try {
      validateEngineConfig(r.engine);
    } catch (e) {
      errors.push((e as Error).message.replace(/^engine config: /, "engine."));
    }
  }
  return errors;
}

function withDefaults(r: Record<string, any>, baseDir: string): Scenario {
  const m = r.model;
  let model: ModelSpec;
  const common = { jitter: m.jitter ?? 0, ...(m.cost ? { cost: m.cost } : {}), ...(m.memoryPerInFlight !== undefined ? { memoryPerInFlight: m.memoryPerInFlight } : {}) };
  if (m.kind === "cpu") {
    const parallelism = m.parallelism ?? 1;
    model = { kind: "cpu", serviceMs: m.serviceMs, parallelism, cpuRequestCores: m.cpuRequestCores ?? parallelism, ...common };
  } else if (m.kind === "batching") {
    model = { kind: "batching", baseMs: m.baseMs, perRequestMs: m.perRequestMs, maxInFlight: m.maxInFlight, cpuRequestCores: m.cpuRequestCores ?? 4, ...common };
  } else if (m.kind === "llm") {
    model = { kind: "llm", baseMs: m.baseMs, perRequestMs: m.perRequestMs, maxInFlight: m.maxInFlight, kvCapacity: m.kvCapacity ?? m.maxInFlight, preemptionOverhead: m.preemptionOverhead ?? 0.5, cpuRequestCores: m.cpuRequestCores ?? 4, ...common };
  } else {
    model = {
      kind: "io",
      latencyMs: m.latencyMs,
      maxInFlight: m.maxInFlight,
      cpuRequestCores: m.cpuRequestCores ?? 1,
      cpuPerRequestCores: m.cpuPerRequestCores ?? 0.004,
      ...common,
    };
  }
  const c = r.cluster;
  return {
    name: r.name,
    ...(r.description !== undefined ? { description: r.description } : {}),
    durationS: r.durationS,
    seed: r.seed ?? 1,
    traffic: r.traffic as TrafficSegment[],
    model,
    cluster: {
      podStartS: c.podStartS,
      warmPoolPods: c.warmPoolPods ?? 0,
      nodeStartS: c.nodeStartS ?? 90,
      imagePullS: c.imagePullS ?? 0,
      maxPods: c.maxPods,
      nodeIdleS: c.nodeIdleS ?? 600,
      terminationGraceS: c.terminationGraceS ?? 30,
      podStartSpread: c.podStartSpread ?? 0,
      podStartPerConcurrentS: c.podStartPerConcurrentS ?? 0,
      podStartFailureFraction: c.podStartFailureFraction ?? 0,
      podStartRetryS: c.podStartRetryS ?? 10,
      startSlowdownPerPod: c.startSlowdownPerPod ?? 0,
    },
    slo: { p99Ms: r.slo.p99Ms, queueTimeoutMs: r.slo.queueTimeoutMs ?? 1000 },
    gateway: { maxQueue: r.gateway?.maxQueue ?? 10000 },
    endpoint: {
      concurrency: r.endpoint.concurrency,
      replicas: r.endpoint.replicas,
      provisionedConcurrency: r.endpoint.provisionedConcurrency ?? 0,
      ...(r.endpoint.initialTargetConcurrency !== undefined ? { initialTargetConcurrency: r.endpoint.initialTargetConcurrency } : {}),
      ...(r.endpoint.initialReplicas !== undefined ? { initialReplicas: r.endpoint.initialReplicas } : {}),
    },
    baselines: r.baselines ?? {},
    signals: {
      mode: r.signals?.mode ?? "gateway",
      podMetricsIntervalS: r.signals?.podMetricsIntervalS ?? 15,
      overObjective: r.signals?.overObjective ?? (r.signals?.mode ?? "gateway") === "gateway",
      podSignals: r.signals?.podSignals ?? POD_SIGNAL_KEYS,
    },
    engine: r.engine ?? {},
    baseDir,
  };
}

/** `/traffic/1/qps` → `traffic[1].qps`. */
function fieldName(instancePath: string): string {
  if (instancePath === "") return "(root)";
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === "" ? p : `${acc}.${p}`), "");
}

function valueAt(raw: unknown, instancePath: string): unknown {
  let v: any = raw;
  for (const p of instancePath.split("/").slice(1)) v = v?.[p];
  return v;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function formatAjvErrors(errs: readonly ErrorObject[], raw: unknown): string[] {
  const out: string[] = [];
  for (const e of errs) {
    if (e.keyword === "if") continue; // the failing `then` branch reports the real problem
    const field = fieldName(e.instancePath);
    const value = valueAt(raw, e.instancePath);
    const p = e.params as Record<string, any>;
    let msg: string;
    switch (e.keyword) {
      case "required":
        msg = `${field}: missing required field "${p.missingProperty}"`;
        break;
      case "additionalProperties": {
        const allowed = Object.keys(propsOfSchema(e.parentSchema));
        msg = `${field}: unknown field "${p.additionalProperty}"${allowed.length ? `; allowed: ${allowed.join(", ")}` : ""}`;
        break;
      }
      case "propertyNames": {
        const kind = (value as Record<string, unknown> | undefined)?.kind;
        const allowed = ((e.schema as { enum?: string[] }).enum ?? []).join(", ");
        msg = `${field}: field "${p.propertyName}" is not allowed${kind ? ` for kind "${kind}"` : ""}; allowed: ${allowed}`;
        break;
      }
      case "enum":
        // propertyNames raises a nested enum error on the key itself; the propertyNames line covers it
        if (errs.some((x) => x.keyword === "propertyNames" && x.instancePath === e.instancePath)) continue;
        msg = `${field}: must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(", ")}, got ${show(value)}`;
        break;
      case "type":
        msg = `${field}: must be ${p.type}, got ${show(value)}`;
        break;
      case "minimum":
      case "maximum":
      case "exclusiveMinimum":
      case "exclusiveMaximum":
        msg = `${field}: must be ${p.comparison} ${p.limit}, got ${show(value)}`;
        break;
      case "minItems":
        msg = `${field}: must have at least ${p.limit} item(s)`;
        break;
      case "minLength":
        msg = `${field}: must not be empty`;
        break;
      default:
        msg = `${field}: ${e.message ?? "invalid"}, got ${show(value)}`;
    }
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

function propsOfSchema(s: unknown): Record<string, unknown> {
  return ((s as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}) as Record<string, unknown>;
}
