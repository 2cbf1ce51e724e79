/** `npm run check` end to end: exit codes, the OFFLINE label, violations grouped by resource with remediation. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { goodStack } from "./fixtures.ts";
import { definitions } from "../../policies/pack.ts";

const root = join(import.meta.dirname, "../..");
const broken = join(root, "policies/fixtures/broken-endpoint.json");

function check(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(root, "policies/check.ts"), ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("npm run check (hand-made inventory)", () => {
  let dir: string;
  let inventory: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "policy-check-"));
    inventory = join(dir, "aws.json");
    writeFileSync(inventory, JSON.stringify(goodStack("aws")));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("a compliant inventory exits 0 and says it is an offline check", () => {
    const r = check("--stack", "staging-aws", "--inventory", inventory);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^OFFLINE policy check — the program ran under Pulumi mocks .* not a `pulumi preview`\./);
    assert.match(r.out, /config: .*policies\/config\/staging-aws\.json/);
    assert.match(r.out, /result: 0 mandatory, 0 advisory violation\(s\), 0 policy run\(s\) blocked by unknown values → PASS \(exit 0\)/);
  });

  it("the broken endpoint fixture exits 1 naming policy, resource and remediation", () => {
    const r = check("--stack", "staging-aws", "--inventory", inventory, "--fixture", broken);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /✗ kubernetes:serving\.autopilot\.dev\/v1alpha1:ServingEndpoint {2}bad-llm-cr/);
    assert.match(r.out, /\[mandatory\] endpoint-concurrency-range: ServingEndpoint ep-bad-llm\/bad-llm: spec\.concurrency\.min \(16\) is greater than spec\.concurrency\.max \(4\)\./);
    assert.match(r.out, /✗ kubernetes:apps\/v1:Deployment {2}bad-llm-deploy/);
    assert.match(r.out, /\[mandatory\] gpu-runtime-on-gpu-pool: .*no toleration for the GPU pool taint "nvidia\.com\/gpu"/);
    assert.match(r.out, /remediation: Request nvidia\.com\/gpu in the serving container's resources\.limits/);
    assert.match(r.out, /result: 2 mandatory, 0 advisory .* FAIL \(exit 1\)/);
  });

  it("--json prints the diagnostics", () => {
    const r = check("--stack", "staging-aws", "--inventory", inventory, "--fixture", broken, "--json");
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out) as { offline: boolean; summary: { mandatory: number }; diagnostics: { policyName: string }[] };
    assert.equal(j.offline, true);
    assert.deepEqual(j.diagnostics.map((d) => d.policyName).sort(), ["endpoint-concurrency-range", "gpu-runtime-on-gpu-pool"]);
  });

  it("a bad policy config exits 2 naming the key and what is allowed", () => {
    const cfg = join(dir, "bad.json");
    writeFileSync(cfg, JSON.stringify({ "gpu-node-budget": { maxGpuNodes: "eight" } }));
    const r = check("--stack", "staging-aws", "--inventory", inventory, "--config", cfg);
    assert.equal(r.code, 2);
    assert.match(r.err, /gpu-node-budget\.maxGpuNodes: value "eight" must be integer/);
  });

  it("a missing --stack exits 2", () => {
    assert.equal(check().code, 2);
  });
});

describe("npm run check --stack <example> (the program under mocks)", () => {
  for (const stack of ["local", "staging-aws", "prod-gcp"]) {
    it(`${stack}: exits 0 with no violation`, () => {
      const r = check("--stack", stack);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, new RegExp(`stack: ${stack} · \\d+ resources · ${definitions.length} policies`));
      assert.match(r.out, /result: 0 mandatory, 0 advisory violation\(s\), 0 policy run\(s\) blocked by unknown values → PASS \(exit 0\)/);
    });
  }

  it("local + the broken endpoint fixture: exits 1 naming policy, resource and remediation", () => {
    const r = check("--stack", "local", "--fixture", broken);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^OFFLINE policy check/);
    assert.match(r.out, /✗ kubernetes:serving\.autopilot\.dev\/v1alpha1:ServingEndpoint {2}bad-llm-cr\n {4}urn: urn:pulumi:local::autopilot-serving::/);
    assert.match(r.out, /\[mandatory\] endpoint-concurrency-range: ServingEndpoint ep-bad-llm\/bad-llm: spec\.concurrency\.min \(16\) is greater than spec\.concurrency\.max \(4\)\.\n {8}remediation: Set spec\.concurrency to integers/);
    assert.match(r.out, /result: 2 mandatory, 0 advisory violation\(s\).* FAIL \(exit 1\)/);
  });

  it("an unknown stack exits 2 with the program's own error", () => {
    const r = check("--stack", "nope");
    assert.equal(r.code, 2);
    assert.match(r.err, /^policy check error: .*Pulumi\.nope\.yaml/);
  });
});
