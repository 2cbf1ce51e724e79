/**
 * Leaf types of the policy pack. Predicates (rules/*.ts) see resources only through these shapes, so
 * they run the same under the Pulumi policy runtime, the offline check and the tests.
 */
import type { PolicyConfigJSONSchema, PolicyConfigJSONSchemaType } from "@pulumi/policy/schema.js";

/** One resource as a policy sees it: the runtime's `ResourceValidationArgs`/`PolicyResource` essentials. */
export interface ResourceView {
  /** Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  /** Logical Pulumi name. */
  readonly name: string;
  readonly urn: string;
  /** Provider-assigned id, when the evaluation knows it (offline mock runs); not part of the runtime args. */
  readonly id?: string;
  /**
   * Inputs (resource policies) or outputs (stack policies). At runtime wrapped in
   * `unknownCheckingProxy`: reading a value unknown during preview throws `UnknownValueError`.
   */
  readonly props: Record<string, unknown>;
  /** URN of the parent resource, when known. */
  readonly parentUrn?: string;
  /** URNs of the resources this one depends on (stack policies only). */
  readonly dependencies?: readonly { readonly urn: string }[];
  /** Resources each top-level property depends on (stack policies only). */
  readonly propertyDependencies?: Readonly<Record<string, readonly { readonly urn: string }[]>>;
  /** The resource's provider (type `pulumi:providers:<package>`, its inputs), when the engine reports it. */
  readonly provider?: { readonly type: string; readonly name: string; readonly urn: string; readonly props: Record<string, unknown> };
}

/** A violation found by a predicate. `urn` is set by stack predicates to blame one resource. */
export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

export type EnforcementLevel = "advisory" | "mandatory" | "disabled";

/** JSON schema of one config property, with the documented default and a description required. */
export type ConfigPropertySchema = PolicyConfigJSONSchema & { readonly description: string; readonly default: PolicyConfigJSONSchemaType };

interface PolicyDefinitionBase<C> {
  /** Unique policy name (kebab-case), shown in every violation. */
  readonly name: string;
  /** One sentence: what the policy requires. */
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  /** What the user should change when the policy is violated. */
  readonly remediation: string;
  /** Documented defaults; the config schema is derived from them (see config.ts). */
  readonly defaults: C;
  readonly configSchema: { readonly [K in keyof C]: ConfigPropertySchema };
}

/** A policy that looks at one resource at a time (runs before each resource is created or updated). */
export interface ResourcePolicyDefinition<C = object> extends PolicyDefinitionBase<C> {
  readonly kind: "resource";
  /** Resource type tokens the policy applies to, or a predicate over type tokens; others are skipped. */
  readonly types: readonly string[] | ((type: string) => boolean);
  readonly check: (resource: ResourceView, config: C) => Violation[];
}

/** A policy over all resources of the stack (runs after the preview/update has registered them). */
export interface StackPolicyDefinition<C = object> extends PolicyDefinitionBase<C> {
  readonly kind: "stack";
  readonly check: (resources: readonly ResourceView[], config: C) => Violation[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PolicyDefinition = ResourcePolicyDefinition<any> | StackPolicyDefinition<any>;
