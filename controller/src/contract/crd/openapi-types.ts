/**
 * The subset of the Kubernetes `apiextensions.k8s.io/v1` JSONSchemaProps this package writes. Kept local (leaf
 * module) so the CRD source of truth has no runtime dependency; the test validates the built CRD against the
 * official schema from `kubernetes-models`.
 */

/** One CEL rule (`x-kubernetes-validations` item). */
export interface CelRule {
  /** CEL expression over `self` that must be true. */
  readonly rule: string;
  /** Static message shown when the rule fails; names the field. */
  readonly message: string;
  /** Optional CEL expression producing the message (quotes values); `message` is the fallback. */
  readonly messageExpression?: string;
  /** Path, relative to the schema node, of the field the error is reported on (e.g. `.min`). */
  readonly fieldPath?: string;
  /** API error reason. @default "FieldValueInvalid" */
  readonly reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** A structural OpenAPI v3 schema node as the CRD API accepts it. */
export interface OpenApiSchema {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  readonly description?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly required?: readonly string[];
  readonly items?: OpenApiSchema;
  readonly enum?: readonly (string | number)[];
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly "x-kubernetes-validations"?: readonly CelRule[];
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
  readonly "x-kubernetes-map-type"?: "atomic" | "granular";
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
}
