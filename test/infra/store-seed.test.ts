/**
 * The in-cluster store's credential seed is a secret: nothing committed holds one, a plain-text value is refused,
 * and a local stack without one gets a generated seed (a RandomPassword, kept encrypted in the stack's state) that
 * the store's credentials are derived from.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../infra/config-schema.ts";
import { evaluated, ofType } from "./helpers.ts";

const BASE = { "autopilot-serving:cloud": "local", "autopilot-serving:controllerImage": "a/b:1", "autopilot-serving:gatewayApiKeyHashes": JSON.stringify(["a".repeat(64)]) };

describe("localStoreSecretSeed", () => {
  it("no committed stack file sets it", () => {
    for (const f of ["Pulumi.local.yaml", "Pulumi.staging-aws.yaml", "Pulumi.prod-gcp.yaml"]) {
      assert.doesNotMatch(readFileSync(new URL(`../../${f}`, import.meta.url), "utf8"), /^\s*autopilot-serving:localStoreSecretSeed:/m, f);
    }
  });

  it("a plain-text seed is refused without echoing it; one set with --secret is taken; none is fine", () => {
    const seed = "plain-text-seed-0123456789";
    assert.throws(() => parseStackConfig({ ...BASE, "autopilot-serving:localStoreSecretSeed": seed }, "local", new Set()), (e: Error) => {
      assert.match(e.message, /localStoreSecretSeed/);
      assert.match(e.message, /pulumi config set --secret localStoreSecretSeed/);
      assert.doesNotMatch(e.message, new RegExp(seed));
      return true;
    });
    assert.equal(parseStackConfig({ ...BASE, "autopilot-serving:localStoreSecretSeed": seed }, "local", new Set(["autopilot-serving:localStoreSecretSeed"])).localStoreSecretSeed, seed);
    assert.equal(parseStackConfig(BASE, "local", new Set()).localStoreSecretSeed, "");
  });

  it("the local stack without a seed generates one and derives the store's credentials from it", async () => {
    const ev = await evaluated("local");
    const seeds = ofType(ev, "random:index/randomPassword:RandomPassword").filter((r) => /store-seed$/.test(r.name));
    assert.equal(seeds.length, 1, `store-seed RandomPassword: ${seeds.map((r) => r.name)}`);
    assert.ok((seeds[0]?.inputs.length as number) >= 32, "a seed of at least 32 characters");
    assert.match(seeds[0]?.parent ?? "", /ModelCache/);
  });
});
