/**
 * The GitHub workflows pass actionlint with zero findings — the current actionlint, built from its Go module by
 * `node tools/setup.ts` (tools/actionlint/build.ts). shellcheck and pyflakes integration is switched off so the
 * result does not depend on what else is installed.
 */
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { actionlintVersion, requireActionlint } from "../../tools/actionlint/build.ts";

const root = join(import.meta.dirname, "../..");
const dir = join(root, ".github/workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml")).sort();

interface Finding { message: string; filepath: string; line: number; column: number; kind: string }

describe("actionlint", () => {
  let bin: string;
  before(() => {
    bin = requireActionlint();
  });

  /** Findings for the given workflow files (paths relative to `cwd`). */
  const lint = (paths: string[], cwd = root): Finding[] => {
    const r = spawnSync(bin, ["-no-color", "-shellcheck=", "-pyflakes=", "-format", "{{json .}}", ...paths], { cwd, encoding: "utf8" });
    if (r.status !== 0 && r.status !== 1) throw new Error(`actionlint exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim() === "" ? "[]" : r.stdout) as Finding[];
  };

  it("is the version go.mod pins, a current 1.7 release (not the 2022 1.6.22 the npm package embeds)", () => {
    const out = execFileSync(bin, ["-version"], { encoding: "utf8" });
    assert.equal(out.split("\n")[0], actionlintVersion());
    const [major, minor] = actionlintVersion().slice(1).split(".").map(Number);
    assert.ok(major! > 1 || minor! >= 7, `actionlint ${actionlintVersion()} is older than 1.7`);
  });

  it("finds the workflows", () => {
    assert.deepEqual(files, ["drift.yml", "e2e-kind.yml", "preview.yml", "up.yml"]);
  });

  for (const f of files) {
    it(`${f} has no findings`, () => {
      const findings = lint([`.github/workflows/${f}`]);
      assert.deepEqual(findings.map((r) => `${r.filepath}:${r.line}:${r.column} [${r.kind}] ${r.message}`), []);
    });
  }

  it("reports a real mistake (the linter is live, not a no-op)", () => {
    const tmp = mkdtempSync(join(tmpdir(), "actionlint-"));
    writeFileSync(join(tmp, "bad.yml"), "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n");
    const findings = lint(["bad.yml"], tmp);
    assert.deepEqual(findings.map((f) => f.kind), ["expression"]);
    assert.match(findings[0]!.message, /nope/);
  });

  it("knows contexts added after 2022 (vars) and job-level concurrency", () => {
    const tmp = mkdtempSync(join(tmpdir(), "actionlint-"));
    writeFileSync(join(tmp, "new.yml"), [
      "on: push", "jobs:", "  a:", "    runs-on: ubuntu-latest",
      "    concurrency: { group: pulumi-x, cancel-in-progress: false }",
      "    steps:", "      - run: echo \"$X\"", "        env:", "          X: ${{ vars.SOME_VARIABLE }}", "",
    ].join("\n"));
    assert.deepEqual(lint(["new.yml"], tmp), []);
  });
});
