/**
 * Validates endpoint declarations and plans their runtimes, before any resource is created (nothing is
 * half-applied). Every error names the endpoint, the field, the value and what is allowed.
 */
import { PAYLOAD_LOG_PREFIX } from "./model-cache/access-policy.ts";
import {
  type ResolvedEndpoint,
  MODEL_DTYPES,
  MODEL_FLAVORS,
  RUNTIME_CHOICES,
} from "./endpoint-types.ts";
import { unknownDeclarationKeys } from "./declaration-keys.ts";
import { type RuntimePlan, selectRuntime } from "./runtime/select-runtime.ts";
import { DeclarationError, type FieldError, type PoolPlacement } from "./types.ts";

/** An endpoint with its runtime plan and the pool it runs on. */
export interface PlannedEndpoint {
  readonly decl: ResolvedEndpoint;
  readonly plan: RuntimePlan;
  readonly pool: PoolPlacement;
}

const NAME_RE = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const VERSION_RE = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
/** `repo:tag`, `repo@sha256:…` or both; refuses `:latest` and untagged references. */
const PINNED_IMAGE_RE = /^[a-z0-9][a-z0-9./_-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

/** Structural checks of one declaration (no pool or runtime logic). */
export function checkDeclaration(d: ResolvedEndpoint, poolNames: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof d.name === "string" ? d.name : String(d.name);
  const add = (field: string, value: unknown, allowed: string, reason?: string) =>
    errs.push({ subject: name, field, value, allowed, ...(reason !== undefined ? { reason } : {}) });
  const int = (field: string, v: unknown, lo: number, hi: number) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) add(field, v, `an integer from ${lo} to ${hi}`);
  };

  errs.push(...unknownDeclarationKeys(d, name));
  if (!NAME_RE.test(name)) add("name", d.name, "a DNS label: lowercase letters, digits and '-', starting with a letter, at most 40 characters");
  // Models live under `<name>/` of the bucket the gateway writes payload logs to under `payload-logs/`.
  if (name === PAYLOAD_LOG_PREFIX.replace(/\/$/, "")) add("name", d.name, `a name other than "${name}" (the bucket prefix of the payload logs)`);
  if (!MODEL_FLAVORS.includes(d.model?.flavor)) add("model.flavor", d.model?.flavor, MODEL_FLAVORS.join(", "));
  if (d.model?.dtype !== undefined && !MODEL_DTYPES.includes(d.model.dtype)) add("model.dtype", d.model.dtype, MODEL_DTYPES.join(", "));
  if (d.model?.parameterCount !== undefined) int("model.parameterCount", d.model.parameterCount, 1, 1e13);
  if (d.model?.parameterCount !== undefined && d.model.dtype === undefined) add("model.dtype", undefined, `one of ${MODEL_DTYPES.join(", ")} (required with model.parameterCount)`);
  if (d.model?.bytes !== undefined) int("model.bytes", d.model.bytes, 1, 1e13);
  const kind = d.runtime?.kind ?? "auto";
  if (!RUNTIME_CHOICES.includes(kind)) add("runtime.kind", kind, RUNTIME_CHOICES.join(", "));
  if (d.runtime?.image !== undefined && (!PINNED_IMAGE_RE.test(d.runtime.image) || !/[:@]/.test(d.runtime.image.split("/").pop() ?? "") || /:latest(@|$)/.test(d.runtime.image))) {
    add("runtime.image", d.runtime.image, "an image reference pinned by version tag or sha256 digest (not ':latest', not untagged)");
  }
  if (!poolNames.includes(d.computePool)) add("computePool", d.computePool, poolNames.join(", "), "this stack creates no such pool");

  int("concurrency.min", d.concurrency?.min, 1, 10_000);
  int("concurrency.max", d.concurrency?.max, 1, 10_000);
  if (d.concurrency?.min > d.concurrency?.max) add("concurrency", d.concurrency, "min ≤ max");
  int("replicas.min", d.replicas?.min, 0, 1_000);
  int("replicas.max", d.replicas?.max, 1, 1_000);
  if (d.replicas?.min > d.replicas?.max) add("replicas", d.replicas, "min ≤ max");
  if (d.replicas?.min === 0 && d.scaleToZero !== true) add("replicas.min", 0, "≥ 1, or 0 together with scaleToZero: true");
  if (d.provisionedConcurrency !== undefined) {
    const cap = (d.concurrency?.max ?? 0) * (d.replicas?.max ?? 0);
    int("provisionedConcurrency", d.provisionedConcurrency, 0, cap);
  }
  if (d.sloP99Ms !== undefined) int("sloP99Ms", d.sloP99Ms, 1, 3_600_000);
  if (d.payloadLogging !== undefined) {
    const p = d.payloadLogging as Record<string, unknown>;
    for (const k of Object.keys(p)) if (!["sampleRate", "maxBodyBytes", "redactFields"].includes(k)) add(`payloadLogging.${k}`, p[k], "no such field (allowed: sampleRate, maxBodyBytes, redactFields)");
    if (typeof p["sampleRate"] !== "number" || !(p["sampleRate"] > 0 && p["sampleRate"] <= 1)) add("payloadLogging.sampleRate", p["sampleRate"], "a number in (0, 1]");
    if (p["maxBodyBytes"] !== undefined) int("payloadLogging.maxBodyBytes", p["maxBodyBytes"] as number, 1, 12_000);
    const f = p["redactFields"];
    if (f !== undefined && (!Array.isArray(f) || f.length > 64 || f.some((x) => typeof x !== "string" || x.length === 0 || x.length > 128))) {
      add("payloadLogging.redactFields", f, "at most 64 JSON key names of 1..128 characters");
    }
  }
  if (kind !== "custom" && (d.port !== undefined || d.metricsPort !== undefined)) {
    add(d.port !== undefined ? "port" : "metricsPort", d.port ?? d.metricsPort, "unset unless runtime.kind is \"custom\" (other runtimes serve on their own ports)");
  }
  if (d.resources !== undefined) {
    if (typeof d.resources.cpu !== "number" || !(d.resources.cpu >= 0.1 && d.resources.cpu <= 256)) add("resources.cpu", d.resources.cpu, "a number of cores from 0.1 to 256");
    if (typeof d.resources.memoryGiB !== "number" || !(d.resources.memoryGiB >= 0.125 && d.resources.memoryGiB <= 4096)) add("resources.memoryGiB", d.resources.memoryGiB, "GiB from 0.125 to 4096");
  }
  if (d.port !== undefined) int("port", d.port, 1024, 65_535);
  if (d.metricsPort !== undefined) int("metricsPort", d.metricsPort, 1024, 65_535);
  if (d.gpus !== undefined) int("gpus", d.gpus, 0, 16);

  const versions = Array.isArray(d.versions) ? d.versions : [];
  if (versions.length === 0 || versions.length > 4) add("versions", d.versions, "1 to 4 model versions");
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (!VERSION_RE.test(v.version)) add(`versions[${i}].version`, v.version, "lowercase letters, digits and '-', at most 15 characters");
    if (seen.has(v.version)) add(`versions[${i}].version`, v.version, "a version label not used twice");
    seen.add(v.version);
    if (!DIGEST_RE.test(v.digest)) add(`versions[${i}].digest`, v.digest, "sha256:<64 lowercase hex> (the version manifest's digest)");
    int(`versions[${i}].weight`, v.weight, 0, 100);
  });
  const total = versions.reduce((s, v) => s + (typeof v.weight === "number" ? v.weight : 0), 0);
  if (versions.length > 0 && total !== 100) add("versions[].weight", versions.map((v) => v.weight), "weights that sum to 100", `they sum to ${total}`);
  return errs;
}

/**
 * Validates all declarations and selects their runtimes. Throws one DeclarationError listing every problem.
 * @param digestOverrides image digests by role (stack config `imageDigests`).
 */
export function planEndpoints(
  decls: readonly ResolvedEndpoint[],
  pools: readonly PoolPlacement[],
  digestOverrides: Readonly<Record<string, string>> = {},
): PlannedEndpoint[] {
  const poolNames = pools.map((p) => p.poolName);
  const errors: FieldError[] = [];
  const names = new Set<string>();
  const planned: PlannedEndpoint[] = [];
  for (const d of decls) {
    if (names.has(d.name)) errors.push({ subject: d.name, field: "name", value: d.name, allowed: "a name not used by another endpoint" });
    names.add(d.name);
    const structural = checkDeclaration(d, poolNames);
    if (structural.length > 0) {
      errors.push(...structural);
      continue;
    }
    const pool = pools.find((p) => p.poolName === d.computePool);
    const sel = selectRuntime(d, pool, digestOverrides);
    if (!sel.ok) errors.push(...sel.errors);
    else if (pool !== undefined) planned.push({ decl: d, plan: sel.plan, pool });
  }
  if (errors.length > 0) throw new DeclarationError("endpoint", errors);
  return planned;
}
