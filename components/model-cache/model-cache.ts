/**
 * ModelCache: one model bucket per environment — S3 (KMS-encrypted, versioned, public access blocked, TLS only,
 * lifecycle rules), GCS (uniform access, public access prevention, versioned, CMEK, lifecycle rules), or on the
 * local cloud an in-cluster MinIO (minio-spec.ts) or an external S3-compatible server. Models live under
 * `<endpoint>/<version>/` beside a `SHA256SUMS` manifest. `grantRead()` gives one endpoint a read-only identity
 * limited to its own prefix — EKS Pod Identity role, GKE Workload Identity principal, or a MinIO user with a prefix
 * policy — and says what the endpoint's pods must wait for and be allowed to reach.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Cluster } from "../cluster/cluster.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { s3DenyInsecureTransport } from "./access-policy.ts";
import { buildMinioObjects, MINIO_PAYLOAD_WRITER, MINIO_PAYLOAD_WRITER_KEY, MINIO_PUBLISH_NODE_PORT, MINIO_URL } from "./minio-spec.ts";
import { grantPayloadWrite, type PayloadLogAccess, type PayloadLogWriter } from "./payload-access.ts";
import { buildNodeCacheDaemonSet, NODE_CACHE_NAMESPACE, type NodeCacheEndpoint } from "./node-cache-spec.ts";
import { deriveStoreSecret, type EndpointIdentity, grantStoreRead, type StoreWiring } from "./store-grant.ts";
import { componentInputs } from "../component-inputs.ts";

export { EKS_MODEL_EGRESS, type EndpointIdentity, externalStoreEgress, GKE_MODEL_EGRESS, type StoreWiring } from "./store-grant.ts";

/** The local cloud's store. */
export type LocalModelStore =
  | {
    readonly kind: "minio"; readonly bucket: string; readonly endpoints: readonly string[];
    /**
     * Seed the store's credentials are derived from.
     * @default a generated one (a RandomPassword, kept encrypted in the stack's state)
     */
    readonly secretSeed?: pulumi.Input<string>;
  }
  | {
    readonly kind: "external"; readonly url: string; readonly bucket: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: pulumi.Input<string>;
    /** The gateway's payload-log writer key (PutObject on `payload-logs/` only, by the store's own policy). */
    readonly payloadWriter?: { readonly accessKeyId: string; readonly secretAccessKey: pulumi.Input<string> };
  };

export interface ModelCacheArgs {
  /** The cluster: its cloud decides the store (S3 on EKS, GCS on GKE, `local` on a kubeconfig context). */
  readonly cluster: Cluster;
  /** aws/gcp region of the bucket and its key. */
  readonly region: string;
  /** gcp: project id. @default "" */
  readonly gcpProject?: string;
  /** gcp: project number (Workload Identity principals name it). @default "" */
  readonly gcpProjectNumber?: string;
  /** Days before non-current object versions are deleted. */
  readonly noncurrentDays: number;
  /** Let `pulumi destroy` delete a bucket that still holds models (every environment but prod). @default false */
  readonly forceDestroy?: boolean;
  /** local (required there): the in-cluster MinIO or an external S3-compatible store. @default none */
  readonly local?: LocalModelStore;
  /** Endpoints that use the node-local cache, with the versions they declare (the preparer keeps only those). @default [] (no node cache) */
  readonly nodeCacheEndpoints?: readonly NodeCacheEndpoint[];
  /** Resources the bucket waits for (gcp: the enabled APIs). @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
  /** Image digests by role (MinIO, mc, the node-cache preparer). @default {} */
  readonly digestOverrides?: Readonly<Record<string, string>>;
  /** local MinIO: expose the store to the deployer's machine on NodePort 30900 (the model publisher writes through it;
   * kind maps it with `extraPortMappings`). Off when models are published another way. @default true */
  readonly publishNodePort?: boolean;
  /** The gateway's payload-log writer: gets `PutObject` on `payload-logs/` of this bucket and nothing else. @default none */
  readonly payloadLogWriter?: PayloadLogWriter;
}

export class ModelCache extends pulumi.ComponentResource {
  /** Bucket name. */
  readonly bucketName: pulumi.Output<string>;
  /** Store URL, e.g. `s3://bucket`. */
  readonly url: pulumi.Output<string>;
  /** How endpoints reach the store and get their read identity (PlatformReference exports it to team stacks). */
  readonly wiring: StoreWiring;
  /** What an endpoint's pods wait for besides their own identity (the MinIO setup Job, the node-cache preparer). */
  readonly ready: pulumi.Resource[] = [];
  /** Where and as whom the gateway writes payload logs (with `payloadLogWriter`). */
  readonly payloadLogs?: PayloadLogAccess;
  private readonly args: ModelCacheArgs;

  constructor(name: string, args: ModelCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:model-cache:ModelCache", name, componentInputs(args, { secrets: ["local"] }), opts);
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
      this.wiring = { kind: "s3", bucket: bucket.bucket, bucketArn: bucket.arn, kmsKeyArn: key.arn, region: args.region, eksClusterName: eks.cluster.name, provider: eks.provider };
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
      this.wiring = { kind: "gcs", bucket: bucket.name, gcpProject: args.gcpProject ?? "", gcpProjectNumber: args.gcpProjectNumber ?? "", provider: gke.provider };
    } else {
      const local = args.local;
      if (local === undefined) throw new Error("ModelCache: the local cloud needs `local` (the in-cluster MinIO or an external store)");
      this.bucketName = pulumi.output(local.bucket);
      this.url = pulumi.output(`s3://${local.bucket}`);
      const seed = local.kind !== "minio" ? undefined
        : local.secretSeed !== undefined && local.secretSeed !== "" ? local.secretSeed
        : new random.RandomPassword(`${name}-store-seed`, { length: 40, special: false }, { parent: this }).result;
      this.wiring = local.kind === "minio"
        ? { kind: "minio", bucket: local.bucket, secretSeed: seed as pulumi.Input<string> }
        : { kind: "external", url: local.url, bucket: local.bucket, region: local.region, accessKeyId: local.accessKeyId, secretAccessKey: local.secretAccessKey };
      if (local.kind === "minio") this.createMinio(name, local, seed as pulumi.Input<string>);
    }
    if (args.payloadLogWriter !== undefined) {
      this.payloadLogs = grantPayloadWrite(name, args.payloadLogWriter, {
        cluster: args.cluster, region: args.region, bucketName: this.bucketName,
        ...(this.wiring.kind === "s3" ? { bucketArn: pulumi.output(this.wiring.bucketArn), kmsKeyArn: pulumi.output(this.wiring.kmsKeyArn) } : {}),
        ...(args.gcpProject !== undefined ? { gcpProject: args.gcpProject } : {}),
        ...(args.gcpProjectNumber !== undefined ? { gcpProjectNumber: args.gcpProjectNumber } : {}),
        ...(args.local !== undefined ? { local: args.local.kind === "minio"
          ? { kind: "minio" as const, url: MINIO_URL, accessKeyId: MINIO_PAYLOAD_WRITER, secretAccessKey: deriveStoreSecret((this.wiring as Extract<StoreWiring, { kind: "minio" }>).secretSeed, MINIO_PAYLOAD_WRITER_KEY) }
          : externalWriter(args.local) } : {}),
        storeReady: [...this.ready],
      }, this);
    }
    if ((args.nodeCacheEndpoints ?? []).length > 0) {
      const ns = new k8s.core.v1.Namespace(`${name}-node-cache-ns`, {
        metadata: { name: NODE_CACHE_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted" } },
      }, { parent: this });
      this.ready.push(kubeResource(`${name}-node-cache-prep`, buildNodeCacheDaemonSet(args.nodeCacheEndpoints ?? [], args.digestOverrides), { parent: this, dependsOn: [ns] }));
    }
    this.registerOutputs({ bucketName: this.bucketName, url: this.url });
  }

  /** In-cluster MinIO with one read-only user per endpoint. Encryption at rest needs MinIO KES (not set up here). */
  private createMinio(name: string, local: Extract<LocalModelStore, { kind: "minio" }>, seed: pulumi.Input<string>): void {
    const users: Record<string, unknown> = {};
    for (const e of local.endpoints) users[e] = deriveStoreSecret(seed, e);
    const writer = this.args.payloadLogWriter;
    if (writer !== undefined) users[MINIO_PAYLOAD_WRITER_KEY] = deriveStoreSecret(seed, MINIO_PAYLOAD_WRITER_KEY);
    const objs = buildMinioObjects(local.bucket, local.endpoints, {
      root: { rootUser: "autopilot-admin", rootPassword: deriveStoreSecret(seed, "root") }, users,
    }, {
      digestOverrides: this.args.digestOverrides ?? {},
      ...(this.args.publishNodePort !== false ? { publishNodePort: MINIO_PUBLISH_NODE_PORT } : {}),
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
      if (kind === "Job") this.ready.push(res);
    }
  }

  /**
   * Read-only access for one endpoint's service account to `<endpoint>/`. Creates the identity resources as
   * children of `parent` (the endpoint component).
   */
  grantRead(endpoint: string, namespace: string, serviceAccount: string, parent: pulumi.Resource, k8sProvider: k8s.Provider): EndpointIdentity {
    return grantStoreRead(this.wiring, endpoint, namespace, serviceAccount, parent, k8sProvider, this.ready);
  }
}

/** The external store's payload-log writer key; the stack config must name one (read-only model keys cannot write). */
function externalWriter(l: Extract<LocalModelStore, { kind: "external" }>): { kind: "external"; url: string; region: string; accessKeyId: string; secretAccessKey: pulumi.Output<string> } {
  if (l.payloadWriter === undefined) {
    throw new Error(`config keys "autopilot-serving:localPayloadLogAccessKeyId" and "localPayloadLogSecretAccessKey" are empty; allowed when an endpoint logs payloads on an external store: a key of that store allowed s3:PutObject on ${l.bucket}/payload-logs/*`);
  }
  return { kind: "external", url: l.url, region: l.region, accessKeyId: l.payloadWriter.accessKeyId, secretAccessKey: pulumi.secret(l.payloadWriter.secretAccessKey) };
}
