/** The payload-log sink the agent's config names (`--payload-log-sink`): S3 (or S3-compatible), GCS, or files. */
import type { AgentConfig } from "./agent-config.ts";
import { filePayloadSink } from "./payload-sink-file.ts";
import { gcsPayloadSink } from "./payload-sink-gcs.ts";
import type { PayloadSink } from "./payload-logger.ts";
import { s3PayloadSink } from "./payload-sink-s3.ts";

type SinkConfig = Pick<AgentConfig, "payloadLogSink" | "payloadLogBucket" | "payloadLogDir" | "payloadLogRegion" | "payloadLogEndpoint">;

/** The sink, or undefined when payload logging is off (no bucket, or no directory for `file`). */
export function payloadSinkOf(cfg: SinkConfig): PayloadSink | undefined {
  const endpoint = cfg.payloadLogEndpoint !== undefined ? { endpoint: cfg.payloadLogEndpoint } : {};
  switch (cfg.payloadLogSink) {
    case "file":
      return cfg.payloadLogDir === undefined ? undefined : filePayloadSink(cfg.payloadLogDir);
    case "gcs":
      return cfg.payloadLogBucket === undefined ? undefined : gcsPayloadSink({ bucket: cfg.payloadLogBucket, ...endpoint });
    case "s3":
      return cfg.payloadLogBucket === undefined ? undefined : s3PayloadSink({ bucket: cfg.payloadLogBucket, region: cfg.payloadLogRegion, ...endpoint });
  }
}
