/**
 * Traces on real HAProxy 2.6: W3C `traceparent` accepted or started at the gateway and passed to the pod; the
 * gateway hop's span exported by the OpenTelemetry SDK's OTLP/HTTP exporter to a receiver on loopback (a test
 * double of the collector: an HTTP server that decodes OTLP/HTTP JSON, the exporter's encoding).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { startRequestPipeline, type RequestPipeline } from "../../controller/src/gateway/request-pipeline.ts";
import { GatewaySpanExporter } from "../../controller/src/gateway/span-exporter.ts";
import { LocalDesiredStateSource } from "../../controller/src/local/local-source.ts";
import { call, endpoint, hookBody, startGateway, until, type Gateway } from "./harness.ts";

interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number;
  startTimeUnixNano: string; endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  events?: { name: string }[];
  status?: { code?: number };
}

describe("traces through the gateway", () => {
  let gw: Gateway;
  let pipeline: RequestPipeline;
  let spans: GatewaySpanExporter;
  let receiver: Server;
  const received: OtlpSpan[] = [];
  const contentTypes: string[] = [];
  const P = "/serving-endpoints/ep/invocations";
  const podSaw = async (headers: Record<string, string>): Promise<string> => {
    const r = await call(gw.publicPort, P, { body: hookBody({ echo: true }), headers });
    assert.equal(r.status, 200, r.body);
    return String((JSON.parse(r.body) as { headers: Record<string, string> }).headers["traceparent"]);
  };
  const spanOf = async (traceId: string): Promise<OtlpSpan> => {
    await spans.flush();
    assert.ok(await until(() => received.some((s) => s.traceId === traceId), 5000), `no span of trace ${traceId}; got ${received.map((s) => s.traceId).join(",")}`);
    return received.find((s) => s.traceId === traceId)!;
  };

  before(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        contentTypes.push(String(req.headers["content-type"]));
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    const port = (receiver.address() as { port: number }).port;
    spans = new GatewaySpanExporter({ url: `http://127.0.0.1:${port}/v1/traces`, serviceInstance: "gw-test", scheduledDelayMs: 100 });
    const endpoints = [endpoint("ep")];
    pipeline = await startRequestPipeline({ source: new LocalDesiredStateSource({ endpoints }), consumers: [spans] });
    gw = await startGateway({ endpoints, settings: { logTarget: pipeline.logTarget, traceSampleRate: 1 } });
    pipeline.attach(gw.agent);
    await gw.addPod("ep");
    await gw.agent.cycle();
  });
  after(async () => {
    await gw.stop();
    await pipeline.close();
    await spans.close();
    receiver.close();
  });

  it("an incoming sampled traceparent: same trace, the gateway span is the pod's parent and the caller's child", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const caller = "b7ad6b7169203331";
    const seen = await podSaw({ traceparent: `00-${traceId}-${caller}-01`, tracestate: "vendor=x" });
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen);
    assert.ok(m, `the pod got ${seen}`);
    assert.equal(m[1], traceId);
    assert.notEqual(m[2], caller, "the pod's parent is the gateway span, not the caller's");
    const span = await spanOf(traceId);
    assert.equal(span.spanId, m[2]);
    assert.equal(span.parentSpanId, caller);
    assert.equal(span.kind, 2, "SERVER");
    assert.equal(span.name, "POST /serving-endpoints/ep/invocations");
    const attr = (k: string): unknown => Object.values(span.attributes.find((a) => a.key === k)?.value ?? {})[0];
    assert.equal(attr("http.response.status_code"), 200);
    assert.equal(attr("autopilot.endpoint"), "ep");
    assert.ok(BigInt(span.endTimeUnixNano) >= BigInt(span.startTimeUnixNano));
    assert.ok(Math.abs(Number(BigInt(span.startTimeUnixNano) / 1_000_000n) - Date.now()) < 10_000, "span times are epoch times");
    assert.deepEqual(span.events?.map((e) => e.name), ["request received", "dequeued", "response headers"]);
    assert.match(contentTypes[0] ?? "", /application\/json/);
  });

  it("no traceparent: the gateway starts a trace (sampled at rate 1) and exports its root span", async () => {
    const seen = await podSaw({});
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen);
    assert.ok(m, `the pod got ${seen}`);
    const span = await spanOf(m[1]!);
    assert.equal(span.spanId, m[2]);
    assert.equal(span.parentSpanId ?? "", "", "a root span");
  });

  it("an unsampled caller's trace is passed on unsampled and not exported; an invalid one is replaced", async () => {
    const traceId = "11111111111111111111111111111111";
    const seen = await podSaw({ traceparent: `00-${traceId}-2222222222222222-00` });
    assert.match(seen, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    const invalid = await podSaw({ traceparent: "00-00000000000000000000000000000000-2222222222222222-01" });
    assert.doesNotMatch(invalid, /^00-0{32}-/);
    assert.match(invalid, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await spans.flush();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received.filter((s) => s.traceId === traceId).length, 0, "the unsampled trace exported nothing");
  });
});
