/**
 * The gateway's payload-log writer (inference tables): an identity that may create objects under
 * `payload-logs/` of the environment's bucket and do nothing else — no read, list or delete, no model prefix.
 * - aws: an EKS Pod Identity role for the gateway agent's service account with `s3:PutObject` on
 *   `<bucket>/payload-logs/*` and `kms:GenerateDataKey` on the bucket key through S3 (access-policy.ts);
 * - gcp: the service account's Workload Identity principal bound to `roles/storage.objectCreator` with an IAM
 *   condition on the prefix (GCS's creator role has no read or delete permission);
 * - local: the in-cluster MinIO's `gateway-payload-writer` user (created by the setup Job with a PutObject-only
 *   policy on the prefix), or the external store's key given in the stack config.
 * The policy pack's model-access-least-privilege rule admits exactly these write grants and no others.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Cluster } from "../cluster/cluster.ts";
import { gcsWritePrefixCondition, podIdentityTrustPolicy, s3WritePrefixPolicy, workloadIdentityPrincipal } from "./access-policy.ts";

/** Who writes: the gateway agent's service account and pods. */
export interface PayloadLogWriter {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Labels of the writing pods (the in-cluster store admits them). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** Key prefix, ending in `/`. */
  readonly prefix: string;
}

/** What the gateway agent needs to write payload logs. */
export interface PayloadLogAccess {
  /** The agent's sink: `s3` (AWS S3 or an S3-compatible store at `endpointUrl`) or `gcs`. */
  readonly sink: "s3" | "gcs";
  readonly bucket: pulumi.Output<string>;
  readonly prefix: string;
  readonly region: string;
  /** S3-compatible endpoint URL (local stores). */
  readonly endpointUrl?: string;
  /** Static credentials (local stores), rendered into a Secret in the gateway's namespace. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: pulumi.Output<string> };
  /** The IAM role ARN (aws), principal (gcp) or store user (local). */
  readonly identity: pulumi.Input<string>;
  /** What must exist before the gateway pods start (the Pod Identity association, the IAM binding, the store's users). */
  readonly ready: readonly pulumi.Resource[];
}

export interface PayloadGrantContext {
  readonly cluster: Cluster;
  readonly region: string;
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn?: pulumi.Output<string>;
  readonly kmsKeyArn?: pulumi.Output<string>;
  readonly gcpProject?: string;
  readonly gcpProjectNumber?: string;
  readonly local?:
    | { readonly kind: "minio"; readonly url: string; readonly accessKeyId: string; readonly secretAccessKey: pulumi.Output<string> }
    | { readonly kind: "external"; readonly url: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: pulumi.Output<string> };
  /** The store's own readiness (local: the MinIO setup Job that creates the writer user). */
  readonly storeReady: readonly pulumi.Resource[];
}

/** Creates the writer's identity resources as children of `parent` (the ModelCache). */
export function grantPayloadWrite(name: string, w: PayloadLogWriter, c: PayloadGrantContext, parent: pulumi.Resource): PayloadLogAccess {
  const { eks, gke } = c.cluster;
  if (eks !== undefined && c.bucketArn !== undefined && c.kmsKeyArn !== undefined) {
    const o = { parent, provider: eks.provider };
    const role = new aws.iam.Role(`${name}-payload-writer`, { assumeRolePolicy: podIdentityTrustPolicy() }, o);
    const policy = new aws.iam.RolePolicy(`${name}-payload-writer`, {
      role: role.id, policy: pulumi.all([c.bucketArn, c.kmsKeyArn]).apply(([b, k]) => s3WritePrefixPolicy(b, w.prefix, k, c.region)),
    }, o);
    const assoc = new aws.eks.PodIdentityAssociation(`${name}-payload-writer`, {
      clusterName: eks.cluster.name, namespace: w.namespace, serviceAccount: w.serviceAccount, roleArn: role.arn,
    }, { ...o, dependsOn: [policy] });
    return { sink: "s3", bucket: c.bucketName, prefix: w.prefix, region: c.region, identity: role.arn, ready: [assoc] };
  }
  if (gke !== undefined) {
    const principal = workloadIdentityPrincipal(c.gcpProjectNumber ?? "", c.gcpProject ?? "", w.namespace, w.serviceAccount);
    const member = new gcp.storage.BucketIAMMember(`${name}-payload-writer`, {
      bucket: c.bucketName, role: "roles/storage.objectCreator", member: principal,
      condition: c.bucketName.apply((b) => gcsWritePrefixCondition(b, w.prefix)),
    }, { parent, provider: gke.provider });
    return { sink: "gcs", bucket: c.bucketName, prefix: w.prefix, region: c.region, identity: principal, ready: [member] };
  }
  if (c.local === undefined) throw new Error("ModelCache: payload logs on the local cloud need its store (the in-cluster MinIO or an external store)");
  const l = c.local;
  return {
    sink: "s3", bucket: c.bucketName, prefix: w.prefix, region: l.kind === "external" ? l.region : "us-east-1", endpointUrl: l.url,
    credentials: { accessKeyId: l.accessKeyId, secretAccessKey: l.secretAccessKey },
    identity: l.kind === "minio" ? `minio-user:${l.accessKeyId}` : `external-store-key:${l.accessKeyId}`,
    ready: [...c.storeReady],
  };
}
