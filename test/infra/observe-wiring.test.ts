/**
 * The observability wiring as rendered: the gateway agent's flags and environment (collector URL, trace
 * sampling, payload-log bucket), the collector's fixed Service name, and the ServingEndpoint's payload-logging
 * field through the CRD schema (with the CEL rule) and the component's declaration check.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { agentArgs, agentEnv } from "../../components/gateway/gateway-contract.ts";
import { buildGatewayObjects } from "../../components/gateway/gateway-spec.ts";
import { OTEL_TRACES_URL } from "../../components/observability/observability.ts";
import { checkDeclaration } from "../../components/validate-endpoints.ts";
import { validateServingEndpoint } from "../../controller/src/contract/crd/index.ts";
import { loadAgentConfig } from "../../controller/src/gateway/agent-config.ts";

const layout = { publicPort: 8080, metricsPort: 8405, healthPort: 8081, workDir: "/var/run/gateway", apiKeysFile: "/etc/gateway/auth/api-keys.json", gatewayReplicas: 2 };

test("agent args with a collector, trace sampling and payload logs parse as the agent's own config", () => {
  const args = agentArgs("dist/controller/src/gateway/agent-main.js", { ...layout, otlpEndpoint: OTEL_TRACES_URL, traceSampleRate: 0.05, payloadLog: { sink: "s3", region: "eu-west-1" } });
  const env = Object.fromEntries(agentEnv("models-bucket-123").filter((e) => e.value !== undefined).map((e) => [e.name, String(e.value)]));
  const cfg = loadAgentConfig(args.slice(1), env);
  assert.equal(cfg.otlpEndpoint, OTEL_TRACES_URL);
  assert.match(OTEL_TRACES_URL, /^http:\/\/otel-collector\.[a-z0-9-]+\.svc:4318\/v1\/traces$/);
  assert.equal(cfg.traceSampleRate, 0.05);
  assert.equal(cfg.payloadLogBucket, "models-bucket-123");
  assert.equal(cfg.payloadLogRegion, "eu-west-1");
  assert.equal(cfg.payloadLogPrefix, "payload-logs");
  const plain = loadAgentConfig(agentArgs("x", layout).slice(1), {});
  assert.equal(plain.otlpEndpoint, undefined);
  assert.equal(plain.payloadLogBucket, undefined, "no bucket: payload logging off");
  assert.throws(() => loadAgentConfig(["--trace-sample-rate", "2"], {}), /trace-sample-rate/);
});

test("the gateway Deployment's agent container carries the env (pod name, bucket)", () => {
  const objs = buildGatewayObjects({ agentImage: "img@sha256:0", agentArgs: agentArgs("x", layout), agentEnv: agentEnv("b"), tlsSecret: "tls", replicasMin: 2, replicasMax: 4 }, "[]");
  const dep = objs.find((o) => o.kind === "Deployment") as { spec: { template: { spec: { containers: { name: string; env?: { name: string }[] }[] } } } };
  const agent = dep.spec.template.spec.containers.find((c) => c.name === "gateway-agent")!;
  assert.deepEqual(agent.env?.map((e) => e.name), ["POD_NAME", "GW_PAYLOAD_LOG_BUCKET"]);
});

test("spec.payloadLogging: accepted, defaulted, and bad values refused with the field named", () => {
  const se = (payloadLogging: unknown) => ({
    apiVersion: "serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint", metadata: { name: "fraud", namespace: "ep-fraud" },
    spec: { model: { uri: "s3://models/fraud/3", flavor: "sklearn" }, computePool: "cpu", concurrency: { min: 1, max: 8 }, replicas: { min: 1, max: 10 }, payloadLogging },
  });
  const ok = validateServingEndpoint(se({ sampleRate: 0.1, redactFields: ["ssn"] }));
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.equal((ok as { value: { spec: { payloadLogging: { maxBodyBytes: number } } } }).value.spec.payloadLogging.maxBodyBytes, 8192);
  for (const [bad, field] of [[{ sampleRate: 0 }, "sampleRate"], [{ sampleRate: 2 }, "sampleRate"], [{ sampleRate: 0.5, maxBodyBytes: 100000 }, "maxBodyBytes"], [{}, "sampleRate"]] as const) {
    const r = validateServingEndpoint(se(bad));
    assert.equal(r.ok, false, JSON.stringify(bad));
    assert.ok(JSON.stringify(r).includes(field), `${JSON.stringify(bad)} → ${JSON.stringify(r)}`);
  }
});

test("declaration check: payloadLogging fields named in errors", () => {
  const decl = {
    name: "fraud", model: { flavor: "sklearn" as const }, computePool: "cpu", concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 },
    versions: [{ version: "v1", digest: `sha256:${"a".repeat(64)}`, weight: 100 }],
  };
  assert.deepEqual(checkDeclaration({ ...decl, payloadLogging: { sampleRate: 0.1, redactFields: ["ssn"] } }, ["cpu"]), []);
  const errs = checkDeclaration({ ...decl, payloadLogging: { sampleRate: 0, maxBodyBytes: 99999, colour: "red" } as never }, ["cpu"]);
  const text = JSON.stringify(errs);
  for (const f of ["payloadLogging.sampleRate", "payloadLogging.maxBodyBytes", "payloadLogging.colour"]) assert.ok(text.includes(f), `${f} in ${text}`);
});
