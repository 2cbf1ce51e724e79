/**
 * Executes the CRD's `x-kubernetes-validations` CEL rules with `@bufbuild/cel` (a maintained CEL evaluator), the
 * way the API server does: each rule sees `self` bound to the value at its schema node, integers as CEL `int`,
 * objects as maps (so `has(self.x)` tests presence), the CEL strings extension (`format`) and the Kubernetes
 * list library's `sum()` are available.
 */
import { celEnv, celMethod, CelScalar, isCelError, listType, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { CelRule, OpenApiSchema } from "./openapi-types.ts";

/** One failed rule, reported on a field path like `spec.replicas.min`. */
export interface RuleViolation {
  readonly field: string;
  readonly message: string;
  readonly reason: string;
  readonly rule: string;
}

// Kubernetes' CEL list library (k8s.io/apiserver/pkg/cel/library/lists.go) adds `sum()`; cel-es does not ship it.
const sumMethod = celMethod("sum", listType(CelScalar.INT), [], CelScalar.INT, function () {
  let total = 0n;
  for (const v of this) total += v as bigint;
  return total;
});
const env = celEnv({ funcs: [sumMethod, ...strings] });

type Program = (ctx: { self: unknown }) => unknown;
const programs = new Map<string, Program>();

function compile(expr: string): Program {
  let program = programs.get(expr);
  if (program === undefined) {
    const planned = plan(env, parse(expr));
    program = (ctx) => planned(ctx as never);
    programs.set(expr, program);
  }
  return program;
}

/** Converts a JSON value to CEL input following the schema: integers → int (bigint), objects → maps. */
export function toCelValue(value: unknown, schema: OpenApiSchema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => toCelValue(v, schema?.items));
  if (value !== null && typeof value === "object") {
    const map = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value)) map.set(k, toCelValue(v, schema?.properties?.[k]));
    return map;
  }
  if (typeof value === "number" && schema?.type === "integer" && Number.isInteger(value)) return BigInt(value);
  return value;
}

function evaluateRule(rule: CelRule, self: unknown, path: string): RuleViolation | undefined {
  const result = compile(rule.rule)({ self });
  if (result === true) return undefined;
  let message = rule.message;
  if (rule.messageExpression !== undefined) {
    const custom = compile(rule.messageExpression)({ self });
    if (typeof custom === "string" && custom !== "") message = custom;
  }
  if (isCelError(result)) message = `${message} (rule error: ${result.message})`;
  return {
    field: path + (rule.fieldPath ?? ""),
    message,
    reason: rule.reason ?? "FieldValueInvalid",
    rule: rule.rule,
  };
}

/**
 * Runs every CEL rule of `schema` and its children against `value` (already valid against the OpenAPI part,
 * with defaults applied). `path` is the field path of `value`, e.g. `spec`.
 */
export function evaluateCelRules(value: unknown, schema: OpenApiSchema, path: string): RuleViolation[] {
  const out: RuleViolation[] = [];
  walk(value, schema, path, out);
  return out;
}

function walk(value: unknown, schema: OpenApiSchema, path: string, out: RuleViolation[]): void {
  if (value === undefined || value === null) return;
  if (schema.properties !== undefined && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(schema.properties)) {
      walk((value as Record<string, unknown>)[key], child, `${path}.${key}`, out);
    }
  }
  if (schema.items !== undefined && Array.isArray(value)) {
    value.forEach((item, i) => walk(item, schema.items as OpenApiSchema, `${path}[${i}]`, out));
  }
  const rules = schema["x-kubernetes-validations"];
  if (rules === undefined) return;
  const self = toCelValue(value, schema);
  for (const rule of rules) {
    const violation = evaluateRule(rule, self, path);
    if (violation !== undefined) out.push(violation);
  }
}
