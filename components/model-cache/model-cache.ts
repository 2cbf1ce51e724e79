/**
 * ModelCache: one model bucket per environment — S3 (KMS-encrypted, versioned, public access blocked, TLS only,
 * lifecycle rules), GCS (uniform access, public access prevention, versioned, CMEK, lifecycle rules), or on the
 * local cloud an in-cluster MinIO (minio-spec.ts) or an external S3-compatible server. Models live under
 * `<endpoint>/<version>/` beside a `SHA256SUMS` manifest. `grantRead()` gives one endpoint a read-only identity
 * limited to its own prefix — EKS Pod Identity role, GKE Workload Identity principal, or a MinIO user with a prefix
 * policy — and says what the endpoint's pods must wait for and be allowed to reach.
 */
import { createHmac } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { type ModelStoreAccess, PLATFORM, type StoreEgress } from "../types.ts";
import { gcsPrefixCondition, podIdentityTrustPolicy, s3DenyInsecureTransport, s3ReadPrefixPolicy, workloadIdentityPrincipal } from "./access-policy.ts";
import { buildMinioObjects, MINIO_PAYLOAD_WRITER, MINIO_PAYLOAD_WRITER_KEY, MINIO_POD_LABELS, MINIO_PORT, MINIO_URL, minioUser } from "./minio-spec.ts";
import { grantPayloadWrite, type PayloadLogAccess, type PayloadLogWriter } from "./payload-access.ts";
import { buildNodeCacheDaemonSet, NODE_CACHE_NAMESPACE, type NodeCacheEndpoint } from "./node-cache-spec.ts";

/** The local cloud's store. */
export type LocalModelStore =
  | { readonly kind: "minio"; readonly bucket: string; readonly secretSeed: string; readonly endpoints: readonly string[] }
  | {
    readonly kind: "external"; readonly url: string; readonly bucket: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: pulumi.Input<string>;
    /** The gateway's payload-log writer key (PutObject on `payload-logs/` only, by the store's own policy). */
    readonly payloadWriter?: { readonly accessKeyId: string; readonly secretAccessKey: pulumi.Input<string> };
  };

export interface ModelCacheArgs {
  readonly cluster: Cluster;
  readonly region: string;
  readonly gcpProject?: string;
  readonly gcpProjectNumber?: string;
  /** Days before non-current object versions are deleted. */
  readonly noncurrentDays: number;
  /** Let `pulumi destroy` delete a bucket that still holds models (every environment but prod). @default false */
  readonly forceDestroy?: boolean;
  /** local: the store. */
  readonly local?: LocalModelStore;
  /** Endpoints that use the node-local cache, with the versions they declare (the preparer keeps only those). */
  readonly nodeCacheEndpoints?: readonly NodeCacheEndpoint[];
  /** Resources the bucket waits for (gcp: the enabled APIs). */
  readonly dependsOn?: readonly pulumi.Resource[];
  readonly digestOverrides?: Readonly<Record<string, string>>;
  /** The gateway's payload-log writer: gets `PutObject` on `payload-logs/` of this bucket and nothing else. @default none */
  readonly payloadLogWriter?: PayloadLogWriter;
}

/** The cloud identity an endpoint's service account is bound to. */
export interface EndpointIdentity {
  /** What to hand the pods (bucket, prefix, credentials secret for S3-compatible stores, egress). */
  readonly access: ModelStoreAccess;
  /** The IAM role ARN (aws) or principal (gcp) or store user (local). */
  readonly identity: pulumi.Input<string>;
  /** What must exist before the endpoint's pods start (the Pod Identity association, the IAM binding, the store's
   * users), or the first pods start without credentials. */
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

export class ModelCache extends pulumi.ComponentResource {
  /** Bucket name. */
  readonly bucketName: pulumi.Output<string>;
  /** Store URL, e.g. `s3://bucket`. */
  readonly url: pulumi.Output<string>;
  /** Where and as whom the gateway writes payload logs (with `payloadLogWriter`). */
  readonly payloadLogs?: PayloadLogAccess;
  /** The store's own readiness (local: the MinIO setup Job). */
  private readonly storeReady: pulumi.Resource[] = [];
  private readonly args: ModelCacheArgs;
  private bucketArn?: pulumi.Output<string>;
  private kmsKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: ModelCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:storage:ModelCache", name, {}, opts);
    this.args = args;
    const { eks, gke } = args.cluster;
    const forceDestroy = args.forceDestroy ?? false;
    if (eks !== undefined) {
      const o = { parent: this, provider: eks.provider };
      const key = new aws.kms.Key(`${name}-key`, { description: `${name} model cache`, enableKeyRotation: true }, o);
      const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucketPrefix: `${name}-`.slice(0, 37), forceDestroy }, o);
      new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
        bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
      }, o);
      new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, o);
      new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
        bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
      }, o);
      new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, o);
      new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
        bucket: bucket.id,
        rules: [
          { id: "expire-noncurrent", status: "Enabled", filter: { prefix: "" }, noncurrentVersionExpiration: { noncurrentDays: args.noncurrentDays } },
          { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
        ],
      }, o);
      new aws.s3.BucketPolicy(`${name}-tls-only`, { bucket: bucket.id, policy: bucket.arn.apply(s3DenyInsecureTransport) }, o);
      this.bucketName = bucket.bucket;
      this.bucketArn = bucket.arn;
      this.kmsKeyArn = key.arn;
      this.url = pulumi.interpolate`s3://${bucket.bucket}`;
    } else if (gke !== undefined) {
      const o = { parent: this, provider: gke.provider, dependsOn: [...(args.dependsOn ?? [])] };
      const ring = new gcp.kms.KeyRing(`${name}-ring`, { location: args.region }, o);
      const key = new gcp.kms.CryptoKey(`${name}-key`, { keyRing: ring.id, rotationPeriod: "7776000s" }, o);
      // The project's GCS service agent encrypts and decrypts on the bucket's behalf. It exists only once something
      // asks for it: getProjectServiceAccount creates it (a hand-written service-<n>@gs-project-accounts address
      // fails the binding on a project that never used CMEK).
      const gcsAgent = gcp.storage.getProjectServiceAccountOutput({ project: args.gcpProject ?? "" }, { parent: this, provider: gke.provider });
      const agent = new gcp.kms.CryptoKeyIAMMember(`${name}-gcs-agent`, {
        cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: pulumi.interpolate`serviceAccount:${gcsAgent.emailAddress}`,
      }, o);
      const bucket = new gcp.storage.Bucket(`${name}-bucket`, {
        location: args.region.toUpperCase(),
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        encryption: { defaultKmsKeyName: key.id },
        lifecycleRules: [
          { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: args.noncurrentDays, withState: "ARCHIVED" } },
          { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 7 } },
        ],
        forceDestroy,
      }, { ...o, dependsOn: [...o.dependsOn, agent] });
      this.bucketName = bucket.name;
      this.url = pulumi.interpolate`gs://${bucket.name}`;
    } else {
      const local = args.local;
      if (local === undefined) throw new Error("ModelCache: the local cloud needs `local` (the in-cluster MinIO or an external store)");
      this.bucketName = pulumi.output(local.bucket);
      this.url = pulumi.output(`s3://${local.bucket}`);
      if (local.kind === "minio") this.createMinio(name, local);
    }
    if (args.payloadLogWriter !== undefined) {
      this.payloadLogs = grantPayloadWrite(name, args.payloadLogWriter, {
        cluster: args.cluster, region: args.region, bucketName: this.bucketName,
        ...(this.bucketArn !== undefined && this.kmsKeyArn !== undefined ? { bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn } : {}),
        ...(args.gcpProject !== undefined ? { gcpProject: args.gcpProject } : {}),
        ...(args.gcpProjectNumber !== undefined ? { gcpProjectNumber: args.gcpProjectNumber } : {}),
        ...(args.local !== undefined ? { local: args.local.kind === "minio"
          ? { kind: "minio" as const, url: MINIO_URL, accessKeyId: MINIO_PAYLOAD_WRITER, secretAccessKey: derive(args.local.secretSeed, MINIO_PAYLOAD_WRITER_KEY) }
          : externalWriter(args.local) } : {}),
        storeReady: [...this.storeReady],
      }, this);
    }
    if ((args.nodeCacheEndpoints ?? []).length > 0) {
      const ns = new k8s.core.v1.Namespace(`${name}-node-cache-ns`, {
        metadata: { name: NODE_CACHE_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted" } },
      }, { parent: this });
      this.storeReady.push(kubeResource(`${name}-node-cache-prep`, buildNodeCacheDaemonSet(args.nodeCacheEndpoints ?? [], args.digestOverrides), { parent: this, dependsOn: [ns] }));
    }
    this.registerOutputs({ bucketName: this.bucketName, url: this.url });
  }

  /** In-cluster MinIO with one read-only user per endpoint. Encryption at rest needs MinIO KES (not set up here). */
  private createMinio(name: string, local: Extract<LocalModelStore, { kind: "minio" }>): void {
    const users: Record<string, unknown> = {};
    for (const e of local.endpoints) users[e] = derive(local.secretSeed, e);
    const writer = this.args.payloadLogWriter;
    if (writer !== undefined) users[MINIO_PAYLOAD_WRITER_KEY] = derive(local.secretSeed, MINIO_PAYLOAD_WRITER_KEY);
    const objs = buildMinioObjects(local.bucket, local.endpoints, {
      root: { rootUser: "autopilot-admin", rootPassword: derive(local.secretSeed, "root") }, users,
    }, {
      digestOverrides: this.args.digestOverrides ?? {},
      ...(writer !== undefined ? { payloadWriter: { prefix: writer.prefix, namespace: writer.namespace, podLabels: writer.podLabels } } : {}),
    });
    let ns: pulumi.Resource | undefined;
    const created: pulumi.Resource[] = [];
    for (const obj of objs) {
      const kind = String(obj.kind);
      const objName = (obj.metadata as { name: string }).name;
      const res = kubeResource(`${name}-${kind.toLowerCase()}-${objName}`, obj, { parent: this, dependsOn: [...(ns !== undefined ? [ns] : []), ...(kind === "Job" ? created : [])] });
      if (kind === "Namespace") ns = res;
      else created.push(res);
      if (kind === "Job") this.storeReady.push(res);
    }
  }

  /**
   * Read-only access for one endpoint's service account to `<endpoint>/`. Creates the identity resources as
   * children of `parent` (the endpoint component).
   */
  grantRead(endpoint: string, namespace: string, serviceAccount: string, parent: pulumi.Resource, k8sProvider: k8s.Provider): EndpointIdentity {
    const prefix = `${endpoint}/`;
    const { eks, gke } = this.args.cluster;
    if (eks !== undefined && this.bucketArn !== undefined && this.kmsKeyArn !== undefined) {
      const o = { parent, provider: eks.provider };
      const role = new aws.iam.Role(`${endpoint}-model-reader`, { assumeRolePolicy: podIdentityTrustPolicy() }, o);
      const policy = new aws.iam.RolePolicy(`${endpoint}-model-reader`, {
        role: role.id, policy: pulumi.all([this.bucketArn, this.kmsKeyArn]).apply(([b, k]) => s3ReadPrefixPolicy(b, prefix, k, this.args.region)),
      }, o);
      const assoc = new aws.eks.PodIdentityAssociation(`${endpoint}-pod-identity`, { clusterName: eks.cluster.name, namespace, serviceAccount, roleArn: role.arn }, { ...o, dependsOn: [policy] });
      return { access: { kind: "s3", bucket: this.bucketName, prefix, region: this.args.region, egress: EKS_MODEL_EGRESS }, identity: role.arn, ready: [assoc, ...this.storeReady] };
    }
    if (gke !== undefined) {
      const principal = workloadIdentityPrincipal(this.args.gcpProjectNumber ?? "", this.args.gcpProject ?? "", namespace, serviceAccount);
      const member = new gcp.storage.BucketIAMMember(`${endpoint}-model-reader`, {
        bucket: this.bucketName, role: "roles/storage.objectViewer", member: principal,
        condition: this.bucketName.apply((b) => gcsPrefixCondition(b, prefix)),
      }, { parent, provider: gke.provider });
      return { access: { kind: "gcs", bucket: this.bucketName, prefix, egress: GKE_MODEL_EGRESS }, identity: principal, ready: [member, ...this.storeReady] };
    }
    const local = this.args.local!;
    const secretName = "model-store-credentials";
    const keys = local.kind === "minio"
      ? { AWS_ACCESS_KEY_ID: minioUser(endpoint), AWS_SECRET_ACCESS_KEY: derive(local.secretSeed, endpoint) }
      : { AWS_ACCESS_KEY_ID: local.accessKeyId, AWS_SECRET_ACCESS_KEY: pulumi.secret(local.secretAccessKey) };
    const secret = new k8s.core.v1.Secret(`${endpoint}-model-store-credentials`, {
      metadata: { name: secretName, namespace }, stringData: keys,
    }, { parent, provider: k8sProvider });
    const common = { kind: "minio" as const, bucket: local.bucket, prefix, credentialsSecret: secretName };
    return local.kind === "minio"
      ? {
        access: { ...common, endpointUrl: MINIO_URL, region: "us-east-1", egress: [{ kind: "pods", namespace: PLATFORM.cacheNamespace, podLabels: MINIO_POD_LABELS, port: MINIO_PORT, why: "the in-cluster MinIO" }] },
        identity: `minio-user:${minioUser(endpoint)}`, ready: [secret, ...this.storeReady],
      }
      : {
        access: { ...common, endpointUrl: local.url, region: local.region, egress: externalStoreEgress(local.url) },
        identity: `external-store-key:${local.accessKeyId}`, ready: [secret, ...this.storeReady],
      };
  }
}

/** The external store's payload-log writer key; the stack config must name one (read-only model keys cannot write). */
function externalWriter(l: Extract<LocalModelStore, { kind: "external" }>): { kind: "external"; url: string; region: string; accessKeyId: string; secretAccessKey: pulumi.Output<string> } {
  if (l.payloadWriter === undefined) {
    throw new Error(`config keys "autopilot-serving:localPayloadLogAccessKeyId" and "localPayloadLogSecretAccessKey" are empty; allowed when an endpoint logs payloads on an external store: a key of that store allowed s3:PutObject on ${l.bucket}/payload-logs/*`);
  }
  return { kind: "external", url: l.url, region: l.region, accessKeyId: l.payloadWriter.accessKeyId, secretAccessKey: pulumi.secret(l.payloadWriter.secretAccessKey) };
}

/** Per-user secret derived from the stack's seed, stable across runs (no diff churn) and wrapped as a Pulumi secret. */
function derive(seed: string, user: string): pulumi.Output<string> {
  return pulumi.secret(createHmac("sha256", seed).update(`minio:${user}`).digest("base64url").slice(0, 40));
}
