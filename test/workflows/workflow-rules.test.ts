/**
 * The GitOps workflows keep the properties that matter beyond syntax: previews comment with the permission they
 * need, forks never reach secrets, every pulumi step carries the policy pack, production waits for approval, and
 * drift detection refreshes and expects no changes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string };
type Job = { if?: string; needs?: string | string[]; permissions?: Record<string, string>; environment?: string | { name: string }; steps: Step[]; strategy?: { matrix?: { include?: Record<string, string>[] } } };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job> };

const load = (f: string) => YAML.parse(readFileSync(join(import.meta.dirname, "../../.github/workflows", f), "utf8")) as Workflow;
const pulumiSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("pulumi/actions@")));
// The guards of the jobs that deploy or mint cloud tokens: workflow-guards.test.ts.

describe("preview.yml", () => {
  const w = load("preview.yml");
  it("runs on pull_request, never pull_request_target", () => {
    assert.ok("pull_request" in w.on);
    assert.ok(!("pull_request_target" in w.on));
  });
  it("defaults to read-only and widens only the preview job (pull-requests: write for the comment)", () => {
    assert.deepEqual(w.permissions, { contents: "read" });
    assert.equal(w.jobs["preview"]?.permissions?.["pull-requests"], "write");
    assert.equal(w.jobs["test"]?.permissions, undefined);
  });
  it("runs npm ci and npm test before previewing", () => {
    const runs = w.jobs["test"]!.steps.map((s) => s.run ?? "");
    assert.ok(runs.indexOf("npm ci") < runs.indexOf("npm test") && runs.includes("npm ci"));
    assert.deepEqual(w.jobs["preview"]!.needs, "test");
  });
  it("previews only branches of this repository, from environment-scoped secrets", () => {
    assert.equal(w.jobs["preview"]!.if, "github.event.pull_request.head.repo.full_name == github.repository");
    assert.equal(w.jobs["preview"]!.environment, "${{ matrix.environment }}");
    assert.deepEqual(w.jobs["preview"]!.strategy?.matrix?.include?.map((m) => m["stack"]), ["staging-aws", "prod-gcp"]);
  });
  it("every pulumi step previews with the policy pack and the environment's config, and comments the diff", () => {
    for (const s of pulumiSteps(w)) {
      assert.match(s.uses ?? "", /^pulumi\/actions@[0-9a-f]{40}$/);
      assert.equal(s.with?.["command"], "preview");
      assert.equal(s.with?.["policyPacks"], "trusted/policies");
      assert.equal(s.with?.["policyPackConfigs"], "trusted/policies/config/${{ matrix.stack }}.json");
      assert.equal(s.with?.["comment-on-pr"], true);
    }
  });
});

describe("up.yml", () => {
  const w = load("up.yml");
  it("runs on push to main", () => assert.deepEqual((w.on["push"] as { branches: string[] }).branches, ["main"]));
  it("updates staging, then production behind the approval environment", () => {
    assert.deepEqual(w.jobs["staging"]!.needs, "test");
    assert.deepEqual(w.jobs["production"]!.needs, ["staging", "production-preview"]);
    assert.deepEqual(w.jobs["production"]!.environment, { name: "production" });
  });
  it("enforces the policy pack on every update", () => {
    const steps = pulumiSteps(w);
    assert.equal(steps.length, 3);
    for (const s of steps) {
      assert.ok(s.with?.["command"] === "up" || s.with?.["command"] === "preview");
      assert.equal(s.with?.["policyPacks"], "policies");
    }
  });
});

describe("drift.yml", () => {
  const w = load("drift.yml");
  it("is scheduled", () => assert.ok(Array.isArray(w.on["schedule"])));
  it("refreshes and previews expecting no changes", () => {
    for (const s of pulumiSteps(w)) {
      assert.equal(s.with?.["command"], "preview");
      assert.equal(s.with?.["refresh"], true);
      assert.equal(s.with?.["expect-no-changes"], true);
    }
  });
});
