/**
 * The Pulumi CLI's own config rules, applied to `Pulumi.yaml` and a `Pulumi.<stack>.yaml` before the program runs
 * (what `pulumi preview` / `pulumi up` do first), and the config map the CLI then hands the program.
 *
 * A faithful re-implementation (the CLI is a Go binary that cannot run in this repository's tests), read from
 * pulumi/pulumi at commit 1b59498 (2026-08-21):
 * - `sdk/go/common/workspace/project.go` `Project.Validate`: an `array` needs `items`; a default must have the
 *   declared type; `default` and `value` exclude each other.
 * - `pkg/workspace/config.go` `mergeConfig`: a key without a stack value, `value` or `default` is missing; the
 *   default (or value) of an absent key is written into the stack config as a plain (never secure) value —
 *   primitives as their text, anything else as an object value (JSON).
 * - `validateStackConfigValue`: a `secret: true` key must hold a secure value — so a secret key with a default
 *   fails for every stack that does not set it; an object value is JSON-decoded, a plain value stays a string.
 * - `ValidateConfigValue`: string = a string; integer = an int, a whole float or a string `Atoi` accepts;
 *   boolean = a bool or the strings "true"/"false"; object = a map; array = a list (never a JSON string) whose
 *   items validate.
 * - `config.Value` YAML decoding: scalars are plain strings, `{secure: …}` is a secure value, lists and maps are
 *   object values (secure when they contain a secure leaf).
 * The CLI then passes every value to the program as a string (objects as compact JSON) in `PULUMI_CONFIG`, and the
 * secure keys' names in `PULUMI_CONFIG_SECRET_KEYS`.
 */
import YAML from "yaml";

/** One `config:` entry of Pulumi.yaml. */
export interface ProjectConfigType {
  readonly type?: string;
  readonly items?: ProjectConfigItems;
  readonly default?: unknown;
  readonly value?: unknown;
  readonly secret?: boolean;
  readonly description?: string;
}

export interface ProjectConfigItems {
  readonly type: string;
  readonly items?: ProjectConfigItems;
}

/** The parts of Pulumi.yaml the config rules read. */
export interface ProjectFile {
  readonly name: string;
  readonly config: Readonly<Record<string, ProjectConfigType>>;
}

/** A stack config value as the CLI holds it. */
export type StackValue =
  | { readonly kind: "plain"; readonly text: string }
  | { readonly kind: "secure"; readonly ciphertext: string }
  | { readonly kind: "object"; readonly json: string; readonly secure: boolean };

/** The config the program receives: strings by `namespace:key`, plus which of them are secure. */
export interface ProgramConfig {
  readonly values: Record<string, string>;
  readonly secretKeys: string[];
}

/** Thrown with the CLI's own message when a rule fails. */
export class PulumiConfigError extends Error {
  override readonly name = "PulumiConfigError";
}

/** Parses Pulumi.yaml's `name` and `config` (a string entry is the short form of `{ value }` or `{ default }`). */
export function parseProjectFile(text: string): ProjectFile {
  const doc = YAML.parse(text) as { name?: unknown; config?: Record<string, unknown> } | null;
  const config: Record<string, ProjectConfigType> = {};
  for (const [k, v] of Object.entries(doc?.config ?? {})) {
    config[k] = v !== null && typeof v === "object" && !Array.isArray(v) ? (v as ProjectConfigType) : { value: v };
  }
  return { name: String(doc?.name ?? ""), config };
}

/** Parses a stack file's `config:` section into CLI values. */
export function parseStackFile(text: string): Record<string, StackValue> {
  const doc = YAML.parse(text) as { config?: Record<string, unknown> } | null;
  const out: Record<string, StackValue> = {};
  for (const [k, v] of Object.entries(doc?.config ?? {})) out[k] = stackValueOf(v);
  return out;
}

function isSecureLeaf(v: unknown): v is { secure: string } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
}

function containsSecure(v: unknown): boolean {
  if (isSecureLeaf(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecure);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsSecure);
  return false;
}

function stackValueOf(v: unknown): StackValue {
  if (isSecureLeaf(v)) return { kind: "secure", ciphertext: v.secure };
  if (v !== null && typeof v === "object") return { kind: "object", json: JSON.stringify(v), secure: containsSecure(v) };
  return { kind: "plain", text: v === null || v === undefined ? "" : String(v) };
}

const TYPES = ["string", "integer", "boolean", "array", "object"];

/** `Project.Validate` for the project's own (un-namespaced or project-namespaced) keys. */
export function validateProject(project: ProjectFile): void {
  for (const [key, t] of Object.entries(project.config)) {
    if (t.default !== undefined && t.value !== undefined) throw new PulumiConfigError(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    const namespacedByProject = !key.includes(":") || key.startsWith(`${project.name}:`);
    if (!namespacedByProject) {
      if (t.type !== undefined) throw new PulumiConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
      if (t.default !== undefined) throw new PulumiConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`);
      if (t.value === undefined) throw new PulumiConfigError(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
      continue;
    }
    if (t.type !== undefined && !TYPES.includes(t.type)) throw new PulumiConfigError(`project config '${key}' has unknown type '${t.type}'`);
    if (t.type === "array" && t.items === undefined) {
      throw new PulumiConfigError(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
    }
    if (t.type !== undefined && t.default !== undefined && !validateConfigValue(t.type, t.items, t.default)) {
      throw new PulumiConfigError(`The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(t.type, t.items)}'`);
    }
  }
}

/** `InferFullTypeName`. */
export function fullTypeName(type: string, items: ProjectConfigItems | undefined): string {
  return items !== undefined ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** `ValidateConfigValue`. */
export function validateConfigValue(type: string, items: ProjectConfigItems | undefined, value: unknown): boolean {
  if (type === "string") return typeof value === "string";
  if (type === "integer") {
    if (typeof value === "number") return Number.isInteger(value);
    // strconv.Atoi: optional sign, decimal digits, within int64.
    return typeof value === "string" && /^[+-]?\d+$/.test(value) && Math.abs(Number(value)) <= 9_223_372_036_854_775_807;
  }
  if (type === "boolean") return typeof value === "boolean" || value === "true" || value === "false";
  if (type === "object") return value !== null && typeof value === "object" && !Array.isArray(value);
  if (!Array.isArray(value) || items === undefined) return false;
  return value.every((item) => validateConfigValue(items.type, items.items, item));
}

function qualify(project: ProjectFile, key: string): string {
  return key.includes(":") ? key : `${project.name}:${key}`;
}

function primitiveText(v: unknown): StackValue {
  if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isInteger(v))) return { kind: "plain", text: String(v) };
  return { kind: "object", json: JSON.stringify(v), secure: false };
}

/**
 * `ValidateStackConfigAndApplyProjectConfig`: validates `stack` against `project` as the CLI does before a
 * preview or update and returns the config the program receives. `decrypt` turns a secure value's ciphertext into
 * its plain text (the passphrase provider's job; tests pass their own); when it is absent, secure values stay
 * encrypted and only their presence is checked.
 */
export function applyProjectConfig(
  stackName: string,
  project: ProjectFile,
  stack: Readonly<Record<string, StackValue>>,
  decrypt?: (ciphertext: string) => string,
): ProgramConfig {
  validateProject(project);
  const merged: Record<string, StackValue> = { ...stack };
  const missing: string[] = [];
  for (const key of Object.keys(project.config).sort()) {
    const t = project.config[key]!;
    const full = qualify(project, key);
    if (merged[full] !== undefined) continue;
    const fallback = t.default ?? t.value;
    if (fallback === undefined) {
      if (full.startsWith(`${project.name}:`)) missing.push(key);
      continue;
    }
    merged[full] = primitiveText(fallback);
  }
  if (missing.length > 0) {
    const list = missing.length === 1 ? `'${missing[0]}'` : missing.sort().map((k, i) => (i === missing.length - 1 ? `and '${k}'` : i === missing.length - 2 ? `'${k}' ` : `'${k}', `)).join("");
    throw new PulumiConfigError(`Stack '${stackName}' is missing configuration ${missing.length === 1 ? "value" : "values"} ${list}`);
  }
  for (const key of Object.keys(project.config).sort()) {
    const t = project.config[key]!;
    if (t.type === undefined) continue;
    const v = merged[qualify(project, key)]!;
    const secure = v.kind === "secure" || (v.kind === "object" && v.secure);
    if (t.secret === true && !secure) throw new PulumiConfigError(`Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`);
    if (v.kind === "secure" && decrypt === undefined) continue;
    const text = v.kind === "plain" ? v.text : v.kind === "secure" ? decrypt!(v.ciphertext) : v.json;
    const content: unknown = v.kind === "object" ? JSON.parse(text) : text;
    if (!validateConfigValue(t.type, t.items, content)) {
      throw new PulumiConfigError(`Stack '${stackName}' with configuration key '${key}' must be of type '${fullTypeName(t.type, t.items)}'`);
    }
  }
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (v.kind === "secure") {
      secretKeys.push(k);
      if (decrypt !== undefined) values[k] = decrypt(v.ciphertext);
      continue;
    }
    if (v.kind === "object" && v.secure) {
      secretKeys.push(k);
      if (decrypt === undefined) continue;
      values[k] = JSON.stringify(decryptLeaves(JSON.parse(v.json), decrypt));
      continue;
    }
    values[k] = v.kind === "plain" ? v.text : v.json;
  }
  return { values, secretKeys };
}

function decryptLeaves(v: unknown, decrypt: (c: string) => string): unknown {
  if (isSecureLeaf(v)) return decrypt(v.secure);
  if (Array.isArray(v)) return v.map((x) => decryptLeaves(x, decrypt));
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decryptLeaves(x, decrypt)]));
  return v;
}
