/**
 * The payload log's S3 sink: one `PutObject` per batch, through the AWS SDK (its default credential chain:
 * EKS Pod Identity / IRSA in the cluster, environment variables elsewhere). `endpoint` + path-style addressing
 * serve any S3-compatible store (the local stack's in-cluster store, a test server on loopback).
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { PayloadSink } from "./payload-logger.ts";

export interface S3SinkOptions {
  readonly bucket: string;
  readonly region: string;
  /** An S3-compatible endpoint URL (path-style addressing); absent: AWS S3. */
  readonly endpoint?: string;
  /** Static credentials (tests, a local store); absent: the SDK's default chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function s3PayloadSink(o: S3SinkOptions): PayloadSink & { client: S3Client } {
  const client = new S3Client({
    region: o.region,
    ...(o.endpoint !== undefined ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    maxAttempts: 2,
  });
  return {
    client,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: o.bucket, Key: key, Body: body, ContentType: "application/x-ndjson" }));
    },
  };
}
