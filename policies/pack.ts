/**
 * The policy pack's contents: every policy definition, and the thin adapter that registers a pure
 * predicate as a `@pulumi/policy` policy. Importing this module starts nothing (index.ts does).
 */
import type {
  Policies, PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { concurrencyRange } from "./rules/concurrency-range.ts";
import { gpuRuntimePlacement } from "./rules/gpu-runtime-placement.ts";
import { cpuOffGpuPools } from "./rules/cpu-off-gpu-pools.ts";
import { imagesPinned } from "./rules/images-pinned.ts";
import { containerResources } from "./rules/container-resources.ts";
import { podSecurity } from "./rules/pod-security.ts";
import { endpointNetworkPolicy } from "./rules/endpoint-network-policy.ts";
import { gatewayAuth } from "./rules/gateway-auth.ts";
import { modelBucketPrivate } from "./rules/model-bucket-private.ts";
import { modelAccessLeastPrivilege } from "./rules/model-access-least-privilege.ts";
import { gpuNodeBudget } from "./rules/gpu-node-budget.ts";
import { endpointProbesPdb } from "./rules/endpoint-probes-pdb.ts";
import { controllerHa } from "./rules/controller-ha.ts";
import { endpointScraped } from "./rules/endpoint-scraped.ts";
import { nodeSelectorMatchesPool } from "./rules/node-selector-matches-pool.ts";
import { helmRelease } from "./rules/helm-release.ts";
import { endpointAdmission } from "./rules/endpoint-admission.ts";
import type { PolicyDefinition, ResourceView } from "./types.ts";

/** Name of the pack as the Pulumi CLI shows it. */
export const PACK_NAME = "autopilot-serving";

/** All policies, numbered as in docs/policies.md. */
export const definitions: readonly PolicyDefinition[] = [
  concurrencyRange, gpuRuntimePlacement, cpuOffGpuPools, imagesPinned, containerResources, podSecurity,
  endpointNetworkPolicy, gatewayAuth, modelBucketPrivate, modelAccessLeastPrivilege, gpuNodeBudget,
  endpointProbesPdb, controllerHa, endpointScraped, nodeSelectorMatchesPool, helmRelease, endpointAdmission,
];

/** Marker that separates a violation from the remediation in every reported message. */
export const REMEDIATION_PREFIX = "Remediation: ";

/** A policy's effective config: documented defaults overlaid with the pack config for that policy. */
export function resolveConfig<C>(def: { defaults: C }, given: object): C {
  return { ...def.defaults, ...(given as Partial<C>) };
}

function viewOfArgs(args: ResourceValidationArgs): ResourceView {
  return {
    type: args.type, name: args.name, urn: args.urn, props: args.props,
    ...(args.opts.parent ? { parentUrn: args.opts.parent } : {}),
    ...(args.provider ? { provider: args.provider } : {}),
  };
}

function viewOfResource(r: PolicyResource): ResourceView {
  const deps: Record<string, { urn: string }[]> = {};
  for (const [k, v] of Object.entries(r.propertyDependencies ?? {})) deps[k] = v.map((d) => ({ urn: d.urn }));
  // `id` is not part of the runtime's PolicyResource; the offline runner adds it when the mocks know it.
  const id = (r as PolicyResource & { id?: unknown }).id;
  return {
    type: r.type, name: r.name, urn: r.urn, props: r.props, propertyDependencies: deps,
    dependencies: (r.dependencies ?? []).map((d) => ({ urn: d.urn })),
    ...(r.parent ? { parentUrn: r.parent.urn } : {}),
    ...(r.provider ? { provider: r.provider } : {}),
    ...(typeof id === "string" ? { id } : {}),
  };
}

/** True when a resource policy applies to resources of `type`. */
export function appliesTo(def: { types: readonly string[] | ((type: string) => boolean) }, type: string): boolean {
  return typeof def.types === "function" ? def.types(type) : def.types.includes(type);
}

/** Registers one definition as a `@pulumi/policy` policy (resource or stack validation). */
export function toPulumiPolicy(def: PolicyDefinition): ResourceValidationPolicy | StackValidationPolicy {
  const base = {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    remediationSteps: def.remediation,
    configSchema: { properties: { ...def.configSchema } },
  };
  const report = (reportViolation: ReportViolation, message: string, urn?: string) =>
    reportViolation(`${message}\n${REMEDIATION_PREFIX}${def.remediation}`, urn);
  if (def.kind === "resource") {
    return {
      ...base,
      validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (!appliesTo(def, args.type)) args.notApplicable(typeof def.types === "function" ? `does not apply to ${args.type}` : `applies only to ${def.types.join(", ")}`);
        for (const v of def.check(viewOfArgs(args), resolveConfig(def, args.getConfig()))) report(reportViolation, v.message);
      },
    };
  }
  return {
    ...base,
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      for (const v of def.check(args.resources.map(viewOfResource), resolveConfig(def, args.getConfig()))) {
        report(reportViolation, v.message, v.urn);
      }
    },
  };
}

/** The pack's policies in `@pulumi/policy` form. */
export function pulumiPolicies(): Policies {
  return definitions.map(toPulumiPolicy);
}
