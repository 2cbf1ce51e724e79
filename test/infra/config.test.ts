import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import YAML from "yaml";
import { CONFIG_SCHEMA, parseStackConfig } from "../../infra/config-schema.ts";
import { evaluateStack, EXAMPLE_STACKS, readStackFile } from "../../infra/evaluate.ts";

describe("stack config", () => {
  it("Pulumi.yaml's config schema equals infra/config-schema.ts (types, defaults, descriptions)", () => {
    const doc = YAML.parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")) as { config: Record<string, { type: string; default: unknown; description: string; secret?: boolean; items?: { type: string } }> };
    assert.deepEqual(Object.keys(doc.config), Object.keys(CONFIG_SCHEMA));
    for (const [k, s] of Object.entries(CONFIG_SCHEMA)) {
      assert.equal(doc.config[k]!.type, s.type, k);
      assert.deepEqual(doc.config[k]!.default, s.default, k);
      assert.equal(doc.config[k]!.description, s.description, k);
      if (s.type === "array") assert.deepEqual(doc.config[k]!.items, { type: "string" }, k);
      // Every key has a default, and the CLI refuses a `secret: true` key whose value is a (plain) default.
      assert.equal(doc.config[k]!.secret, undefined, `${k}: secret with a default fails every stack that does not set it`);
    }
  });

  it("a secret key stored in plain text is refused by the program (the CLI passes which values are secure)", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    const raw = { "autopilot-serving:gatewayTlsCert": pem, "autopilot-serving:gatewayTlsKey": key, "autopilot-serving:controllerImage": "a/b:1", "autopilot-serving:gatewayApiKeyHashes": `["${"a".repeat(64)}"]` };
    assert.throws(() => parseStackConfig(raw, "t", new Set()), (e: Error) => {
      assert.match(e.message, /field "gatewayTlsKey" has value "\[secret\]" \(stored in plain text in the stack file\); allowed: a value set with `pulumi config set --secret gatewayTlsKey`/);
      assert.doesNotMatch(e.message, /MIIE/);
      return true;
    });
    assert.equal(parseStackConfig(raw, "t", new Set(["autopilot-serving:gatewayTlsKey"])).gatewayTlsKey, key);
  });

  it("every example stack file parses", () => {
    for (const s of EXAMPLE_STACKS) parseStackConfig(readStackFile(s), s);
  });

  const bad: { name: string; raw: Record<string, string>; want: string }[] = [
    { name: "unknown cloud", raw: { "autopilot-serving:cloud": "azure" }, want: `config key "autopilot-serving:cloud": field "cloud" has value "azure"; allowed: local, aws, gcp` },
    { name: "integer out of range", raw: { "autopilot-serving:cpuNodesMax": "0" }, want: `field "cpuNodesMax" has value "0"; allowed: an integer from 1 to 1000` },
    { name: "typo in a key", raw: { "autopilot-serving:gpuNodeMax": "3" }, want: `field "gpuNodeMax" has value "3" (unknown key); allowed: one of the keys cloud, environment` },
    { name: "aws without region", raw: { "autopilot-serving:cloud": "aws", "autopilot-serving:gatewayApiKeyHashes": `["${"a".repeat(64)}"]` }, want: `field "region" has value ""; allowed: a region name (required when cloud is aws)` },
    { name: "GPU machine type of another cloud", raw: { "autopilot-serving:cloud": "aws", "autopilot-serving:region": "us-east-1", "autopilot-serving:gpuMachineType": "a3-highgpu-8g", "autopilot-serving:gatewayApiKeyHashes": `["${"a".repeat(64)}"]` }, want: `field "gpuMachineType" has value "a3-highgpu-8g"; allowed: "" or g4dn.xlarge` },
    { name: "api-key auth without keys", raw: { "autopilot-serving:controllerImage": "x/y:1", "autopilot-serving:localStoreSecretSeed": "0123456789abcdef" }, want: `field "gatewayApiKeys" has value []; allowed: at least one key (here, or a hash in gatewayApiKeyHashes)` },
  ];
  for (const c of bad) {
    it(`refuses: ${c.name}`, () => {
      assert.throws(() => parseStackConfig(c.raw, "t"), (e: Error) => {
        assert.ok(e.message.includes(c.want), `${e.message}\n--- wanted ---\n${c.want}`);
        return true;
      });
    });
  }

  it("a secret value is never echoed in an error", () => {
    assert.throws(() => parseStackConfig({ "autopilot-serving:gatewayTlsKey": "hunter2-not-a-pem" }, "t"), (e: Error) => {
      assert.match(e.message, /field "gatewayTlsKey" has value "\[secret\]"; allowed: a PEM private key/);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  });

  it("gatewayTlsCert and gatewayTlsKey go together", () => {
    assert.throws(() => parseStackConfig({ "autopilot-serving:gatewayTlsCert": "-----BEGIN CERTIFICATE-----x", "autopilot-serving:controllerImage": "a/b:1", "autopilot-serving:localStoreSecretSeed": "0123456789abcdef", "autopilot-serving:gatewayApiKeyHashes": `["${"a".repeat(64)}"]` }, "t"),
      /field "gatewayTlsKey" has value ""; allowed: a PEM value when the other of gatewayTlsCert \/ gatewayTlsKey is set/);
  });

  it("with a certificate and key in config the program creates the TLS and Grafana Secrets", async () => {
    const ev = await evaluateStack("local", { overrides: {
      gatewayTlsCert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      gatewayTlsKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
      grafanaAdminPassword: "correct-horse-battery",
    } });
    const secrets = ev.resources.filter((r) => r.type === "kubernetes:core/v1:Secret").map((r) => r.inputs as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    const tls = secrets.find((s) => s.metadata.name === "gateway-tls")!;
    assert.equal(tls.type, "kubernetes.io/tls");
    assert.equal(tls.metadata.namespace, "autopilot-gateway");
    assert.match(tls.stringData["tls.key"], /BEGIN PRIVATE KEY/);
    assert.equal(secrets.find((s) => s.metadata.name === "grafana-admin")!.stringData["admin-password"], "correct-horse-battery");
  });

  it("without grafanaAdminPassword the program generates one into the Secret the chart's existingSecret names", async () => {
    const ev = await evaluateStack("local", {});
    const generator = ev.resources.find((r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.endsWith("-grafana-admin"));
    assert.ok(generator !== undefined, "a RandomPassword for Grafana's admin");
    assert.equal((generator.inputs as Record<string, unknown>).length, 24);
    const secret = ev.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs as { metadata: { name: string } }).metadata.name === "grafana-admin")!;
    assert.ok(secret.dependencies.includes(generator.urn), "the Secret takes the generated password");
    const data = (secret.inputs as { stringData: Record<string, string> }).stringData;
    assert.ok((data["admin-password"] ?? "").length > 0 && data["admin-user"] === "admin");
    const chart = ev.resources.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name.endsWith("-kube-prometheus-stack"))!;
    assert.deepEqual((chart.inputs as { values: { grafana: { admin: unknown } } }).values.grafana.admin, { existingSecret: "grafana-admin", passwordKey: "admin-password", userKey: "admin-user" });
  });

  it("a bad stack config fails evaluation before any resource is registered", async () => {
    await assert.rejects(evaluateStack("local", { overrides: { cloud: "azure" } }), /field "cloud" has value "azure"; allowed: local, aws, gcp/);
  });
});
