/**
 * The import rules of .dependency-cruiser.cjs hold for the whole repository: no cycles; the product never
 * imports bench/, tools/ or test/; components take only the controller's contract; the controller takes nothing of
 * the components but in its CLI, and nothing imports the CLI; the contract is a leaf; the engine is pure; the
 * simulator runs without adapters. Run by dependency-cruiser itself (its CLI, JSON output).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEPCRUISE = join(ROOT, "node_modules", ".bin", "depcruise");

interface CruiseResult {
  readonly summary: { readonly violations: readonly { readonly rule: { readonly name: string }; readonly from: string; readonly to: string }[]; readonly totalCruised: number };
}

function cruise(paths: readonly string[]): CruiseResult {
  let out: string;
  try {
    out = execFileSync(DEPCRUISE, [...paths, "--config", ".dependency-cruiser.cjs", "--output-type", "json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20 });
  } catch (err) {
    // exit code 1 = violations found; the JSON is still on stdout
    out = (err as { stdout?: string }).stdout ?? "";
    if (out === "") throw err;
  }
  return JSON.parse(out) as CruiseResult;
}

describe("import layering (dependency-cruiser)", () => {
  it("the repository has no cycle and no import against the layering", () => {
    const result = cruise(["components", "controller", "infra", "policies", "bench", "tools", "test"]);
    const lines = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    assert.deepEqual(lines, []);
    assert.ok(result.summary.totalCruised > 250, `cruised only ${result.summary.totalCruised} modules`);
  });

  it("the rules catch a component importing controller internals, an engine importing an adapter, the controller importing a component", () => {
    // Bad importers placed for a moment beside real modules, cruised with the repository's own rules.
    {
      const bad = [
        [join(ROOT, "components", `zz-bad-${process.pid}.ts`), 'import "../controller/src/kube/clock.ts";\n'],
        [join(ROOT, "controller/src/engine", `zz-bad-${process.pid}.ts`), 'import "../gateway/types.ts";\n'],
        [join(ROOT, "controller/src/kube", `zz-bad-${process.pid}.ts`), 'import "../../../components/types.ts";\n'],
      ] as const;
      for (const [file, text] of bad) writeFileSync(file, text);
      try {
        const result = cruise(bad.map(([file]) => file.slice(ROOT.length)));
        const names = result.summary.violations.map((v) => v.rule.name).sort();
        assert.deepEqual(names, ["components-only-contract", "controller-not-components", "engine-is-pure"]);
      } finally {
        for (const [file] of bad) rmSync(file, { force: true });
      }
    }
  });
});
