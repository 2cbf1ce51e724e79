/**
 * Tolerant readers for resource properties. Properties arrive as untyped JSON (and, at runtime,
 * behind `unknownCheckingProxy`), so every access goes through these: a wrong shape reads as
 * "absent" instead of crashing the policy. Unknown values still throw from the proxy, on purpose:
 * the runtime turns that into an advisory "can't run during preview", never into a pass.
 */

export type Json = Record<string, unknown>;

/** The value as a plain object, or undefined. */
export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

/** The value as an array, or an empty array. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The value as a string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The value as a finite number (numeric strings accepted), or undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** Follows a dotted path of object keys. */
export function at(v: unknown, ...path: string[]): unknown {
  let cur: unknown = v;
  for (const key of path) {
    const o = obj(cur);
    if (o === undefined) return undefined;
    cur = o[key];
  }
  return cur;
}

/** A string map (labels, annotations, nodeSelector); non-string values are dropped. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const o = obj(v);
  if (o === undefined) return out;
  for (const key of Object.keys(o)) {
    const value = o[key];
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/** True when every pair of `selector` is present in `labels` (an empty selector matches everything). */
export function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** `metadata.name` / `metadata.namespace` of a Kubernetes object's props. */
export function k8sName(props: Json): string | undefined {
  return str(at(props, "metadata", "name"));
}

export function k8sNamespace(props: Json): string {
  return str(at(props, "metadata", "namespace")) ?? "default";
}

/** Shell-style glob (`*` any run of characters) matched against the whole string. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp("^" + pattern.split("*").map(escapeRegExp).join(".*") + "$");
  return re.test(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
