/**
 * Evaluates the Pulumi program (infra/) for one example stack under Pulumi's mocks — with the program's own
 * offline evaluation, `evaluateStack` in infra/evaluate.ts (a test double of the engine) — and adapts what it
 * registered to the offline runner's shape.
 */
import type { OfflineResource } from "./run-pack.ts";

/** The shape infra/evaluate.ts returns per registered resource. */
export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Parent URN ("" for the stack itself). */
  readonly parent: string;
  readonly custom?: boolean;
  readonly inputs: Record<string, unknown>;
  readonly dependencies?: readonly string[];
  /** Provider reference (`<provider urn>::<id>`), "" for the default provider. */
  readonly provider?: string;
}

/** Project name in URNs (Pulumi.yaml `name`). */
const PROJECT = "autopilot-serving";

/** The engine's full URN for a mock-monitor URN (`parentType$type::name` → `urn:pulumi:<stack>::<project>::…`). */
export function fullUrn(urn: string, stack: string): string {
  return urn.startsWith("urn:") ? urn : `urn:pulumi:${stack}::${PROJECT}::${urn}`;
}

/** Maps the registered resources of one evaluation to OfflineResources (components and the stack included). */
export function toOffline(resources: readonly RegisteredResource[], stack: string): OfflineResource[] {
  return resources.map((r) => ({
    type: r.type, name: r.name, urn: fullUrn(r.urn, stack), props: r.inputs,
    ...(r.parent !== "" ? { parent: fullUrn(r.parent, stack) } : {}),
    ...(r.dependencies !== undefined ? { dependencies: r.dependencies.map((d) => fullUrn(d, stack)) } : {}),
    ...(r.provider !== undefined && r.provider !== "" ? { provider: fullUrn(r.provider, stack) } : {}),
  }));
}

/**
 * Runs the program for `stack` under mocks (config from Pulumi.<stack>.yaml); `preview` runs it in preview mode
 * (`isDryRun()` true; outputs the mocks don't supply stay unknown); `overrides` set config values as `npm run plan
 * -- --set` does. The program's own errors propagate. The
 * charts' workloads are included as the chart's children (components/charts/chart-facts.ts, a test double of
 * `helm template`): a real preview registers every chart object, and the pack sees them there too.
 */
export async function evaluateProgram(stack: string, preview = false, overrides: Readonly<Record<string, string>> = {}): Promise<OfflineResource[]> {
  // Loaded on demand: `--inventory` runs never pay for loading the program and the providers.
  const { evaluateStack } = await import("../../infra/evaluate.ts");
  const evaluation = await evaluateStack(stack, { preview, chartObjects: true, overrides });
  return toOffline(evaluation.resources, stack);
}
