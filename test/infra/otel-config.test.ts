/**
 * The OpenTelemetry collector's config as the program renders it (the chart's `alternateConfig`, which the chart
 * writes out unchanged): validated by `otelcol validate` of a collector built from the same components with the
 * collector's own builder (tools/go-tools/build.ts), for every example stack and with a trace backend configured;
 * then run for real — the gateway agent's span exporter → the collector's OTLP receiver → the configured
 * OTLP/HTTP exporter → a TEST DOUBLE of a tracing backend on loopback, which sees the span and the secret header.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { exportHeaderEnv, OTEL_EXPORT_HEADERS_SECRET } from "../../components/observability/otel-config.ts";
import { parseStackConfig } from "../../infra/config-schema.ts";
import { evaluateStack, type StackEvaluation } from "../../infra/evaluate.ts";
import { parseRequestLine } from "../../controller/src/gateway/request-log.ts";
import { GatewaySpanExporter } from "../../controller/src/gateway/span-exporter.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requireGoTool } from "../../tools/go-tools/build.ts";
import { endpoint } from "../gateway/harness.ts";
import { evaluated, kubeObjects, ofType, type Obj } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "otel-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const otelValues = (ev: StackEvaluation): Obj => {
  const charts = ofType(ev, "kubernetes:helm.sh/v4:Chart").filter((c) => c.inputs.chart === "opentelemetry-collector");
  assert.equal(charts.length, 1);
  return charts[0]!.inputs.values as Obj;
};
/** `otelcol validate` on a config; returns its status and output. */
const validate = (config: Obj, name: string): { status: number | null; out: string } => {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  const r = spawnSync(requireGoTool("otelcol-autopilot"), ["validate", `--config=${file}`], { encoding: "utf8", env: { ...process.env, MY_POD_IP: "127.0.0.1" } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};
const BACKEND = {
  tracesExporterEndpoint: "https://otlp.tracing-vendor.example:4318",
  tracesExporterHeaders: JSON.stringify({ authorization: "Bearer vendor-key-123", "x-scope-orgid": "tenant-a" }),
};

describe("collector config: otelcol validate on the rendered config", () => {
  for (const stack of ["local", "staging-aws", "prod-gcp"]) {
    it(`${stack}: valid; traces to the debug exporter when no backend is configured`, async () => {
      const values = otelValues(await evaluated(stack));
      const cfg = values.alternateConfig as Obj;
      assert.deepEqual(cfg.service.pipelines, { traces: { receivers: ["otlp"], processors: ["memory_limiter", "batch"], exporters: ["debug"] } });
      const r = validate(cfg, stack);
      assert.equal(r.status, 0, r.out);
    });
  }

  it("with a backend over OTLP/HTTP: the otlphttp exporter, headers from the Secret via env, valid", async () => {
    const ev = await evaluateStack("staging-aws", { overrides: BACKEND });
    const values = otelValues(ev);
    const cfg = values.alternateConfig as Obj;
    assert.deepEqual(cfg.exporters, { "otlphttp/traces": { endpoint: BACKEND.tracesExporterEndpoint, headers: { authorization: `\${env:${exportHeaderEnv(0)}}`, "x-scope-orgid": `\${env:${exportHeaderEnv(1)}}` } } });
    assert.ok(!JSON.stringify(values).includes("vendor-key-123"), "no header value in the chart values");
    assert.deepEqual(values.extraEnvs, [0, 1].map((i) => ({ name: exportHeaderEnv(i), valueFrom: { secretKeyRef: { name: OTEL_EXPORT_HEADERS_SECRET, key: `header-${i}` } } })));
    const secret = kubeObjects(ev).map((o) => o.obj).find((o) => o.kind === "Secret" && o.metadata.name === OTEL_EXPORT_HEADERS_SECRET)!;
    assert.deepEqual(secret.stringData, { "header-0": "Bearer vendor-key-123", "header-1": "tenant-a" });
    const r = validate(cfg, "http-backend");
    assert.equal(r.status, 0, r.out);
  });

  it("with a backend over OTLP/gRPC (in-cluster Jaeger, plain text): the otlp exporter with tls.insecure, valid", async () => {
    const ev = await evaluateStack("prod-gcp", { overrides: { tracesExporterEndpoint: "http://jaeger-collector.jaeger.svc:4317", tracesExporterProtocol: "grpc" } });
    const cfg = otelValues(ev).alternateConfig as Obj;
    assert.deepEqual(cfg.exporters, { "otlp/traces": { endpoint: "http://jaeger-collector.jaeger.svc:4317", tls: { insecure: true } } });
    const r = validate(cfg, "grpc-backend");
    assert.equal(r.status, 0, r.out);
  });

  it("the validator bites: a misspelt exporter setting and a pipeline naming a missing exporter are refused", async () => {
    const cfg = otelValues(await evaluateStack("staging-aws", { overrides: BACKEND })).alternateConfig as Obj;
    const typo = structuredClone(cfg);
    typo.exporters["otlphttp/traces"].endpiont = typo.exporters["otlphttp/traces"].endpoint;
    const r1 = validate(typo, "typo");
    assert.notEqual(r1.status, 0);
    assert.match(r1.out, /endpiont/);
    const missing = structuredClone(cfg);
    missing.service.pipelines.traces.exporters = ["otlp/tempo"];
    const r2 = validate(missing, "missing");
    assert.notEqual(r2.status, 0);
    assert.match(r2.out, /otlp\/tempo/);
  });

  it("stack config errors name the key: headers without an endpoint, bad headers, a gRPC endpoint with a path, no collector", () => {
    const base = { "autopilot-serving:controllerImage": "img:1", "autopilot-serving:localStoreSecretSeed": "s".repeat(16), "autopilot-serving:gatewayApiKeyHashes": JSON.stringify(["a".repeat(64)]) };
    const secret = new Set(["autopilot-serving:tracesExporterHeaders", "autopilot-serving:localStoreSecretSeed"]);
    const parse = (over: Record<string, string>) => parseStackConfig({ ...base, ...Object.fromEntries(Object.entries(over).map(([k, v]) => [`autopilot-serving:${k}`, v])) }, "t", secret);
    assert.equal(parse({}).tracesExporterEndpoint, "");
    assert.deepEqual(parse(BACKEND).tracesExporterHeaders, { authorization: "Bearer vendor-key-123", "x-scope-orgid": "tenant-a" });
    assert.throws(() => parse({ tracesExporterHeaders: BACKEND.tracesExporterHeaders }), /tracesExporterHeaders.*when tracesExporterEndpoint is empty/s);
    assert.throws(() => parse({ ...BACKEND, tracesExporterHeaders: '{"bad header":"x"}' }), /tracesExporterHeaders.*JSON object of HTTP header names/s);
    assert.throws(() => parse({ tracesExporterEndpoint: "http://tempo:4317/v1/traces", tracesExporterProtocol: "grpc" }), /tracesExporterEndpoint.*without a path/s);
    assert.throws(() => parse({ tracesExporterEndpoint: "ftp://tempo" }), /tracesExporterEndpoint.*http\(s\):\/\/host/s);
    assert.throws(() => parse({ tracesExporterProtocol: "thrift" }), /tracesExporterProtocol.*http, grpc/s);
    assert.throws(() => parse({ ...BACKEND, observability: "false" }), /tracesExporterEndpoint.*observability is false/s);
  });
});

describe("collector config: run for real, agent spans reach the configured backend", () => {
  it("gateway span → collector (rendered config) → OTLP/HTTP exporter → backend TEST DOUBLE, with the header", async () => {
    const got: { path: string; auth: string | undefined; body: Buffer }[] = [];
    const backend = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        // The otlphttp exporter gzips its requests by default.
        got.push({ path: req.url ?? "", auth: req.headers.authorization, body: req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    const backendPort = await freePort();
    await new Promise<void>((r) => backend.listen(backendPort, "127.0.0.1", r));
    const ev = await evaluateStack("local", { overrides: { tracesExporterEndpoint: `http://127.0.0.1:${backendPort}`, tracesExporterHeaders: JSON.stringify({ authorization: "Bearer k-1" }) } });
    const secret = kubeObjects(ev).map((o) => o.obj).find((o) => o.kind === "Secret" && o.metadata.name === OTEL_EXPORT_HEADERS_SECRET)!;
    // The rendered config, its fixed container ports moved to free loopback ports (nothing else changed).
    const [grpc, http, health] = [await freePort(), await freePort(), await freePort()];
    const text = stringify(otelValues(ev).alternateConfig).replace(":4317", `:${grpc}`).replace(":4318", `:${http}`).replace(":13133", `:${health}`);
    writeFileSync(join(dir, "run.yaml"), text);
    let log = "";
    const col = spawn(requireGoTool("otelcol-autopilot"), [`--config=${join(dir, "run.yaml")}`], {
      env: { ...process.env, MY_POD_IP: "127.0.0.1", [exportHeaderEnv(0)]: String(secret.stringData["header-0"]) }, stdio: ["ignore", "pipe", "pipe"],
    });
    col.stderr?.on("data", (d: Buffer) => { log += d.toString(); });
    try {
      for (let i = 0; ; i++) {
        const ok = await fetch(`http://127.0.0.1:${health}/`).then((r) => r.ok, () => false);
        if (ok) break;
        if (i > 150 || col.exitCode !== null) throw new Error(`collector not healthy: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const spans = new GatewaySpanExporter({ url: `http://127.0.0.1:${http}/v1/traces`, serviceInstance: "gw-test", scheduledDelayMs: 50 });
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const rec = parseRequestLine(`apgw1 ${Date.now()} 0 0 r-1 iris POST invocations be_iris pod-a 200 0 0 1 20 0 21 ---- 100 100 k-1 ${traceId} - b7ad6b7169203331 01 - - -`)!;
      spans.consume(rec, endpoint("iris"), "v1");
      await spans.close();
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(got.length > 0, `the backend got nothing: ${log}`);
      assert.equal(got[0]!.path, "/v1/traces");
      assert.equal(got[0]!.auth, "Bearer k-1");
      assert.ok(got[0]!.body.includes(Buffer.from(traceId, "hex")), "the exported batch carries the gateway span's trace id");
    } finally {
      col.kill("SIGTERM");
      if (col.exitCode === null) await new Promise((r) => col.once("exit", r));
      backend.close();
    }
  });
});
