/**
 * Payload logging, the batching shell: rows of sampled requests (payload-record.ts) are grouped per partition
 * (endpoint/date/hour) and written as JSONL objects through a `PayloadSink` (S3, or any S3-compatible store)
 * every `flushIntervalMs` or once a batch reaches `maxObjectBytes`. Memory is bounded: at most
 * `maxBufferedBytes` of rows wait (a failed write keeps its batch for the next try); past that new rows are
 * dropped and counted, never blocking the request path (which is HAProxy's, not this process's, anyway).
 * `close()` writes what is left.
 */
import type { Registry } from "prom-client";
import { Counter, Gauge } from "prom-client";
import { objectKey, partitionOf, payloadRow } from "./payload-record.ts";
import type { RequestRecord } from "./request-log.ts";
import type { RecordConsumer } from "./request-pipeline.ts";
import type { GatewayEndpoint } from "./types.ts";

/** Where batches go. */
export interface PayloadSink {
  /** Writes one object; rejects on failure (the batch is kept and retried). */
  put(key: string, body: Buffer): Promise<void>;
}

export interface PayloadLoggerOptions {
  readonly sink: PayloadSink;
  /** Key prefix inside the bucket. @default "payload-logs" */
  readonly prefix?: string;
  /** Names this writer in object keys (the gateway pod name). */
  readonly writer: string;
  /** @default 10000 */
  readonly flushIntervalMs?: number;
  /** A batch reaching this size is written at once. @default 4 MiB */
  readonly maxObjectBytes?: number;
  /** Rows waiting (all partitions) above this are dropped. @default 16 MiB */
  readonly maxBufferedBytes?: number;
  readonly registry?: Registry;
  readonly log?: (message: string) => void;
  /** Timers, injected. @default setInterval */
  readonly setInterval?: (fn: () => void, ms: number) => () => void;
}

interface Batch {
  lines: string[];
  bytes: number;
  firstAtMs: number;
}

export class PayloadLogger implements RecordConsumer {
  readonly #o: PayloadLoggerOptions;
  readonly #batches = new Map<string, Batch>();
  #buffered = 0;
  #seq = 0;
  #flushing: Promise<void> = Promise.resolve();
  readonly #stopTimer: () => void;
  /** Counters, also exported as Prometheus metrics when a registry is given. */
  readonly stats = { rows: 0, dropped: 0, objects: 0, bytesWritten: 0, writeErrors: 0 };
  readonly #metrics?: { rows: Counter; dropped: Counter; objects: Counter; errors: Counter };

  constructor(o: PayloadLoggerOptions) {
    this.#o = o;
    const every = o.setInterval ?? ((fn, ms) => { const t = setInterval(fn, ms); t.unref(); return () => clearInterval(t); });
    this.#stopTimer = every(() => void this.flush(), o.flushIntervalMs ?? 10_000);
    if (o.registry !== undefined) {
      const registers = [o.registry];
      this.#metrics = {
        rows: new Counter({ name: "autopilot_payload_log_rows_total", help: "Payload-log rows accepted", registers }),
        dropped: new Counter({ name: "autopilot_payload_log_dropped_total", help: "Payload-log rows dropped because the buffer was full (sink down or slow)", registers }),
        objects: new Counter({ name: "autopilot_payload_log_objects_total", help: "Payload-log objects written", registers }),
        errors: new Counter({ name: "autopilot_payload_log_write_errors_total", help: "Failed payload-log object writes (retried)", registers }),
      };
      const buffered = (): number => this.#buffered;
      new Gauge({ name: "autopilot_payload_log_buffered_bytes", help: "Payload-log bytes waiting to be written", registers, collect() { this.set(buffered()); } });
    }
  }

  /** Bytes of rows waiting. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  consume(record: RequestRecord, endpoint: GatewayEndpoint, version: string): void {
    const row = payloadRow(record, endpoint, version);
    if (row === undefined) return;
    const line = `${JSON.stringify(row)}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#buffered + bytes > (this.#o.maxBufferedBytes ?? 16 * 1024 * 1024)) {
      this.stats.dropped += 1;
      this.#metrics?.dropped.inc();
      return;
    }
    const partition = partitionOf(row.endpoint, row.timestamp_ms);
    let b = this.#batches.get(partition);
    if (b === undefined) {
      b = { lines: [], bytes: 0, firstAtMs: row.timestamp_ms };
      this.#batches.set(partition, b);
    }
    b.lines.push(line);
    b.bytes += bytes;
    this.#buffered += bytes;
    this.stats.rows += 1;
    this.#metrics?.rows.inc();
    if (b.bytes >= (this.#o.maxObjectBytes ?? 4 * 1024 * 1024)) void this.flush();
  }

  /** Writes every waiting batch (one flush at a time); resolves when done. Failed batches stay for the next. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const taken = [...this.#batches];
    this.#batches.clear();
    for (const [partition, b] of taken) {
      const key = objectKey(this.#o.prefix ?? "payload-logs", partition, this.#o.writer, b.firstAtMs, ++this.#seq);
      const body = Buffer.from(b.lines.join(""));
      try {
        await this.#o.sink.put(key, body);
        this.#buffered -= b.bytes;
        this.stats.objects += 1;
        this.stats.bytesWritten += body.length;
        this.#metrics?.objects.inc();
      } catch (err) {
        this.stats.writeErrors += 1;
        this.#metrics?.errors.inc();
        this.#o.log?.(`payload log: writing ${key} failed (${err instanceof Error ? err.message : String(err)}); kept for the next flush`);
        const again = this.#batches.get(partition);
        if (again === undefined) this.#batches.set(partition, b);
        else {
          again.lines.unshift(...b.lines);
          again.bytes += b.bytes;
          again.firstAtMs = Math.min(again.firstAtMs, b.firstAtMs);
        }
      }
    }
  }

  /** Stops the timer and writes what is left (once; failures are logged and the rows counted dropped). */
  async close(): Promise<void> {
    this.#stopTimer();
    await this.flush();
    for (const b of this.#batches.values()) {
      this.stats.dropped += b.lines.length;
      this.#metrics?.dropped.inc(b.lines.length);
    }
    this.#batches.clear();
  }
}
