/**
 * The GitOps workflows guard themselves: a pull request is judged by the base branch's policy pack and config;
 * changes to the guardrails need a code owner; one Pulumi operation per stack across preview, up and drift;
 * manual runs deploy main only and every token-minting job runs in a GitHub environment (the OIDC subject the
 * cloud trusts); those jobs pin actions by commit and install dependencies without scripts; drift reports land
 * on one issue per stack; production is previewed before its approval. The drift-issue script runs for real
 * with bash against a test double of the `gh` CLI.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string; "working-directory"?: string };
type Job = {
  if?: string; needs?: string | string[]; permissions?: Record<string, string>; environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress": boolean }; steps: Step[]; strategy?: { matrix?: { include?: Record<string, string>[] } };
};
type Workflow = { on: Record<string, unknown>; concurrency?: unknown; permissions?: Record<string, string>; jobs: Record<string, Job> };

const root = join(import.meta.dirname, "../..");
const load = (f: string) => YAML.parse(readFileSync(join(root, ".github/workflows", f), "utf8")) as Workflow;
const GITOPS = ["preview.yml", "up.yml", "drift.yml"] as const;
const workflows = GITOPS.map((f) => ({ file: f, w: load(f) }));
const allJobs = workflows.flatMap(({ file, w }) => Object.entries(w.jobs).map(([id, job]) => ({ file, id, job, w })));
const mintsTokens = (j: Job) => j.permissions?.["id-token"] === "write";
const pulumiStep = (j: Job) => j.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));

/** The stacks a job operates on: its matrix's, or its pulumi step's stack-name. */
function stacksOf(j: Job): string[] {
  const name = String(pulumiStep(j)?.with?.["stack-name"] ?? "");
  if (name === "${{ matrix.stack }}") return (j.strategy?.matrix?.include ?? []).map((m) => m["stack"]!);
  return name === "" ? [] : [name];
}

describe("the pack a pull request is judged by", () => {
  const preview = load("preview.yml").jobs["preview"]!;
  it("is checked out from the base commit into trusted/, and only that copy is passed to pulumi", () => {
    const trusted = preview.steps.find((s) => s.uses?.startsWith("actions/checkout@") && s.with?.["path"] === "trusted");
    assert.equal(trusted?.with?.["ref"], "${{ github.event.pull_request.base.sha }}");
    assert.equal(pulumiStep(preview)?.with?.["policyPacks"], "trusted/policies");
    assert.equal(pulumiStep(preview)?.with?.["policyPackConfigs"], "trusted/policies/config/${{ matrix.stack }}.json");
    assert.ok(preview.steps.some((s) => s.run === "npm ci --ignore-scripts" && s["working-directory"] === "trusted"), "the trusted pack's own dependencies");
  });
  it("CODEOWNERS guards policies/ and .github/", () => {
    const rules = readFileSync(join(root, ".github/CODEOWNERS"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => l.split(/\s+/));
    for (const path of ["/policies/", "/.github/"]) {
      const rule = rules.find((r) => r[0] === path);
      assert.ok(rule !== undefined && rule.length > 1 && rule.slice(1).every((o) => o.startsWith("@")), `${path} has an owner`);
    }
  });
});

describe("one Pulumi operation per stack", () => {
  it("no workflow-level concurrency on up and drift (an approval wait must not hold other stacks)", () => {
    assert.equal(load("up.yml").concurrency, undefined);
    assert.equal(load("drift.yml").concurrency, undefined);
  });
  it("every job that runs pulumi holds the job-level group pulumi-<stack>, never cancelling one in progress", () => {
    const seen = new Map<string, Set<string>>();
    for (const { file, id, job } of allJobs.filter((x) => pulumiStep(x.job) !== undefined)) {
      const stacks = stacksOf(job);
      assert.ok(stacks.length > 0, `${file} ${id}: no stack`);
      const group = job.concurrency?.group ?? "";
      assert.equal(job.concurrency?.["cancel-in-progress"], false, `${file} ${id}`);
      for (const stack of stacks) {
        assert.equal(group.replace("${{ matrix.stack }}", stack), `pulumi-${stack}`, `${file} ${id}`);
        seen.set(stack, (seen.get(stack) ?? new Set()).add(file));
      }
    }
    assert.deepEqual([...seen].map(([s, files]) => `${s}: ${[...files].sort().join(" ")}`).sort(),
      ["prod-gcp: drift.yml preview.yml up.yml", "staging-aws: drift.yml preview.yml up.yml"]);
  });
});

describe("jobs that mint cloud tokens", () => {
  const minting = allJobs.filter((x) => mintsTokens(x.job));
  it("are the preview, deploy and drift jobs", () => {
    assert.deepEqual(minting.map((x) => `${x.file}:${x.id}`).sort(), ["drift.yml:drift", "preview.yml:preview", "up.yml:production", "up.yml:production-preview", "up.yml:staging"]);
  });
  it("run in a GitHub environment (the OIDC subject is repo:<owner>/<repo>:environment:<name>)", () => {
    for (const { file, id, job } of minting) assert.ok(job.environment !== undefined, `${file} ${id}`);
  });
  it("run from main only when the workflow can be started by hand", () => {
    for (const { file, id, job } of minting.filter((x) => "workflow_dispatch" in x.w.on)) {
      assert.equal(job.if, "github.ref == 'refs/heads/main'", `${file} ${id}`);
    }
  });
  it("pin every action by commit SHA and keep no git credentials", () => {
    for (const { file, id, job } of minting) {
      for (const s of job.steps.filter((x) => x.uses !== undefined)) {
        assert.match(s.uses!, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file} ${id}: ${s.uses}`);
        if (s.uses!.startsWith("actions/checkout@")) assert.equal(s.with?.["persist-credentials"], false, `${file} ${id}`);
      }
    }
  });
  it("install dependencies without their install scripts", () => {
    for (const { file, id, job } of minting) {
      const installs = job.steps.filter((s) => /\bnpm (ci|install|i)\b/.test(s.run ?? ""));
      assert.ok(installs.length > 0, `${file} ${id}`);
      for (const s of installs) assert.match(s.run!, /--ignore-scripts/, `${file} ${id}: ${s.run}`);
      assert.ok(!job.steps.some((s) => s.with?.["cache"] !== undefined), `${file} ${id}: no shared dependency cache`);
    }
  });
});

describe("production is previewed before its approval", () => {
  const up = load("up.yml");
  it("the production job needs a read-only preview of prod-gcp, which writes the diff to the run summary", () => {
    const preview = up.jobs["production-preview"]!;
    assert.ok((up.jobs["production"]!.needs as string[]).includes("production-preview"));
    assert.equal(preview.environment, "production-preview");
    const s = pulumiStep(preview)!;
    assert.equal(s.with?.["command"], "preview");
    assert.equal(s.with?.["stack-name"], "prod-gcp");
    assert.equal(s.with?.["comment-on-summary"], true);
    assert.equal(preview.steps.find((x) => x.uses?.startsWith("google-github-actions/auth@"))?.with?.["service_account"], "${{ secrets.GCP_PREVIEW_SERVICE_ACCOUNT }}");
  });
});

describe("drift issues are deduplicated (the step's script, run with a gh test double)", () => {
  const step = load("drift.yml").jobs["drift"]!.steps.find((s) => s.if === "failure()")!;
  /** Runs the step's script with `gh` answering `issue list` with `openIssues`; returns the gh calls. */
  function run(openIssues: { number: number; title: string }[]): string[] {
    const dir = mkdtempSync(join(tmpdir(), "gh-double-"));
    const log = join(dir, "calls.log");
    writeFileSync(join(dir, "issues.json"), JSON.stringify(openIssues));
    // Test double of the GitHub CLI: logs its arguments; `issue list --json … --jq FILTER` applies FILTER with node.
    writeFileSync(join(dir, "gh"), [
      "#!/usr/bin/env bash",
      `printf '%s\\n' "$*" >> "${log}"`,
      "if [ \"$1 $2\" = \"issue list\" ]; then",
      "  while [ $# -gt 0 ]; do if [ \"$1\" = --jq ]; then filter=\"$2\"; fi; shift; done",
      `  node -e 'const f=process.argv[1]; const xs=JSON.parse(require("fs").readFileSync(process.argv[2],"utf8")); const t=/\\.title == "([^"]+)"/.exec(f)[1]; const hit=xs.filter((x)=>x.title===t)[0]; if (hit) console.log(hit.number);' "$filter" "${join(dir, "issues.json")}"`,
      "fi",
    ].join("\n"));
    chmodSync(join(dir, "gh"), 0o755);
    execFileSync("bash", ["-e", "-c", step.run!], { env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}`, STACK: "prod-gcp", RUN_URL: "https://example.invalid/run/1" } });
    return readFileSync(log, "utf8").trim().split("\n");
  }
  it("comments on the open issue of that stack instead of opening another", () => {
    const calls = run([{ number: 7, title: "Drift detected in stack staging-aws" }, { number: 9, title: "Drift detected in stack prod-gcp" }]);
    assert.equal(calls.length, 2);
    assert.match(calls[0]!, /^issue list --state open --search "Drift detected in stack prod-gcp" in:title --json number,title --jq /);
    assert.equal(calls[1], "issue comment 9 --body The scheduled refresh + preview of prod-gcp found changes or failed: https://example.invalid/run/1");
  });
  it("opens one when none is open for that stack", () => {
    const calls = run([{ number: 7, title: "Drift detected in stack staging-aws" }]);
    assert.equal(calls[1], "issue create --title Drift detected in stack prod-gcp --body The scheduled refresh + preview of prod-gcp found changes or failed: https://example.invalid/run/1");
  });
});
