/**
 * The repository's commands as a newcomer meets them: every command of the README's tables answers `--help`
 * without starting work; a benchmark whose tools are missing says which and how to install them; no benchmark
 * writes the committed docs/benchmarks/ files unless given `--write-docs`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { emitReport, missingPrerequisites } from "../../bench/bench-cli.ts";

const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };

/** Entry file of each command in the README's tables. */
const COMMANDS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(pkg.scripts).filter(([k]) => /^(bench:|simulate$|dev$|plan$|check$|build$)/.test(k)).map(([k, v]) => [k, v.replace(/^node /, "")])),
  "bench-pages": "bench/gateway/bench-pages.ts",
  "tail-bound": "controller/src/sim/tail-bound.ts",
};

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [join(root, file), ...args], { cwd: root, encoding: "utf8", timeout: 60_000, env });

describe("commands on a fresh clone", () => {
  it("the README names every command this test covers", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    for (const name of Object.keys(COMMANDS).filter((n) => n !== "build")) {
      assert.ok(readme.includes(name.includes(":") || ["simulate", "dev", "plan", "check"].includes(name) ? `npm run ${name}` : name), name);
    }
  });

  for (const [name, file] of Object.entries(COMMANDS)) {
    it(`${name} --help prints its usage and exits 0 without starting`, () => {
      const r = run(file, ["--help"]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, /Usage:/);
    });
  }

  it("bench:gateway without wrk and HAProxy on PATH names both and how to install them (exit 2)", () => {
    const r = run("bench/gateway/bench.ts", ["--rounds", "1"], { ...process.env, PATH: "/nonexistent" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /wrk is not installed \(not on PATH\); install it: sudo apt-get install -y wrk/);
    assert.match(r.stderr, /haproxy is not installed/);
  });

  it("missingPrerequisites finds an installed tool and names a missing one", () => {
    assert.deepEqual(missingPrerequisites([{ command: process.execPath, probe: ["--version"], install: "-" }]), []);
    assert.equal(missingPrerequisites([{ command: "no-such-tool-xyz", probe: [], install: "apt-get install xyz" }]).length, 1);
  });

  it("a report is printed by default, written to --out, and to the committed doc only with --write-docs", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
    try {
      const doc = join(dir, "doc.md");
      assert.equal(emitReport({}, doc, "# r"), undefined);
      assert.deepEqual(readdirSync(dir), []);
      assert.equal(emitReport({ out: join(dir, "other.md") }, doc, "# r"), join(dir, "other.md"));
      assert.deepEqual(readdirSync(dir), ["other.md"]);
      assert.equal(emitReport({ writeDocs: true }, doc, "# r"), doc);
      assert.equal(readFileSync(doc, "utf8"), "# r\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("nothing in the repository reads from outside it (no ../shared beside a user's clone)", () => {
    const tracked = spawnSync("git", ["ls-files"], { cwd: root, encoding: "utf8" }).stdout.trim().split("\n");
    const offenders = tracked.filter((f) => /\.(ts|mjs|cjs|js|json|ya?ml|md|sh)$/.test(f) && f !== "test/bench/commands.test.ts")
      .filter((f) => readFileSync(join(root, f), "utf8").includes("../shared"));
    assert.deepEqual(offenders, []);
  });

  it("every benchmark that names a docs/benchmarks/ file writes it only behind --write-docs", () => {
    const files = readdirSync(join(root, "bench"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    for (const f of files) {
      const src = readFileSync(join(root, "bench", f), "utf8");
      if (!/writeFileSync|writeFile\(/.test(src) || !/docs\/benchmarks\//.test(src)) continue;
      assert.match(src, /writeDocs|emitReport/, `bench/${f} writes a file and names docs/benchmarks/ without --write-docs`);
    }
  });
});
