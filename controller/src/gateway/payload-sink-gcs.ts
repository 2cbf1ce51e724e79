/**
 * The payload log's GCS sink: one object per batch through Google's Cloud Storage client library (JSON API).
 * Why the JSON API and not the S3-interoperable XML API through the S3 sink: on GKE the agent's identity is a
 * Workload Identity principal, whose credentials are short-lived OAuth tokens from the metadata server; the XML
 * API takes SigV4 only with HMAC keys, which are long-lived secrets tied to a service account — exactly what
 * Workload Identity avoids. The client library fetches and refreshes the tokens itself (Application Default
 * Credentials). Each write is create-only (`ifGenerationMatch: 0`): the writer's role (`storage.objectCreator`)
 * cannot overwrite, and a retried upload cannot duplicate or replace an object.
 */
import { Storage } from "@google-cloud/storage";
import type { PayloadSink } from "./payload-logger.ts";

export interface GcsSinkOptions {
  readonly bucket: string;
  /** A JSON-API endpoint URL (a test server on loopback); absent: storage.googleapis.com with ADC credentials. */
  readonly endpoint?: string;
  /** @default "_" (uploads need no project) */
  readonly projectId?: string;
}

export function gcsPayloadSink(o: GcsSinkOptions): PayloadSink & { storage: Storage } {
  const storage = new Storage({
    projectId: o.projectId ?? "_",
    // A custom endpoint gets no credentials (the library's rule for emulators); the real one uses ADC.
    ...(o.endpoint !== undefined ? { apiEndpoint: o.endpoint } : {}),
    retryOptions: { autoRetry: true, maxRetries: 1 },
  });
  const bucket = storage.bucket(o.bucket);
  return {
    storage,
    async put(key, body) {
      await bucket.file(key).save(body, { resumable: false, contentType: "application/x-ndjson", preconditionOpts: { ifGenerationMatch: 0 } });
    },
  };
}
