/**
 * Held-out evaluation: the engine's constants are frozen before the evaluation, and the scenarios listed here were
 * added after that (the engine was never tuned on them). A change to `defaultEngineConfig` changes its digest; the
 * test test/bench/frozen.test.ts then fails until this file is updated, which means the held-out scenarios are no
 * longer held out and new ones must be added.
 */
import { createHash } from "node:crypto";
import type { EngineConfig } from "../../controller/src/engine/config.ts";

/** sha256 of the engine's default constants at the freeze (`engineConfigDigest(defaultEngineConfig)`). */
export const FROZEN_ENGINE_CONFIG_SHA256 = "598400f036538e58ec8cfe2b9e2c38d1678ba2173fbbc520baca3e78095e6f7e";

/** Scenarios added after the freeze: real traces the engine was never run on before it. */
export const HELD_OUT_SCENARIOS: readonly string[] = ["azure-llm-code", "mooncake-conversation"];

/** Digest of an engine config: sha256 of its fields as `key=value` lines in key order. */
export function engineConfigDigest(cfg: EngineConfig): string {
  const lines = Object.keys(cfg).sort().map((k) => `${k}=${String(cfg[k as keyof EngineConfig])}`);
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

/**
 * Scenarios the engine's logic was changed against after the freeze (its constants unchanged, so the digest is
 * the same): the held-out scenarios were not run for these changes. The latency-knee consistency rule
 * (`kneeContradicted`, engine/vertical-learn.ts) was worked out on vertical-io.
 */
export const TUNED_AFTER_FREEZE: readonly string[] = ["vertical-io"];
