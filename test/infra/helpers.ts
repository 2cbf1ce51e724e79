/**
 * Shared helpers of the infra tests: cached offline evaluations of the example stacks (each stack is
 * evaluated once per test process) and resource lookups.
 */
import { evaluateStack, type RegisteredResource, type StackEvaluation } from "../../infra/evaluate.ts";

const cache = new Map<string, Promise<StackEvaluation>>();

/** Offline evaluation of an example stack (memoised). */
export function evaluated(stack: string): Promise<StackEvaluation> {
  let p = cache.get(stack);
  if (p === undefined) {
    p = evaluateStack(stack);
    cache.set(stack, p);
  }
  return p;
}

export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Resources of a type. */
export function ofType(ev: StackEvaluation, type: string): RegisteredResource[] {
  return ev.resources.filter((r) => r.type === type);
}

/** Kubernetes objects (typed or custom) as the program rendered them: apiVersion/kind/metadata/... */
export function kubeObjects(ev: StackEvaluation): { r: RegisteredResource; obj: Obj }[] {
  return ev.resources
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh") && r.custom)
    .map((r) => ({ r, obj: r.inputs as Obj }));
}

/** Pod specs of every workload object. */
export function podSpecs(ev: StackEvaluation): { r: RegisteredResource; pod: Obj }[] {
  return kubeObjects(ev)
    .filter(({ obj }) => obj.kind === "Deployment" || obj.kind === "DaemonSet")
    .map(({ r, obj }) => ({ r, pod: obj.spec.template.spec }));
}
