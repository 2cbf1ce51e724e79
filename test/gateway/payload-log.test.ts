/**
 * Payload logging (inference tables): rows, redaction and batching as units; then end to end on real HAProxy 2.6
 * with an S3-compatible server on loopback (moto), the records read back with DuckDB over S3 (httpfs).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it, test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { PayloadLogger, type PayloadSink } from "../../controller/src/gateway/payload-logger.ts";
import { objectKey, partitionOf, payloadRow, recordBody, REDACTED } from "../../controller/src/gateway/payload-record.ts";
import { s3PayloadSink } from "../../controller/src/gateway/payload-sink-s3.ts";
import { MAX_PAYLOAD_BODY_BYTES } from "../../controller/src/gateway/render-observe.ts";
import { parseRequestLine, type RequestRecord } from "../../controller/src/gateway/request-log.ts";
import { startRequestPipeline, type RequestPipeline } from "../../controller/src/gateway/request-pipeline.ts";
import type { GatewayEndpoint } from "../../controller/src/gateway/types.ts";
import { LocalDesiredStateSource } from "../../controller/src/local/local-source.ts";
import { call, endpoint, hookBody, startGateway, until, type Gateway } from "./harness.ts";
import { httpfsExtensionPath, startS3Server, type S3Server } from "./s3-server.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const line = (o: { req?: string; res?: string; type?: string; ms?: number }): RequestRecord =>
  parseRequestLine(
    `apgw1 ${o.ms ?? Date.UTC(2026, 0, 2, 13, 4, 5)} 0 0 rid-1 ep POST invocations be_ep pod1 200 0 3 0 40 1 44 ---- 300 200 k-1 ` +
      `0af7651916cd43dd8448eb211c80319c - b7ad6b7169203331 01 ${o.req ?? "-"} ${o.res ?? "-"} ${o.type ?? "-"}`,
  )!;
const ep = (over: Partial<GatewayEndpoint["payloadLog"]> = {}): GatewayEndpoint =>
  endpoint("ep", { payloadLog: { sampleRate: 1, maxBodyBytes: 64, redactFields: ["ssn", "token"], ...over } });

test("rows: bodies decoded, fields redacted at any depth, partition and key by UTC hour", () => {
  const r = line({ req: b64(JSON.stringify({ inputs: [{ ssn: "123-45-6789", age: 40 }], params: { token: "t" } })), res: b64('{"predictions":[1]}'), type: "application%2Fjson" });
  const row = payloadRow(r, ep({ maxBodyBytes: 8192 }), "v1")!;
  assert.deepEqual(JSON.parse(row.request_body!), { inputs: [{ ssn: REDACTED, age: 40 }], params: { token: REDACTED } });
  assert.equal(row.response_body, '{"predictions":[1]}');
  assert.deepEqual(
    { id: row.request_id, ts: row.timestamp, status: row.status, latency: row.latency_ms, queue: row.queue_ms, service: row.service_ms, version: row.version, trace: row.trace_id, type: row.response_content_type },
    { id: "rid-1", ts: "2026-01-02T13:04:05.000Z", status: 200, latency: 44, queue: 3, service: 41, version: "v1", trace: "0af7651916cd43dd8448eb211c80319c", type: "application/json" },
  );
  assert.equal(partitionOf("ep", row.timestamp_ms), "endpoint=ep/date=2026-01-02/hour=13");
  assert.equal(objectKey("payload-logs/", "endpoint=ep/date=2026-01-02/hour=13", "gw-0", 5, 7), "payload-logs/endpoint=ep/date=2026-01-02/hour=13/gw-0-5-000007.jsonl");
  assert.equal(payloadRow(line({}), ep(), "v1"), undefined, "an unsampled request has no row");
});

test("a body cut at the cap cannot be redacted, so it is not recorded; without redaction it is kept, marked truncated", () => {
  const cut = Buffer.from('{"ssn":"123-45-6789","x":"'.padEnd(64, "a"));
  assert.deepEqual(recordBody(cut, 64, new Set(["ssn"])), { body: null, truncated: true, omitted: "unredactable" });
  assert.deepEqual(recordBody(cut, 64, new Set()), { body: cut.toString(), truncated: true, omitted: null });
  assert.deepEqual(recordBody(Buffer.from("not json"), 64, new Set(["ssn"])), { body: null, truncated: false, omitted: "unredactable" });
  const streamed = payloadRow(line({ req: b64("{}"), type: "text%2Fevent-stream" }), ep(), "v1")!;
  assert.equal(streamed.response_body_omitted, "event-stream");
});

test("bounded memory: a sink that is down keeps batches up to the bound, drops (and counts) the rest, then catches up", async () => {
  let up = false;
  const written: string[] = [];
  const sink: PayloadSink = { put: async (key) => { if (!up) throw new Error("connection refused"); written.push(key); } };
  const logger = new PayloadLogger({ sink, writer: "gw-0", maxBufferedBytes: 4096, setInterval: () => () => undefined });
  const r = line({ req: b64('{"inputs":[[1,2]]}'), res: b64('{"predictions":[1]}') });
  for (let i = 0; i < 100; i++) logger.consume(r, ep(), "v1");
  assert.ok(logger.stats.rows > 0 && logger.stats.dropped > 0, JSON.stringify(logger.stats));
  assert.equal(logger.stats.rows + logger.stats.dropped, 100);
  assert.ok(logger.bufferedBytes <= 4096);
  await logger.flush();
  assert.equal(logger.stats.writeErrors, 1);
  assert.equal(written.length, 0);
  up = true;
  await logger.close();
  assert.equal(written.length, 1, "the kept batch is written once the sink is back (close flushes)");
  assert.equal(logger.bufferedBytes, 0);
});

describe("payload logs end to end: real HAProxy → agent → S3 (moto) → DuckDB", () => {
  let gw: Gateway;
  let s3: S3Server;
  let pipeline: RequestPipeline;
  let logger: PayloadLogger;
  const BUCKET = "env-bucket";
  before(async () => {
    s3 = await startS3Server();
    await s3.createBucket(BUCKET);
    logger = new PayloadLogger({
      sink: s3PayloadSink({ bucket: BUCKET, region: "us-east-1", endpoint: s3.endpoint, credentials: s3.credentials }),
      writer: "gw-test",
      flushIntervalMs: 3_600_000,
    });
    const endpoints = [
      endpoint("logged", { payloadLog: { sampleRate: 1, maxBodyBytes: 256, redactFields: ["ssn"] } }),
      endpoint("plain"),
      endpoint("big", { payloadLog: { sampleRate: 1, maxBodyBytes: MAX_PAYLOAD_BODY_BYTES } }),
    ];
    pipeline = await startRequestPipeline({ source: new LocalDesiredStateSource({ endpoints }), consumers: [logger] });
    gw = await startGateway({ endpoints, settings: { logTarget: pipeline.logTarget } });
    pipeline.attach(gw.agent);
    await gw.addPod("logged");
    await gw.addPod("plain");
    await gw.addPod("big");
    await gw.agent.cycle();
  });
  after(async () => {
    await gw?.stop();
    await pipeline?.close();
    await s3?.stop();
  });

  it("zero cost when off: only the opted-in endpoint's backend has capture rules", () => {
    const cfg = readFileSync(`${gw.dir}/haproxy.cfg`, "utf8");
    const section = (name: string): string => cfg.slice(cfg.indexOf(`backend be_${name}`)).split("\n\n")[0]!;
    assert.match(section("logged"), /set-var\(txn\.plog\) bool\(true\)/);
    assert.match(section("logged"), /http-response wait-for-body time 1000ms at-least 256/);
    assert.doesNotMatch(section("plain"), /plog|http-response wait-for-body/);
  });

  it("records are read back with DuckDB from the bucket, partitioned endpoint/date/hour, redacted and capped", async () => {
    const big = JSON.stringify({ inputs: [[1, 2]], params: { ssn: "999-99-9999", pad: "x".repeat(600) } });
    const sent = [
      await call(gw.publicPort, "/serving-endpoints/logged/invocations", { body: JSON.stringify({ inputs: [[1, 2]], params: { ssn: "123-45-6789", echo: true } }), headers: { "x-request-id": "p-1" } }),
      await call(gw.publicPort, "/serving-endpoints/logged/invocations", { body: big, headers: { "x-request-id": "p-2" } }),
      await call(gw.publicPort, "/serving-endpoints/logged/invocations", { body: hookBody({ status: 500 }), headers: { "x-request-id": "p-3" } }),
      await call(gw.publicPort, "/serving-endpoints/plain/invocations", { headers: { "x-request-id": "p-4" } }),
    ];
    assert.deepEqual(sent.map((s) => s.status), [200, 200, 500, 200]);
    // The largest capture HAProxy can log: a 13,000-byte body is kept to its first 12,000 bytes.
    const large = JSON.stringify({ inputs: [[1, 2]], params: { pad: "y".repeat(13_000) } });
    assert.equal((await call(gw.publicPort, "/serving-endpoints/big/invocations", { body: large, headers: { "x-request-id": "p-5" } })).status, 200);
    assert.ok(await until(() => logger.stats.rows >= 4, 3000), `rows ${JSON.stringify(logger.stats)}`);
    await new Promise((r) => setTimeout(r, 100));
    await logger.close(); // what shutdown does: everything buffered is written
    assert.equal(logger.stats.rows, 4, "the endpoint without payload logging wrote nothing");
    assert.ok(logger.stats.objects >= 1 && logger.stats.dropped === 0, JSON.stringify(logger.stats));

    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    await c.run(`LOAD '${httpfsExtensionPath()}'`);
    await c.run(`CREATE SECRET s3test (TYPE S3, KEY_ID 'test', SECRET 'test', REGION 'us-east-1', ENDPOINT '127.0.0.1:${s3.port}', URL_STYLE 'path', USE_SSL false)`);
    const reader = await c.runAndReadAll(
      `SELECT request_id, endpoint, date::VARCHAR AS date, hour::VARCHAR AS hour, status, request_body, request_body_truncated, request_body_omitted, response_body, latency_ms, version
       FROM read_json_auto('s3://${BUCKET}/payload-logs/*/*/*/*.jsonl', hive_partitioning = true) ORDER BY request_id`,
    );
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    const bigRow = rows.find((r) => r["request_id"] === "p-5");
    assert.equal(String(bigRow?.["request_body"]).length, MAX_PAYLOAD_BODY_BYTES);
    assert.equal(bigRow?.["request_body_truncated"], true);
    rows.splice(rows.indexOf(bigRow!), 1);
    assert.deepEqual(rows.map((r) => r["request_id"]), ["p-1", "p-2", "p-3"]);
    const now = new Date().toISOString();
    for (const r of rows) {
      assert.equal(r["endpoint"], "logged");
      assert.equal(r["date"], now.slice(0, 10));
      assert.match(String(r["hour"]), /^\d{1,2}$/);
      assert.ok(Number(r["latency_ms"]) >= 0);
      assert.equal(r["version"], "default");
    }
    const first = rows[0]!;
    assert.deepEqual(JSON.parse(String(first["request_body"])).params, { ssn: REDACTED, echo: true });
    assert.match(String(first["response_body"]), /"predictions"/);
    assert.equal(rows[1]!["request_body"], null, "cut at 256 bytes, so it could not be redacted: left out");
    assert.equal(rows[1]!["request_body_omitted"], "unredactable");
    assert.equal(rows[1]!["request_body_truncated"], true);
    assert.equal(Number(rows[2]!["status"]), 500);
  });
});
