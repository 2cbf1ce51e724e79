/** Helpers under the predicates: image references, globs, label selectors, pack config validation. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseImage } from "../../policies/lib/images.ts";
import { globMatch } from "../../policies/lib/read.ts";
import { selectorMatches } from "../../policies/lib/endpoints.ts";
import { validatePackConfig } from "../../policies/offline/pack-config.ts";
import { definitions } from "../../policies/pack.ts";

describe("parseImage", () => {
  const cases = [
    { input: "python", want: { registry: "docker.io", repository: "python" } },
    { input: "vllm/vllm-openai:v0.11.0", want: { registry: "docker.io", repository: "vllm/vllm-openai", tag: "v0.11.0" } },
    { input: "localhost:5000/app@sha256:00", want: { registry: "localhost:5000", repository: "app", digest: "sha256:00" } },
    { input: "ghcr.io/a/b:1.2@sha256:ff", want: { registry: "ghcr.io", repository: "a/b", tag: "1.2", digest: "sha256:ff" } },
    { input: "gcr.io/google.com/cloudsdktool/google-cloud-cli:541.0.0-slim", want: { registry: "gcr.io", repository: "google.com/cloudsdktool/google-cloud-cli", tag: "541.0.0-slim" } },
  ];
  for (const c of cases) it(c.input, () => assert.deepEqual(parseImage(c.input), c.want));
  it("round-trips registry/repository:tag", () => {
    const seg = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(fc.property(seg, seg, seg, (r, repo, tag) => {
      const p = parseImage(`${r}.io/${repo}:${tag}`);
      return p.registry === `${r}.io` && p.repository === repo && p.tag === tag;
    }));
  });
});

describe("globMatch", () => {
  it("matches * across characters and anchors both ends", () => {
    assert.equal(globMatch("*.dkr.ecr.*.amazonaws.com", "1.dkr.ecr.eu-west-1.amazonaws.com"), true);
    assert.equal(globMatch("ghcr.io", "ghcr.io.evil.com"), false);
    assert.equal(globMatch("a.b", "axb"), false);
  });
});

describe("selectorMatches", () => {
  const labels = { app: "x", tier: "web" };
  const cases = [
    { name: "absent selector selects nothing", sel: undefined, want: false },
    { name: "empty selector selects all", sel: {}, want: true },
    { name: "matchLabels subset", sel: { matchLabels: { app: "x" } }, want: true },
    { name: "matchLabels mismatch", sel: { matchLabels: { app: "y" } }, want: false },
    { name: "In", sel: { matchExpressions: [{ key: "tier", operator: "In", values: ["web", "db"] }] }, want: true },
    { name: "NotIn", sel: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, want: false },
    { name: "DoesNotExist", sel: { matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(selectorMatches(c.sel, labels), c.want));
});

describe("validatePackConfig", () => {
  it("accepts the shipped per-environment files' shape", () => {
    assert.deepEqual(validatePackConfig({ "gpu-node-budget": { maxGpuNodes: 3 }, "endpoint-scraped": "advisory" }, definitions),
      { "gpu-node-budget": { maxGpuNodes: 3 }, "endpoint-scraped": "advisory" });
  });
  const bad = [
    { name: "unknown policy", input: { "gpu-budget": 1 }, want: /\(top level\): unknown key "gpu-budget"; allowed: endpoint-concurrency-range, /},
    { name: "unknown setting", input: { "gpu-node-budget": { maxGpus: 1 } }, want: /gpu-node-budget: unknown key "maxGpus"; allowed: enforcementLevel, maxGpuNodes, gpuTaintKey/ },
    { name: "out of range", input: { "gpu-node-budget": { maxGpuNodes: -1 } }, want: /gpu-node-budget\.maxGpuNodes: value -1 must be >= 0/ },
    { name: "bad level", input: { "gpu-node-budget": "off" }, want: /gpu-node-budget: value "off" must be equal to one of the allowed values \(advisory, mandatory, remediate, disabled\)/ },
  ];
  for (const c of bad) it(`rejects: ${c.name}`, () => assert.throws(() => validatePackConfig(c.input, definitions), c.want));
});

describe("pack definitions", () => {
  it("has at least 14 policies, unique names, each with a level, a remediation and documented config defaults", () => {
    assert.ok(definitions.length >= 14);
    assert.equal(new Set(definitions.map((d) => d.name)).size, definitions.length);
    for (const d of definitions) {
      assert.ok(["advisory", "mandatory"].includes(d.enforcementLevel), d.name);
      assert.ok(d.remediation.length > 40, `${d.name} remediation`);
      assert.deepEqual(Object.keys(d.configSchema).sort(), Object.keys(d.defaults).sort(), `${d.name} schema keys = defaults keys`);
      for (const [k, s] of Object.entries(d.configSchema)) assert.deepEqual(s.default, (d.defaults as Record<string, unknown>)[k], `${d.name}.${k} default`);
    }
  });
});

describe("docs/policies.md", () => {
  it("documents every policy with its level, kind and each config key", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(new URL("../../docs/policies.md", import.meta.url), "utf8");
    definitions.forEach((d, i) => {
      assert.ok(doc.includes(`### ${i + 1}. \`${d.name}\` — ${d.enforcementLevel}, ${d.kind}`), `heading of ${d.name}`);
      for (const key of Object.keys(d.configSchema)) assert.ok(doc.includes(`\`${key}\``), `${d.name}.${key} documented`);
    });
  });
});
