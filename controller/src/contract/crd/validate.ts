/**
 * Validates a ServingEndpoint object the way the API server does: the OpenAPI v3 schema (with ajv; defaults
 * applied, unknown fields rejected as `kubectl --validate=strict` does), list-map key uniqueness, then the CEL
 * rules (executed with `@bufbuild/cel`). Messages are the API server's (`field: Invalid value: …: … in body
 * should …`); test/cluster/crd.test.ts sends the same objects to a real kube-apiserver and checks that both give
 * the same verdict, name the same fields and word every CEL message identically. As in the API server, CEL rules
 * are skipped when a "blocking" schema error (wrong type, unsupported value, required, too long, too many) means
 * they would see ill-typed input.
 */
import AjvModule, { type ErrorObject } from "ajv";
import { evaluateCelRules } from "./cel-rules.ts";
import { servingEndpointSchema } from "./crd.ts";
import type { OpenApiSchema } from "./openapi-types.ts";
import { SERVING_API_VERSION, SERVING_KIND, type ServingEndpoint } from "./types.ts";

/** One problem with an object. */
export interface ValidationError {
  /** Field path, e.g. `spec.replicas.min` or `spec.trafficSplit[1].weight`. */
  readonly field: string;
  /** Full message, starting with the field path. */
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly value: ServingEndpoint }
  | { readonly ok: false; readonly errors: readonly ValidationError[] };

const Ajv = AjvModule.default;

// Drops the x-kubernetes-* annotations and closes every object with known properties, so ajv reports unknown
// fields like the API server's strict field validation does.
function toAjvSchema(schema: OpenApiSchema, isMetadata = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "properties" || key === "items") continue;
    out[key] = value;
  }
  if (schema.properties !== undefined) {
    const props: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(schema.properties)) props[key] = toAjvSchema(child, key === "metadata");
    out["properties"] = props;
    out["additionalProperties"] = false;
  }
  if (isMetadata) out["additionalProperties"] = true;
  if (schema.items !== undefined) out["items"] = toAjvSchema(schema.items);
  return out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat("date-time", (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)));
const validateOpenApi = ajv.compile(toAjvSchema(servingEndpointSchema));

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function fieldOf(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === "" ? part : `${acc}.${part}`), "");
}

function valueAt(root: unknown, instancePath: string): unknown {
  let cur: unknown = root;
  for (const part of instancePath.split("/").slice(1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part.replaceAll("~1", "/").replaceAll("~0", "~")];
  }
  return cur;
}

/** JSON type of a value as the API server names it in type errors. */
function jsonTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Schema errors after which the API server does not run CEL rules (apiextensions-apiserver's hasBlockingErr). */
const BLOCKING_KEYWORDS = new Set(["required", "enum", "maxLength", "maxItems", "type", "additionalProperties"]);

function describeAjvError(err: ErrorObject, root: unknown): ValidationError {
  const field = fieldOf(err.instancePath);
  const raw = valueAt(root, err.instancePath);
  const value = JSON.stringify(raw);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "required": {
      const f = field === "" ? String(p["missingProperty"]) : `${field}.${String(p["missingProperty"])}`;
      return { field: f, message: `${f}: Required value` };
    }
    case "additionalProperties": {
      const f = field === "" ? String(p["additionalProperty"]) : `${field}.${String(p["additionalProperty"])}`;
      return { field: f, message: `${f}: unknown field "${f}"` };
    }
    case "enum": {
      const allowed = (p["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ");
      return { field, message: `${field}: Unsupported value: ${value}: supported values: ${allowed}` };
    }
    case "type":
      return { field, message: `${field}: Invalid value: "${jsonTypeOf(raw)}": ${field} in body must be of type ${String(p["type"])}: "${jsonTypeOf(raw)}"` };
    case "minimum":
      return { field, message: `${field}: Invalid value: ${value}: ${field} in body should be greater than or equal to ${String(p["limit"])}` };
    case "maximum":
      return { field, message: `${field}: Invalid value: ${value}: ${field} in body should be less than or equal to ${String(p["limit"])}` };
    case "pattern":
      return { field, message: `${field}: Invalid value: ${value}: ${field} in body should match '${String(p["pattern"])}'` };
    case "minLength":
      return { field, message: `${field}: Invalid value: ${value}: ${field} in body should be at least ${String(p["limit"])} chars long` };
    case "maxLength":
      return { field, message: `${field}: Too long: may not be more than ${String(p["limit"])} bytes` };
    case "minItems":
      return { field, message: `${field}: Invalid value: ${Array.isArray(raw) ? raw.length : value}: ${field} in body should have at least ${String(p["limit"])} items` };
    case "maxItems":
      return { field, message: `${field}: Too many: ${Array.isArray(raw) ? raw.length : value}: must have at most ${String(p["limit"])} items` };
    case "format":
      return { field, message: `${field}: Invalid value: ${value}: ${field} in body must be of type ${String(p["format"])}: ${value}` };
    default:
      return { field, message: `${field}: Invalid value: ${value}: ${err.message ?? err.keyword}` };
  }
}

/** How the API server words a CEL rule's `reason` before its message. */
const CEL_REASON_TEXT: Readonly<Record<string, string>> = {
  FieldValueInvalid: "Invalid value",
  FieldValueRequired: "Required value",
  FieldValueForbidden: "Forbidden",
  FieldValueDuplicate: "Duplicate value",
};

/** `x-kubernetes-list-type: map` lists: a second item with the same keys is a `Duplicate value`. */
function listMapDuplicates(value: unknown, schema: OpenApiSchema, path: string): ValidationError[] {
  const out: ValidationError[] = [];
  if (value === null || typeof value !== "object") return out;
  if (Array.isArray(value)) {
    const keys = schema["x-kubernetes-list-map-keys"];
    if (schema["x-kubernetes-list-type"] === "map" && keys !== undefined) {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        if (item === null || typeof item !== "object") return;
        const key = Object.fromEntries(keys.map((k) => [k, (item as Record<string, unknown>)[k]]));
        const id = JSON.stringify(key);
        if (seen.has(id)) out.push({ field: `${path}[${i}]`, message: `${path}[${i}]: Duplicate value: ${id}` });
        seen.add(id);
      });
    }
    if (schema.items !== undefined) value.forEach((item, i) => out.push(...listMapDuplicates(item, schema.items!, `${path}[${i}]`)));
    return out;
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    out.push(...listMapDuplicates((value as Record<string, unknown>)[key], child, path === "" ? key : `${path}.${key}`));
  }
  return out;
}

/**
 * Validates `obj` as a ServingEndpoint. On success returns the object with schema defaults applied (a copy;
 * `obj` is not changed).
 */
export function validateServingEndpoint(obj: unknown): ValidationResult {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return { ok: false, errors: [{ field: "", message: `Invalid value: ${JSON.stringify(obj)}: a ServingEndpoint must be an object` }] };
  }
  const copy = structuredClone(obj) as Record<string, unknown>;
  const errors: ValidationError[] = [];
  if (copy["apiVersion"] !== SERVING_API_VERSION) {
    errors.push({
      field: "apiVersion",
      message: `apiVersion: Unsupported value: ${JSON.stringify(copy["apiVersion"])}: supported values: "${SERVING_API_VERSION}"`,
    });
  }
  if (copy["kind"] !== SERVING_KIND) {
    errors.push({ field: "kind", message: `kind: Unsupported value: ${JSON.stringify(copy["kind"])}: supported values: "${SERVING_KIND}"` });
  }
  const name = (copy["metadata"] as Record<string, unknown> | undefined)?.["name"];
  if (typeof name !== "string" || name === "") {
    errors.push({ field: "metadata.name", message: "metadata.name: Required value" });
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    errors.push({
      field: "metadata.name",
      message: `metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
    });
  }
  let blocked = errors.length > 0;
  if (!validateOpenApi(copy)) {
    for (const err of validateOpenApi.errors ?? []) {
      errors.push(describeAjvError(err, copy));
      if (BLOCKING_KEYWORDS.has(err.keyword)) blocked = true;
    }
  }
  errors.push(...listMapDuplicates(copy, servingEndpointSchema, ""));
  if (!blocked) {
    for (const v of evaluateCelRules(copy, servingEndpointSchema, "")) {
      const field = v.field.replace(/^\./, "");
      errors.push({ field, message: `${field}: ${CEL_REASON_TEXT[v.reason] ?? "Invalid value"}: ${v.message}` });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: copy as unknown as ServingEndpoint };
}

/** Like `validateServingEndpoint`, but throws one Error listing every problem. */
export function assertValidServingEndpoint(obj: unknown): ServingEndpoint {
  const result = validateServingEndpoint(obj);
  if (result.ok) return result.value;
  throw new Error(`invalid ServingEndpoint: ${result.errors.map((e) => e.message).join("; ")}`);
}
