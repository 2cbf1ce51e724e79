/**
 * Runs `@pulumi/policy` policies over a list of resources without the Pulumi engine, building the
 * validation args the way the policy server does (`@pulumi/policy/server.js`, v1.21): props wrapped in
 * `unknownCheckingProxy`, `getConfig` from the pack config minus `enforcementLevel`, `notApplicable`
 * throwing, an `UnknownValueError` downgraded to an advisory "can't run during preview" diagnostic,
 * any other exception fatal. This is a test double of the engine's analyzer host, not the engine.
 */
import {
  unknownCheckingProxy, UnknownValueError, type EnforcementLevel, type Policies, type PolicyResource,
  type PolicyProviderResource, type PolicyResourceOptions, type ResourceValidationArgs, type ResourceValidationPolicy, type StackValidationArgs,
  type StackValidationPolicy,
} from "@pulumi/policy";

/** A resource to check: what a mock evaluation of the program registered. */
export interface OfflineResource {
  readonly type: string;
  readonly name: string;
  /** Synthesised from type and name when absent. */
  readonly urn?: string;
  /** URN of the parent resource. */
  readonly parent?: string;
  /** Provider id, when the mocks assigned one (lets stack policies match `bucket: b.id` references). */
  readonly id?: string;
  readonly props: Record<string, unknown>;
  /** URNs this resource depends on (the engine's dependencies), when known. */
  readonly dependencies?: readonly string[];
  /** URNs each property depends on (the engine's propertyDependencies), when known. */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  /** The provider reference (`<provider urn>::<id>`, or the URN alone) of a provider resource in the same list. */
  readonly provider?: string;
}

/** One diagnostic, shaped like the engine's `AnalyzeDiagnostic`. */
export interface Diagnostic {
  readonly policyName: string;
  readonly enforcementLevel: Exclude<EnforcementLevel, "remediate" | "disabled">;
  readonly message: string;
  /** The resource blamed; undefined for a stack-wide violation. */
  readonly urn?: string;
  /** True when the policy could not run because a value is unknown (preview); always advisory. */
  readonly cannotRun?: boolean;
}

/** Pack config as in a `--policy-pack-config` file: per policy a level or `{ enforcementLevel?, ...props }`. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

class NotApplicable extends Error {}

const emptyOpts: PolicyResourceOptions = {
  protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
};

/** `urn:pulumi:<stack>::<project>::<type>::<name>`, as the engine (and the mock monitor) form it. */
export function makeUrn(type: string, name: string, stack = "offline", project = "autopilot-serving"): string {
  return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

function urnOf(r: OfflineResource): string {
  return r.urn ?? makeUrn(r.type, r.name);
}

function levelOf(p: { name: string; enforcementLevel?: EnforcementLevel }, config: PackConfig): EnforcementLevel {
  const c = config[p.name];
  const configured = typeof c === "string" ? c : c?.enforcementLevel;
  const level = configured ?? p.enforcementLevel ?? "advisory";
  return level === "remediate" ? "mandatory" : level;
}

function configOf(name: string, config: PackConfig): object {
  const c = config[name];
  if (c === undefined || typeof c === "string") return {};
  const { enforcementLevel: _ignored, ...props } = c;
  return props;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  return (resourceClass as { __pulumiType?: string }).__pulumiType === type;
}

/** The provider resource a reference names (`urn::id` or `urn`), as the policy server passes it. */
function providerOf(r: OfflineResource, all: readonly OfflineResource[]): PolicyProviderResource | undefined {
  if (r.provider === undefined || r.provider === "") return undefined;
  const ref = r.provider;
  const p = all.find((x) => urnOf(x) === ref) ?? all.find((x) => ref.startsWith(`${urnOf(x)}::`));
  if (p === undefined) return undefined;
  return { type: p.type, name: p.name, urn: urnOf(p), props: unknownCheckingProxy(p.props) as Record<string, unknown> };
}

/** ResourceValidationArgs for one resource, as the policy server builds them. */
export function makeResourceArgs(r: OfflineResource, policyName: string, config: PackConfig = {}, all: readonly OfflineResource[] = [r]): ResourceValidationArgs {
  const props = unknownCheckingProxy(r.props) as Record<string, unknown>;
  const provider = providerOf(r, all);
  return {
    ...(provider !== undefined ? { provider } : {}),
    type: r.type, props, urn: urnOf(r), name: r.name,
    opts: { ...emptyOpts, ...(r.parent ? { parent: r.parent } : {}) },
    stackTags: new Map(),
    isType: (cls) => isTypeOf(r.type, cls),
    asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => configOf(policyName, config) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** StackValidationArgs over all resources, with parents and property dependencies linked. */
export function makeStackArgs(resources: readonly OfflineResource[], policyName: string, config: PackConfig = {}): StackValidationArgs {
  const byUrn = new Map<string, PolicyResource>();
  const built = resources.map((r) => {
    const props = unknownCheckingProxy(r.props) as Record<string, unknown>;
    const pr: PolicyResource & { id?: string } = {
      type: r.type, props, urn: urnOf(r), name: r.name, opts: { ...emptyOpts, ...(r.parent ? { parent: r.parent } : {}) },
      dependencies: [], propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls),
      asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
      ...(r.id !== undefined ? { id: r.id } : {}),
    };
    const provider = providerOf(r, resources);
    if (provider !== undefined) pr.provider = provider;
    byUrn.set(pr.urn, pr);
    return { r, pr };
  });
  for (const { r, pr } of built) {
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) pr.parent = parent;
    pr.dependencies = (r.dependencies ?? []).map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
    for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
      pr.propertyDependencies[k] = urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
    }
  }
  return {
    resources: built.map((b) => b.pr), stackTags: new Map(),
    getConfig: <T extends object>() => configOf(policyName, config) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
  return "validateStack" in p && typeof p.validateStack === "function";
}

/** Runs every enabled policy over the resources; resolves to the diagnostics in policy order. */
export async function runPack(policies: Policies, resources: readonly OfflineResource[], config: PackConfig = {}): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const p of policies) {
    const configured = levelOf(p, config);
    if (configured === "disabled") continue;
    const level = configured === "remediate" ? "mandatory" : configured;
    const push = (message: string, urn?: string) =>
      out.push({ policyName: p.name, enforcementLevel: level, message, ...(urn !== undefined ? { urn } : {}) });
    const guard = async (run: () => Promise<void> | void, urn?: string) => {
      try {
        await run();
      } catch (e) {
        if (e instanceof NotApplicable) return;
        if (e instanceof UnknownValueError) {
          out.push({
            policyName: p.name, enforcementLevel: "advisory", cannotRun: true,
            message: `can't run policy '${p.name}' during preview: ${(e as Error).message}`, ...(urn !== undefined ? { urn } : {}),
          });
          return;
        }
        throw new Error(`Error validating resource with policy '${p.name}': ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    };
    if (isStackPolicy(p)) {
      const args = makeStackArgs(resources, p.name, config);
      await guard(() => p.validateStack(args, (message, urn) => push(message, urn)));
      continue;
    }
    const validations = p.validateResource === undefined ? [] : Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
    for (const r of resources) {
      for (const validate of validations) {
        const args = makeResourceArgs(r, p.name, config, resources);
        await guard(() => validate(args, (message) => push(message, args.urn)), args.urn);
      }
    }
  }
  return out;
}
