/**
 * Read-only access of one endpoint to its own model prefix, from a description of the model store (`StoreWiring`)
 * rather than the ModelCache component: the platform's ModelCache describes itself this way, and a team stack
 * builds the same description from the platform stack's outputs (PlatformReference).
 */
import { createHmac } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type ModelStoreAccess, PLATFORM, type StoreEgress } from "../types.ts";
import { gcsPrefixCondition, podIdentityTrustPolicy, s3ReadPrefixPolicy, workloadIdentityPrincipal } from "./access-policy.ts";
import { MINIO_POD_LABELS, MINIO_PORT, MINIO_URL, minioUser } from "./minio-spec.ts";

/** How endpoints reach the model store, and with which provider their identities are created. */
export type StoreWiring =
  | {
    /** S3 bucket read through EKS Pod Identity. */
    readonly kind: "s3";
    readonly bucket: pulumi.Input<string>;
    readonly bucketArn: pulumi.Input<string>;
    /** The bucket's KMS key (reading needs kms:Decrypt). */
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly region: string;
    /** EKS cluster the Pod Identity associations are made in. */
    readonly eksClusterName: pulumi.Input<string>;
    /** Provider of the IAM role, policy and association. */
    readonly provider: aws.Provider;
  }
  | {
    /** GCS bucket read through GKE Workload Identity. */
    readonly kind: "gcs";
    readonly bucket: pulumi.Input<string>;
    readonly gcpProject: string;
    readonly gcpProjectNumber: string;
    /** Provider of the bucket IAM member. */
    readonly provider: gcp.Provider;
  }
  | {
    /** The in-cluster MinIO (local cloud): one user per endpoint, derived from the stack's seed. */
    readonly kind: "minio";
    readonly bucket: string;
    readonly secretSeed: pulumi.Input<string>;
  }
  | {
    /** An external S3-compatible server (local cloud): one shared read key. */
    readonly kind: "external";
    readonly url: string;
    readonly bucket: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: pulumi.Input<string>;
  };

/** The cloud identity an endpoint's service account is bound to. */
export interface EndpointIdentity {
  /** What to hand the pods (bucket, prefix, credentials secret for S3-compatible stores, egress). */
  readonly access: ModelStoreAccess;
  /** The IAM role ARN (aws) or principal (gcp) or store user (local). */
  readonly identity: pulumi.Input<string>;
  /** What must exist before the endpoint's pods start (the Pod Identity association, the IAM binding, the store's
   * credentials Secret), or the first pods start without credentials. */
  readonly ready: readonly pulumi.Resource[];
}

/** TCP destinations for reading from S3 with EKS Pod Identity: S3 over HTTPS, and the Pod Identity agent the SDKs
 * fetch credentials from (169.254.170.23:80, on every node). */
export const EKS_MODEL_EGRESS: readonly StoreEgress[] = [
  { kind: "cidr", cidr: "0.0.0.0/0", port: 443, why: "S3 (HTTPS)" },
  { kind: "cidr", cidr: "169.254.170.23/32", port: 80, why: "EKS Pod Identity agent (credentials)" },
];
/** For GCS with Workload Identity: GCS over HTTPS and the GKE metadata server (169.254.169.254:80; with the legacy
 * datapath it answers on 169.254.169.252:988). */
export const GKE_MODEL_EGRESS: readonly StoreEgress[] = [
  { kind: "cidr", cidr: "0.0.0.0/0", port: 443, why: "GCS (HTTPS)" },
  { kind: "cidr", cidr: "169.254.169.254/32", port: 80, why: "GKE metadata server (Workload Identity tokens)" },
  { kind: "cidr", cidr: "169.254.169.252/32", port: 988, why: "GKE metadata server without Dataplane V2" },
];

/** Egress to an external S3-compatible URL: its IP when the host is one, else any address on its port. */
export function externalStoreEgress(url: string): StoreEgress[] {
  const u = new URL(url);
  const port = u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
  const ip = /^\d{1,3}(\.\d{1,3}){3}$/.test(u.hostname);
  return [{ kind: "cidr", cidr: ip ? `${u.hostname}/32` : "0.0.0.0/0", port, why: `the external model store ${u.host}` }];
}

/** The store's URL as endpoints' custom resources name it (`s3://bucket`, `gs://bucket`). */
export function storeUrl(store: StoreWiring): pulumi.Output<string> {
  return store.kind === "gcs" ? pulumi.interpolate`gs://${store.bucket}` : pulumi.interpolate`s3://${store.bucket}`;
}

/** Per-user secret derived from the stack's seed, stable across runs (no diff churn) and wrapped as a Pulumi secret. */
export function deriveStoreSecret(seed: pulumi.Input<string>, user: string): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(seed).apply((s) => createHmac("sha256", s).update(`minio:${user}`).digest("base64url").slice(0, 40)));
}

/**
 * Read-only access for one endpoint's service account to `<endpoint>/`. Creates the identity resources as children
 * of `parent` (the endpoint component); `storeReady` are what the store itself needs first (the MinIO setup Job).
 */
export function grantStoreRead(
  store: StoreWiring, endpoint: string, namespace: string, serviceAccount: string,
  parent: pulumi.Resource, k8sProvider: k8s.Provider, storeReady: readonly pulumi.Resource[] = [],
): EndpointIdentity {
  const prefix = `${endpoint}/`;
  if (store.kind === "s3") {
    const o = { parent, provider: store.provider };
    const role = new aws.iam.Role(`${endpoint}-model-reader`, { assumeRolePolicy: podIdentityTrustPolicy() }, o);
    const policy = new aws.iam.RolePolicy(`${endpoint}-model-reader`, {
      role: role.id, policy: pulumi.all([store.bucketArn, store.kmsKeyArn]).apply(([b, k]) => s3ReadPrefixPolicy(b, prefix, k, store.region)),
    }, o);
    const assoc = new aws.eks.PodIdentityAssociation(`${endpoint}-pod-identity`, { clusterName: store.eksClusterName, namespace, serviceAccount, roleArn: role.arn }, { ...o, dependsOn: [policy] });
    return { access: { kind: "s3", bucket: store.bucket, prefix, region: store.region, egress: EKS_MODEL_EGRESS }, identity: role.arn, ready: [assoc, ...storeReady] };
  }
  if (store.kind === "gcs") {
    const principal = workloadIdentityPrincipal(store.gcpProjectNumber, store.gcpProject, namespace, serviceAccount);
    const member = new gcp.storage.BucketIAMMember(`${endpoint}-model-reader`, {
      bucket: store.bucket, role: "roles/storage.objectViewer", member: principal,
      condition: pulumi.output(store.bucket).apply((b) => gcsPrefixCondition(b, prefix)),
    }, { parent, provider: store.provider });
    return { access: { kind: "gcs", bucket: store.bucket, prefix, egress: GKE_MODEL_EGRESS }, identity: principal, ready: [member, ...storeReady] };
  }
  const secretName = "model-store-credentials";
  const keys = store.kind === "minio"
    ? { AWS_ACCESS_KEY_ID: minioUser(endpoint), AWS_SECRET_ACCESS_KEY: deriveStoreSecret(store.secretSeed, endpoint) }
    : { AWS_ACCESS_KEY_ID: store.accessKeyId, AWS_SECRET_ACCESS_KEY: pulumi.secret(store.secretAccessKey) };
  const secret = new k8s.core.v1.Secret(`${endpoint}-model-store-credentials`, {
    metadata: { name: secretName, namespace }, stringData: keys,
  }, { parent, provider: k8sProvider });
  const common = { kind: "minio" as const, bucket: store.bucket, prefix, credentialsSecret: secretName };
  return store.kind === "minio"
    ? {
      access: { ...common, endpointUrl: MINIO_URL, region: "us-east-1", egress: [{ kind: "pods", namespace: PLATFORM.cacheNamespace, podLabels: MINIO_POD_LABELS, port: MINIO_PORT, why: "the in-cluster MinIO" }] },
      identity: `minio-user:${minioUser(endpoint)}`, ready: [secret, ...storeReady],
    }
    : {
      access: { ...common, endpointUrl: store.url, region: store.region, egress: externalStoreEgress(store.url) },
      identity: `external-store-key:${store.accessKeyId}`, ready: [secret, ...storeReady],
    };
}
