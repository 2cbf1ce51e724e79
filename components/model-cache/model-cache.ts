/**
 * ModelCache: one model bucket per environment — S3 (KMS-encrypted, versioned, public access blocked, TLS only,
 * lifecycle rules), GCS (uniform access, public access prevention, versioned, CMEK, lifecycle rules) or an
 * in-cluster MinIO (local). Models live under `<endpoint>/<version>/`. `grantRead()` gives one endpoint a
 * read-only identity limited to its own prefix: EKS Pod Identity role, GKE Workload Identity principal, or a
 * MinIO user with a prefix policy.
 */
import { createHmac } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster.ts";
import { CHARTS } from "../images.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { restrictedContainerSecurity, restrictedNamespaceLabels } from "../k8s/pod-security.ts";
import { type ModelStoreAccess, PLATFORM } from "../types.ts";
import {
  gcsPrefixCondition, minioReadPrefixPolicy, podIdentityTrustPolicy, s3DenyInsecureTransport, s3ReadPrefixPolicy,
  workloadIdentityPrincipal,
} from "./access-policy.ts";
import { buildNodeCacheDaemonSet, NODE_CACHE_NAMESPACE } from "./node-cache-spec.ts";

export interface ModelCacheArgs {
  readonly cluster: Cluster;
  readonly region: string;
  readonly gcpProject?: string;
  readonly gcpProjectNumber?: string;
  /** Days before non-current object versions are deleted. */
  readonly noncurrentDays: number;
  /** local: endpoints that get a MinIO user (users are chart values, so they are known up front). */
  readonly localEndpoints?: readonly string[];
  /** local: seed the MinIO credentials are derived from (HMAC per user). */
  readonly localSecretSeed?: string;
  /** Endpoints that use the node-local cache (the preparer DaemonSet creates their directories). */
  readonly nodeCacheEndpoints?: readonly string[];
  readonly digestOverrides?: Readonly<Record<string, string>>;
}

/** The cloud identity an endpoint's service account is bound to. */
export interface EndpointIdentity {
  /** What to hand the pods (bucket, prefix, credentials secret for MinIO). */
  readonly access: ModelStoreAccess;
  /** The IAM role ARN (aws) or principal (gcp) or MinIO user (local). */
  readonly identity: pulumi.Input<string>;
}

const MINIO_BUCKET = "models";

export class ModelCache extends pulumi.ComponentResource {
  /** Bucket name. */
  readonly bucketName: pulumi.Output<string>;
  /** Store URL, e.g. `s3://bucket`. */
  readonly url: pulumi.Output<string>;
  private readonly args: ModelCacheArgs;
  private bucketArn?: pulumi.Output<string>;
  private kmsKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: ModelCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:storage:ModelCache", name, {}, opts);
    this.args = args;
    const { eks, gke } = args.cluster;
    if (eks !== undefined) {
      const o = { parent: this, provider: eks.provider };
      const key = new aws.kms.Key(`${name}-key`, { description: `${name} model cache`, enableKeyRotation: true }, o);
      const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucketPrefix: `${name}-`.slice(0, 37), forceDestroy: false }, o);
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
      const o = { parent: this, provider: gke.provider };
      const ring = new gcp.kms.KeyRing(`${name}-ring`, { location: args.region }, o);
      const key = new gcp.kms.CryptoKey(`${name}-key`, { keyRing: ring.id, rotationPeriod: "7776000s" }, o);
      // The GCS service agent encrypts and decrypts with the key on the bucket's behalf.
      const agent = new gcp.kms.CryptoKeyIAMMember(`${name}-gcs-agent`, {
        cryptoKeyId: key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: `serviceAccount:service-${args.gcpProjectNumber}@gs-project-accounts.iam.gserviceaccount.com`,
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
        forceDestroy: false,
      }, { ...o, dependsOn: [agent] });
      this.bucketName = bucket.name;
      this.url = pulumi.interpolate`gs://${bucket.name}`;
    } else {
      this.bucketName = pulumi.output(MINIO_BUCKET);
      this.url = pulumi.output(`s3://${MINIO_BUCKET}`);
      this.createMinio(name, args);
    }
    if ((args.nodeCacheEndpoints ?? []).length > 0) {
      const ns = new k8s.core.v1.Namespace(`${name}-node-cache-ns`, {
        metadata: { name: NODE_CACHE_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted" } },
      }, { parent: this });
      kubeResource(`${name}-node-cache-prep`, buildNodeCacheDaemonSet(args.nodeCacheEndpoints ?? [], args.digestOverrides), { parent: this, dependsOn: [ns] });
    }
    this.registerOutputs({ bucketName: this.bucketName, url: this.url });
  }

  /** In-cluster MinIO with one read-only user per endpoint. Encryption at rest needs MinIO KES (not set up here). */
  private createMinio(name: string, args: ModelCacheArgs): void {
    const seed = args.localSecretSeed ?? "";
    const ns = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: PLATFORM.cacheNamespace, labels: restrictedNamespaceLabels() } }, { parent: this });
    const root = new k8s.core.v1.Secret(`${name}-root`, {
      metadata: { name: "minio-root", namespace: PLATFORM.cacheNamespace },
      stringData: { rootUser: "autopilot-admin", rootPassword: derive(seed, "root") },
    }, { parent: this, dependsOn: [ns] });
    const endpoints = args.localEndpoints ?? [];
    new k8s.helm.v4.Chart(`${name}-minio`, {
      chart: CHARTS.minio.chart, version: CHARTS.minio.version, repositoryOpts: { repo: CHARTS.minio.repo },
      namespace: PLATFORM.cacheNamespace,
      values: {
        mode: "standalone", existingSecret: "minio-root", replicas: 1,
        persistence: { enabled: true, size: "50Gi" },
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
        securityContext: { enabled: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
        containerSecurityContext: restrictedContainerSecurity(true),
        buckets: [{ name: MINIO_BUCKET, policy: "none", purge: false, versioning: true }],
        policies: endpoints.map((e) => ({ name: `read-${e}`, statements: minioReadPrefixPolicy(MINIO_BUCKET, `${e}/`) })),
        users: endpoints.map((e) => ({ accessKey: `ep-${e}`, secretKey: derive(seed, e), policy: `read-${e}` })),
      },
    }, { parent: this, dependsOn: [root] });
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
      new aws.iam.RolePolicy(`${endpoint}-model-reader`, {
        role: role.id, policy: pulumi.all([this.bucketArn, this.kmsKeyArn]).apply(([b, k]) => s3ReadPrefixPolicy(b, prefix, k)),
      }, o);
      new aws.eks.PodIdentityAssociation(`${endpoint}-pod-identity`, { clusterName: eks.cluster.name, namespace, serviceAccount, roleArn: role.arn }, o);
      return { access: { kind: "s3", bucket: this.bucketName, prefix, region: this.args.region }, identity: role.arn };
    }
    if (gke !== undefined) {
      const principal = workloadIdentityPrincipal(this.args.gcpProjectNumber ?? "", this.args.gcpProject ?? "", namespace, serviceAccount);
      new gcp.storage.BucketIAMMember(`${endpoint}-model-reader`, {
        bucket: this.bucketName, role: "roles/storage.objectViewer", member: principal,
        condition: this.bucketName.apply((b) => gcsPrefixCondition(b, prefix)),
      }, { parent, provider: gke.provider });
      return { access: { kind: "gcs", bucket: this.bucketName, prefix }, identity: principal };
    }
    const secretName = "model-store-credentials";
    new k8s.core.v1.Secret(`${endpoint}-model-store-credentials`, {
      metadata: { name: secretName, namespace },
      stringData: { AWS_ACCESS_KEY_ID: `ep-${endpoint}`, AWS_SECRET_ACCESS_KEY: derive(this.args.localSecretSeed ?? "", endpoint) },
    }, { parent, provider: k8sProvider });
    return {
      access: { kind: "minio", bucket: MINIO_BUCKET, prefix, endpointUrl: `http://minio.${PLATFORM.cacheNamespace}.svc:9000`, credentialsSecret: secretName, region: "us-east-1" },
      identity: `minio-user:ep-${endpoint}`,
    };
  }
}

/** Per-user secret derived from the stack's seed, stable across runs (no diff churn) and wrapped as a Pulumi secret. */
function derive(seed: string, user: string): pulumi.Output<string> {
  return pulumi.secret(createHmac("sha256", seed).update(`minio:${user}`).digest("base64url").slice(0, 40));
}
