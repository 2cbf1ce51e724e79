/**
 * `autopilot-serving/testing`: runs a Pulumi program under Pulumi's mocks — a TEST DOUBLE of the Pulumi engine
 * (infra/mock-monitor.ts) that records every registered resource with its inputs and options and answers stack
 * references from given outputs. No cloud, cluster or Pulumi CLI is involved. For users' own program tests:
 *
 *     const { resources, outputs } = await evaluateProgram(() => import("./index.ts"), { project: "team", stack: "dev" });
 */
import * as pulumi from "@pulumi/pulumi";
import * as state from "@pulumi/pulumi/runtime/state.js";
import { type RegisteredResource, RecordingMonitor } from "./mock-monitor.ts";

export { mockCall, mockState, RecordingMonitor, type RegisteredResource } from "./mock-monitor.ts";

export interface EvaluateProgramOptions {
  /** Pulumi project name (config keys without a namespace are put under it). */
  readonly project: string;
  readonly stack: string;
  /** Stack config: `key` or `namespace:key` → value. @default {} */
  readonly config?: Readonly<Record<string, string>>;
  /** Config keys (as given in `config`) that are secrets. @default [] */
  readonly secretKeys?: readonly string[];
  /** What `pulumi.StackReference`s read: stack name → its outputs (and which are secrets). @default {} */
  readonly stackOutputs?: Readonly<Record<string, { readonly outputs: Record<string, unknown>; readonly secretOutputNames?: readonly string[] }>>;
  /** Run as a preview (unknown outputs). @default false */
  readonly preview?: boolean;
}

export interface ProgramEvaluation {
  /** Every registered resource in registration order, the stack resource first. */
  readonly resources: readonly RegisteredResource[];
  /** The program's exports (stack outputs), resolved. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Runs `program` (usually `() => import("./index.ts")`: its exports are the stack outputs) under mocks. */
export async function evaluateProgram(program: () => Promise<Record<string, unknown>> | Record<string, unknown>, options: EvaluateProgramOptions): Promise<ProgramEvaluation> {
  const qualify = (k: string) => (k.includes(":") ? k : `${options.project}:${k}`);
  const config = Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [qualify(k), v]));
  return (state as unknown as { withLocalStorage<T>(fn: () => Promise<T>): Promise<T> }).withLocalStorage(async () => {
    pulumi.runtime.setAllConfig(config, (options.secretKeys ?? []).map(qualify));
    const monitor = new RecordingMonitor();
    for (const [stack, ref] of Object.entries(options.stackOutputs ?? {})) monitor.stackOutputs.set(stack, { outputs: ref.outputs, secretOutputNames: ref.secretOutputNames ?? [] });
    pulumi.runtime.setMockOptions(monitor, options.project, options.stack, options.preview ?? false);
    // A program that throws (a bad declaration) fails the evaluation with its own error, after the stack resource
    // has settled (an init that rejects would leave the stack's other promises rejected and unhandled).
    let failure: { error: unknown } | undefined;
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
      try {
        const exports = await program();
        return Object.fromEntries(Object.entries(exports).filter(([k]) => k !== "default"));
      } catch (error) {
        failure = { error };
        return {};
      }
    });
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    if (failure !== undefined) throw failure.error;
    return { resources: monitor.registered, outputs: (outputs ?? {}) as Record<string, unknown> };
  });
}
