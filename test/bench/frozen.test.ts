import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { it } from "node:test";
import { engineConfigDigest, FROZEN_ENGINE_CONFIG_SHA256, HELD_OUT_SCENARIOS } from "../../bench/autoscaler/frozen.ts";
import { defaultEngineConfig } from "../../controller/src/engine/config.ts";

it("the engine's constants are the frozen set the held-out scenarios were evaluated against", () => {
  // A change to defaultEngineConfig fails here: update FROZEN_ENGINE_CONFIG_SHA256 only together with new
  // held-out scenarios (the old ones have then been seen by the changed engine).
  assert.equal(engineConfigDigest(defaultEngineConfig), FROZEN_ENGINE_CONFIG_SHA256);
  for (const name of HELD_OUT_SCENARIOS) assert.ok(existsSync(new URL(`../../controller/scenarios/${name}.json`, import.meta.url)), name);
});
