/**
 * Evaluates the Pulumi program (infra/) for one example stack under Pulumi's mocks and returns what it
 * registered, as OfflineResources. Uses the program's own mock evaluation (INFRA area); this module only
 * adapts its output.
 */
import type { OfflineResource } from "./run-pack.ts";

/** The shape the program's mock evaluation returns per registered resource. */
interface RegisteredResource {
  readonly type: string;
  readonly name: string;
  readonly urn?: string;
  readonly parent?: string;
  readonly id?: string;
  readonly inputs?: Record<string, unknown>;
  readonly props?: Record<string, unknown>;
}

/** Runs the program for `stack` under mocks. Throws with a clear message when the evaluation is unavailable. */
export async function evaluateProgram(stack: string): Promise<OfflineResource[]> {
  let mod: { evaluateStack?: (stack: string) => Promise<{ resources: RegisteredResource[] } | RegisteredResource[]> };
  try {
    mod = (await import(new URL("../../infra/evaluate.ts", import.meta.url).href)) as typeof mod;
  } catch (e) {
    throw new Error(`cannot load the program's mock evaluation (infra/evaluate.ts): ${(e as Error).message}`);
  }
  if (typeof mod.evaluateStack !== "function") throw new Error("infra/evaluate.ts does not export evaluateStack(stack)");
  const result = await mod.evaluateStack(stack);
  const list = Array.isArray(result) ? result : result.resources;
  return list.map(toOffline);
}

/** Maps one registered resource to the offline runner's shape. */
export function toOffline(r: RegisteredResource): OfflineResource {
  return {
    type: r.type, name: r.name, props: r.inputs ?? r.props ?? {},
    ...(r.urn !== undefined ? { urn: r.urn } : {}),
    ...(r.parent !== undefined ? { parent: r.parent } : {}),
    ...(r.id !== undefined ? { id: r.id } : {}),
  };
}
