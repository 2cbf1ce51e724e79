/**
 * Test helper: runs the real registered policies (pack.ts → @pulumi/policy form) through the offline
 * runner, which builds ResourceValidationArgs/StackValidationArgs the way the policy server does
 * (props behind unknownCheckingProxy, unknown values included).
 */
import { createRequire } from "node:module";
import { pulumiPolicies, REMEDIATION_PREFIX } from "../../policies/pack.ts";
import { runPack, type Diagnostic, type OfflineResource, type PackConfig } from "../../policies/offline/run-pack.ts";

/** The preview-time unknown sentinels, read from the installed @pulumi/policy (not re-typed by its .d.ts). */
export const unknown = createRequire(import.meta.url)("@pulumi/policy/proxy.js") as {
  unknownStringValue: string; unknownNumberValue: string; unknownBooleanValue: string;
  unknownArrayValue: string; unknownObjectValue: string;
};

/** Diagnostics of one policy (or all, when `policyName` is undefined). */
export async function runPolicy(policyName: string | undefined, resources: readonly OfflineResource[], config: PackConfig = {}): Promise<Diagnostic[]> {
  const policies = pulumiPolicies().filter((p) => policyName === undefined || p.name === policyName);
  if (policies.length === 0) throw new Error(`no policy named ${policyName}`);
  return runPack(policies, resources, config);
}

/** Violation messages (the part before the remediation) of one policy; "can't run" diagnostics excluded. */
export async function violations(policyName: string, resources: readonly OfflineResource[], config: PackConfig = {}): Promise<string[]> {
  const d = await runPolicy(policyName, resources, config);
  return d.filter((x) => !x.cannotRun).map((x) => x.message.split(`\n${REMEDIATION_PREFIX}`)[0] ?? x.message);
}

/** Names of the policies with at least one diagnostic (violation or can't-run), sorted. */
export async function trippedPolicies(resources: readonly OfflineResource[], config: PackConfig = {}): Promise<string[]> {
  const d = await runPolicy(undefined, resources, config);
  return [...new Set(d.map((x) => x.policyName))].sort();
}
