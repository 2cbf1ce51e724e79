/**
 * Where a model publication writes, from the description of the store endpoints read from (StoreWiring): aws —
 * the bucket with the deployer's AWS credentials; gcp — the bucket with the deployer's token; the in-cluster MinIO
 * — its NodePort on the deployer's machine (`http://127.0.0.1:30900`, kind's port mapping) with the store's root
 * user; an external S3-compatible store — its URL with a write key or the AWS SDK's default credentials.
 */
import * as pulumi from "@pulumi/pulumi";
import { MINIO_PUBLISH_NODE_PORT } from "../model-cache/minio-spec.ts";
import { deriveStoreSecret, type StoreWiring } from "../model-cache/store-grant.ts";
import type { StoreLocation } from "./sources/object-store.ts";

/** How the deployer's machine reaches a local store (stack config modelPublishUrl / modelPublishAccessKeyId / …). */
export interface ModelPublishSettings {
  /** @default MinIO: `http://127.0.0.1:30900`; external store: its URL */
  readonly url?: string;
  /** External store: a key with write access. @default the AWS SDK's default credentials */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: pulumi.Input<string>;
}

/** The publication target of a store. */
export function publishLocation(store: StoreWiring, settings: ModelPublishSettings = {}): pulumi.Output<StoreLocation> {
  switch (store.kind) {
    case "s3":
      return pulumi.output(store.bucket).apply((bucket) => ({ kind: "s3" as const, bucket, region: store.region }));
    case "gcs":
      return pulumi.output(store.bucket).apply((bucket) => ({ kind: "gcs" as const, bucket }));
    case "minio": {
      const url = settings.url !== undefined && settings.url !== "" ? settings.url : `http://127.0.0.1:${MINIO_PUBLISH_NODE_PORT}`;
      return pulumi.secret(deriveStoreSecret(store.secretSeed, "root").apply((secretAccessKey) => ({
        kind: "s3" as const, bucket: store.bucket, endpointUrl: url, region: "us-east-1", credentials: { accessKeyId: "autopilot-admin", secretAccessKey },
      })));
    }
    case "external": {
      const url = settings.url !== undefined && settings.url !== "" ? settings.url : store.url;
      if (settings.accessKeyId === undefined || settings.accessKeyId === "" || settings.secretAccessKey === undefined) {
        return pulumi.output({ kind: "s3" as const, bucket: store.bucket, endpointUrl: url, region: store.region });
      }
      const accessKeyId = settings.accessKeyId;
      return pulumi.secret(pulumi.output(settings.secretAccessKey).apply((secretAccessKey) => ({
        kind: "s3" as const, bucket: store.bucket, endpointUrl: url, region: store.region, credentials: { accessKeyId, secretAccessKey },
      })));
    }
  }
}
