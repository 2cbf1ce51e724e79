/**
 * The payload log's other sinks and the agent's choice of sink:
 * - GCS: the agent's `PayloadLogger` with the GCS sink (Google's client library, JSON API) against
 *   fake-gcs-server (github.com/fsouza/fake-gcs-server, built from its Go module by tools/go-tools/build.ts) on
 *   loopback; objects read back through the same API; writes are create-only;
 * - file: `npm run dev`'s sink, the same layout on disk, read back with DuckDB (hive partitions);
 * - `--payload-log-sink` with its bucket / directory, and the config errors.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { loadAgentConfig, payloadLoggingOn } from "../../controller/src/gateway/agent-config.ts";
import { PayloadLogger } from "../../controller/src/gateway/payload-logger.ts";
import { filePayloadSink } from "../../controller/src/gateway/payload-sink-file.ts";
import { gcsPayloadSink } from "../../controller/src/gateway/payload-sink-gcs.ts";
import { payloadSinkOf } from "../../controller/src/gateway/payload-sinks.ts";
import { parseRequestLine, type RequestRecord } from "../../controller/src/gateway/request-log.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requireGoTool } from "../../tools/go-tools/build.ts";
import { endpoint } from "./harness.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const record = (id: string, ms: number): RequestRecord =>
  parseRequestLine(
    `apgw1 ${ms} 0 0 ${id} fraud POST invocations be_fraud pod1 200 0 3 0 40 1 44 ---- 300 200 k-1 ` +
      `0af7651916cd43dd8448eb211c80319c - b7ad6b7169203331 01 ${b64('{"card_number":"4111","amount":12}')} ${b64('{"predictions":[0]}')} application%2Fjson`,
  )!;
const fraud = endpoint("fraud", { payloadLog: { sampleRate: 1, maxBodyBytes: 8192, redactFields: ["card_number"] } });
const AT = Date.UTC(2026, 11, 3, 13, 4, 5);
const manual = () => () => undefined;

describe("GCS sink against fake-gcs-server on loopback", () => {
  let server: ChildProcess;
  let url = "";
  let log = "";
  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(requireGoTool("fake-gcs-server"), ["-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory", "-public-host", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    server.stdout?.on("data", (d: Buffer) => { log += d.toString(); });
    server.stderr?.on("data", (d: Buffer) => { log += d.toString(); });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/storage/v1/b`, { signal: AbortSignal.timeout(1000) })).ok) break;
      } catch { /* not up yet */ }
      if (i > 150 || server.exitCode !== null) throw new Error(`fake-gcs-server did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await gcsPayloadSink({ bucket: "payloads", endpoint: url }).storage.createBucket("payloads");
  });
  after(() => { server?.kill("SIGTERM"); });

  it("the logger's batches land as JSONL objects under payload-logs/endpoint=…/date=…/hour=…, redacted", async () => {
    const sink = gcsPayloadSink({ bucket: "payloads", endpoint: url });
    const logger = new PayloadLogger({ sink, writer: "gateway-7d9f-abc", setInterval: manual });
    for (let i = 1; i <= 3; i++) logger.consume(record(`r-${i}`, AT + i), fraud, "v3");
    await logger.close();
    assert.deepEqual(logger.stats, { ...logger.stats, rows: 3, objects: 1, writeErrors: 0, dropped: 0 });
    const [files] = await sink.storage.bucket("payloads").getFiles({ prefix: "payload-logs/" });
    assert.deepEqual(files.map((f) => f.name), [`payload-logs/endpoint=fraud/date=2026-12-03/hour=13/gateway-7d9f-abc-${AT + 1}-000001.jsonl`]);
    const [body] = await files[0]!.download();
    const rows = body.toString().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(rows.map((r) => [r["request_id"], r["version"], JSON.parse(String(r["request_body"]))]), [1, 2, 3].map((i) => [`r-${i}`, "v3", { card_number: "[REDACTED]", amount: 12 }]));
    assert.equal(files[0]!.metadata.contentType, "application/x-ndjson");
  });

  it("writes are create-only: the same key twice is refused, never overwritten", async () => {
    const sink = gcsPayloadSink({ bucket: "payloads", endpoint: url });
    await sink.put("payload-logs/once.jsonl", Buffer.from("{}\n"));
    await assert.rejects(sink.put("payload-logs/once.jsonl", Buffer.from('{"x":1}\n')), (e: Error & { code?: number }) => e.code === 412);
    const [body] = await sink.storage.bucket("payloads").file("payload-logs/once.jsonl").download();
    assert.equal(body.toString(), "{}\n");
  });

  it("a missing bucket is a write error the logger counts and keeps the batch for", async () => {
    const logger = new PayloadLogger({ sink: gcsPayloadSink({ bucket: "no-such-bucket", endpoint: url }), writer: "gw", setInterval: manual });
    logger.consume(record("r-9", AT), fraud, "v3");
    await logger.flush();
    assert.equal(logger.stats.writeErrors, 1);
    assert.ok(logger.bufferedBytes > 0, "kept for the next flush");
  });
});

test("file sink (npm run dev): the same layout on disk, atomically written, read back with DuckDB", async () => {
  const dir = mkdtempSync(join(tmpdir(), "payload-file-"));
  try {
    const logger = new PayloadLogger({ sink: filePayloadSink(dir), writer: "dev", setInterval: manual });
    logger.consume(record("r-1", AT), fraud, "v3");
    logger.consume(record("r-2", AT + 3_600_000), fraud, "v4");
    await logger.close();
    const hourDirs = readdirSync(join(dir, "payload-logs", "endpoint=fraud", "date=2026-12-03")).sort();
    assert.deepEqual(hourDirs, ["hour=13", "hour=14"]);
    const files = readdirSync(join(dir, "payload-logs", "endpoint=fraud", "date=2026-12-03", "hour=13"));
    assert.deepEqual(files.filter((f) => f.includes(".tmp-")), [], "no temporary file left");
    assert.match(readFileSync(join(dir, "payload-logs", "endpoint=fraud", "date=2026-12-03", "hour=13", files[0]!), "utf8"), /"request_id":"r-1"/);
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    const reader = await c.runAndReadAll(`SELECT request_id, endpoint, hour::VARCHAR AS hour, version FROM read_json_auto('${dir}/payload-logs/*/*/*/*.jsonl', hive_partitioning = true) ORDER BY request_id`);
    assert.deepEqual(reader.getRowObjectsJson(), [{ request_id: "r-1", endpoint: "fraud", hour: "13", version: "v3" }, { request_id: "r-2", endpoint: "fraud", hour: "14", version: "v4" }]);
    c.closeSync();
    await assert.rejects(filePayloadSink(dir).put("../outside.jsonl", Buffer.from("x")), /leaves/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--payload-log-sink chooses the sink; bucket or directory turns logging on; mismatches are refused by name", () => {
  const cfg = (argv: string[]) => loadAgentConfig(argv, {});
  assert.equal(payloadLoggingOn(cfg([])), false);
  assert.equal(payloadSinkOf(cfg([])), undefined);
  const s3 = cfg(["--payload-log-bucket", "models-1"]);
  assert.equal(s3.payloadLogSink, "s3");
  assert.ok(payloadLoggingOn(s3) && "client" in payloadSinkOf(s3)!);
  const gcs = cfg(["--payload-log-sink", "gcs", "--payload-log-bucket", "models_1"]);
  assert.ok(payloadLoggingOn(gcs) && "storage" in payloadSinkOf(gcs)!);
  const file = cfg(["--payload-log-sink", "file", "--payload-log-dir", "/tmp/payloads"]);
  assert.ok(payloadLoggingOn(file) && (payloadSinkOf(file) as unknown as { dir: string }).dir === "/tmp/payloads");
  assert.equal(payloadLoggingOn(cfg(["--payload-log-sink", "file"])), false);
  assert.throws(() => cfg(["--payload-log-sink", "file", "--payload-log-bucket", "models-1"]), /--payload-log-bucket .*"models-1".*--payload-log-dir/);
  assert.throws(() => cfg(["--payload-log-dir", "/tmp/p"]), /--payload-log-dir .*only with --payload-log-sink file/);
  assert.throws(() => cfg(["--payload-log-sink", "azure"]), /payload-log-sink.*azure/);
});
