/**
 * Least-privilege access documents for one endpoint's model prefix. Pure; the tests assert on these and the
 * components attach them.
 */

/**
 * IAM policy (JSON) of an EKS endpoint role: read objects under `prefix`, list only under `prefix`, decrypt with the
 * bucket key only through S3 in the bucket's region — `kms:ViaService` names the regional endpoint
 * (`s3.<region>.amazonaws.com`, AWS KMS condition keys reference); a bare `s3.amazonaws.com` never matches.
 */
export function s3ReadPrefixPolicy(bucketArn: string, prefix: string, kmsKeyArn: string, region: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadOwnModels", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: [`${bucketArn}/${prefix}*`] },
      { Sid: "ListOwnPrefix", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn], Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } } },
      { Sid: "DecryptViaS3", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [kmsKeyArn], Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } } },
    ],
  });
}

/** Trust policy of an EKS Pod Identity role. */
export function podIdentityTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
  });
}

/** Bucket policy refusing any request not made over TLS. */
export function s3DenyInsecureTransport(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
  });
}

/** Workload Identity principal of a Kubernetes service account (no Google service account in between). */
export function workloadIdentityPrincipal(projectNumber: string, projectId: string, namespace: string, serviceAccount: string): string {
  return `principal://iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/${projectId}.svc.id.goog/subject/ns/${namespace}/sa/${serviceAccount}`;
}

/** IAM condition limiting a GCS role binding to objects under `prefix`. */
export function gcsPrefixCondition(bucket: string, prefix: string): { title: string; description: string; expression: string } {
  return {
    title: `read-${prefix.replace(/\/$/, "")}`.slice(0, 100),
    description: `Objects under gs://${bucket}/${prefix} only`,
    expression: `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${prefix}")`,
  };
}

/** MinIO policy (S3 policy language) reading only `prefix` of `bucket`: objects under it, listing only under it. */
export function minioReadPrefixPolicy(bucket: string, prefix: string): { resources: string[]; actions: string[]; condition?: Record<string, unknown> }[] {
  return [
    { resources: [`arn:aws:s3:::${bucket}/${prefix}*`], actions: ["s3:GetObject"] },
    { resources: [`arn:aws:s3:::${bucket}`], actions: ["s3:ListBucket"], condition: { StringLike: { "s3:prefix": [`${prefix}*`] } } },
  ];
}

/** Key prefix of the gateway's payload logs (inference tables) in the environment's bucket. */
export const PAYLOAD_LOG_PREFIX = "payload-logs/";

/**
 * IAM policy (JSON) of the gateway's payload-log writer on EKS: `s3:PutObject` on objects under `prefix` only — no
 * read, list, delete or overwrite-by-version rights — and a data key from the bucket's KMS key only through S3 in
 * the bucket's region (SSE-KMS PutObject calls `kms:GenerateDataKey` as the caller).
 */
export function s3WritePrefixPolicy(bucketArn: string, prefix: string, kmsKeyArn: string, region: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "WritePayloadLogs", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${bucketArn}/${prefix}*`] },
      { Sid: "EncryptViaS3", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: [kmsKeyArn], Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } } },
    ],
  });
}

/** IAM condition limiting a GCS object-creator binding to new objects under `prefix`. */
export function gcsWritePrefixCondition(bucket: string, prefix: string): { title: string; description: string; expression: string } {
  return {
    title: `write-${prefix.replace(/\/$/, "")}`.slice(0, 100),
    description: `New objects under gs://${bucket}/${prefix} only`,
    expression: `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${prefix}")`,
  };
}

/** MinIO policy (S3 policy language) of the payload-log writer: `s3:PutObject` under `prefix` only. */
export function minioWritePrefixPolicy(bucket: string, prefix: string): { resources: string[]; actions: string[] }[] {
  return [{ resources: [`arn:aws:s3:::${bucket}/${prefix}*`], actions: ["s3:PutObject"] }];
}
