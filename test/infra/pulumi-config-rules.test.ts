/**
 * Every `Pulumi.<stack>.yaml` against `Pulumi.yaml` under the Pulumi CLI's own config rules
 * (infra/pulumi-config-rules.ts, re-implemented from pulumi/pulumi pkg/workspace/config.go and
 * sdk/go/common/workspace/project.go), plus the rules themselves on the cases Pulumi's own tests cover.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { EXAMPLE_STACKS, readStackConfigFile } from "../../infra/evaluate.ts";
import {
  applyProjectConfig, parseProjectFile, parseStackFile, PulumiConfigError, validateConfigValue, validateProject,
} from "../../infra/pulumi-config-rules.ts";

const root = new URL("../../", import.meta.url);
const project = parseProjectFile(readFileSync(new URL("Pulumi.yaml", root), "utf8"));

describe("the example stacks pass the Pulumi CLI's config rules", () => {
  it("Pulumi.yaml itself is a valid project (arrays declare items, defaults have their type)", () => {
    validateProject(project);
  });

  for (const stack of EXAMPLE_STACKS) {
    it(`Pulumi.${stack}.yaml: types, lists, secrets; the program gets JSON lists and the defaults`, () => {
      const { values, secretKeys } = applyProjectConfig(stack, project, parseStackFile(readFileSync(new URL(`Pulumi.${stack}.yaml`, root), "utf8")));
      assert.deepEqual(secretKeys, []);
      const hashes = JSON.parse(values["autopilot-serving:gatewayApiKeyHashes"]!) as unknown;
      assert.ok(Array.isArray(hashes) && hashes.length === 1 && /^[0-9a-f]{64}$/.test(String(hashes[0])), values["autopilot-serving:gatewayApiKeyHashes"]);
      // A default the stack does not set reaches the program as the CLI writes it.
      assert.equal(values["autopilot-serving:imageDigests"], "[]");
      assert.equal(values["autopilot-serving:observability"], "true");
    });
  }

  it("a list written as a JSON string (what the stack files held) fails like `pulumi up` does", () => {
    const stack = parseStackFile(`config:\n  autopilot-serving:gatewayApiKeyHashes: '["${"a".repeat(64)}"]'\n`);
    assert.throws(() => applyProjectConfig("local", project, stack),
      (e: Error) => e instanceof PulumiConfigError && e.message === "Stack 'local' with configuration key 'gatewayApiKeyHashes' must be of type 'array<string>'");
  });

  it("`pulumi config set --path 'gatewayApiKeyHashes[0]' <hash>` (a YAML list) passes", () => {
    const stack = parseStackFile(`config:\n  autopilot-serving:gatewayApiKeyHashes:\n    - ${"b".repeat(64)}\n`);
    assert.equal(applyProjectConfig("s", project, stack).values["autopilot-serving:gatewayApiKeyHashes"], `["${"b".repeat(64)}"]`);
  });

  it("docs show the --path form for list keys, never a JSON string", () => {
    for (const file of ["docs/infra.md", "README.md"]) {
      const text = readFileSync(new URL(file, root), "utf8");
      assert.doesNotMatch(text, /pulumi config set (--secret )?(gatewayApiKeyHashes|imageDigests|adminPrincipalArns|apiServerAuthorizedCidrs|gpuZones) '?\[/, file);
    }
    assert.match(readFileSync(new URL("docs/infra.md", root), "utf8"), /pulumi config set --path 'gatewayApiKeyHashes\[0\]'/);
  });

  it("the offline evaluation applies the same rules (a bad type stops it before the program runs)", () => {
    assert.throws(() => readStackConfigFile("local", undefined, { cpuNodesMax: "many" }), /Stack 'local' with configuration key 'cpuNodesMax' must be of type 'integer'/);
    const ok = readStackConfigFile("local", undefined, { gatewayTlsKey: "-----BEGIN PRIVATE KEY-----" });
    assert.deepEqual(ok.secretKeys, ["autopilot-serving:gatewayTlsKey"]);
  });
});

describe("Pulumi's config rules (the cases of pulumi/pulumi's config_project_test.go)", () => {
  const p = (yaml: string) => parseProjectFile(`name: test\nruntime: nodejs\nconfig:\n${yaml}`);
  const s = (yaml: string) => parseStackFile(`config:\n${yaml}`);

  it("integers: YAML ints and integer strings pass, other strings fail", () => {
    const proj = p("  n:\n    type: integer\n");
    assert.equal(applyProjectConfig("dev", proj, s("  test:n: 20\n")).values["test:n"], "20");
    assert.equal(applyProjectConfig("dev", proj, s('  test:n: "20"\n')).values["test:n"], "20");
    assert.throws(() => applyProjectConfig("dev", proj, s("  test:n: twenty\n")), /must be of type 'integer'/);
  });

  it("booleans: true/false as YAML or strings", () => {
    const proj = p("  b:\n    type: boolean\n");
    applyProjectConfig("dev", proj, s("  test:b: true\n"));
    applyProjectConfig("dev", proj, s('  test:b: "false"\n'));
    assert.throws(() => applyProjectConfig("dev", proj, s("  test:b: yes-please\n")), /must be of type 'boolean'/);
  });

  it("a secret key must be stored encrypted — and a secret key with a default fails every stack that leaves it unset", () => {
    const proj = p("  important:\n    type: integer\n    secret: true\n");
    applyProjectConfig("dev", proj, s("  test:important:\n    secure: AAABAJtP\n"));
    assert.throws(() => applyProjectConfig("dev", proj, s("  test:important: 20\n")), /Stack 'dev' with configuration key 'important' must be encrypted as it's secret/);
    const withDefault = p('  key:\n    type: string\n    secret: true\n    default: ""\n');
    assert.throws(() => applyProjectConfig("dev", withDefault, {}), /configuration key 'key' must be encrypted as it's secret/);
  });

  it("a key without a default must be set; several are named together", () => {
    assert.throws(() => applyProjectConfig("dev", p("  a:\n    type: string\n  b:\n    type: string\n"), {}), /Stack 'dev' is missing configuration values 'a' and 'b'/);
  });

  it("project rules: an array needs items, a default needs its type, default and value exclude each other", () => {
    assert.throws(() => validateProject(p("  xs:\n    type: array\n")), /declares an array but does not specify the underlying type via the 'items' attribute/);
    assert.throws(() => validateProject(p("  n:\n    type: integer\n    default: abc\n")), /default value specified for configuration key 'n' is not of the expected type 'integer'/);
    assert.throws(() => validateProject(p("  n:\n    default: 1\n    value: 2\n")), /cannot have both a 'default' and 'value' attribute/);
  });

  it("ValidateConfigValue on nested arrays and objects", () => {
    assert.equal(validateConfigValue("array", { type: "array", items: { type: "integer" } }, [[1, 2], [3]]), true);
    assert.equal(validateConfigValue("array", { type: "string" }, "[\"a\"]"), false);
    assert.equal(validateConfigValue("object", undefined, { a: 1 }), true);
    assert.equal(validateConfigValue("object", undefined, [1]), false);
  });
});
