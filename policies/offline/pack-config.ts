/**
 * Loads and validates a policy-pack config file (the `--policy-pack-config` format) against the pack's
 * own config schemas with ajv, so a typo fails with the key, the value and what is allowed.
 */
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import type { PackConfig } from "./run-pack.ts";
import type { PolicyDefinition } from "../types.ts";

const LEVELS = ["advisory", "mandatory", "remediate", "disabled"];

/** JSON schema of a whole pack config file for these policies. */
export function packConfigSchema(defs: readonly PolicyDefinition[]): object {
  const properties: Record<string, object> = {};
  for (const d of defs) {
    properties[d.name] = {
      oneOf: [
        { type: "string", enum: LEVELS },
        { type: "object", additionalProperties: false, properties: { enforcementLevel: { type: "string", enum: LEVELS }, ...d.configSchema } },
      ],
    };
  }
  return { type: "object", additionalProperties: false, properties };
}

/** Validates a parsed config; throws one Error listing every problem. */
export function validatePackConfig(raw: unknown, defs: readonly PolicyDefinition[], source = "policy pack config"): PackConfig {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(packConfigSchema(defs));
  if (validate(raw)) return raw as PackConfig;
  const names = defs.map((d) => d.name);
  const problems = (validate.errors ?? [])
    .filter((e) => e.keyword !== "oneOf")
    // Report only the branch the value was meant for: strings are levels, objects are settings.
    .filter((e) => {
      const value = valueAt(raw, e.instancePath.split("/").slice(1, 2));
      const branch = typeof value === "string" ? "/oneOf/0/" : "/oneOf/1/";
      return !e.schemaPath.includes("/oneOf/") || e.schemaPath.includes(branch);
    })
    .map((e) => {
      const where = e.instancePath === "" ? "(top level)" : e.instancePath.slice(1).replaceAll("/", ".");
      if (e.keyword === "additionalProperties") {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const allowed = e.instancePath === "" ? names : ["enforcementLevel", ...Object.keys(defs.find((d) => `/${d.name}` === e.instancePath)?.configSchema ?? {})];
        return `${where}: unknown key "${key}"; allowed: ${allowed.join(", ")}`;
      }
      const value = valueAt(raw, e.instancePath.split("/").slice(1));
      return `${where}: value ${JSON.stringify(value)} ${e.message ?? "is invalid"}${e.keyword === "enum" ? ` (${LEVELS.join(", ")})` : ""}`;
    });
  throw new Error(`${source} is invalid:\n  ${[...new Set(problems)].join("\n  ")}`);
}

function valueAt(raw: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], raw);
}

/** Reads and validates a config file. */
export function loadPackConfig(path: string, defs: readonly PolicyDefinition[]): PackConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`policy pack config ${path}: ${(e as Error).message}`);
  }
  return validatePackConfig(raw, defs, `policy pack config ${path}`);
}
