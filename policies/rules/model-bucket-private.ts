/** Policy 9: model buckets are private (public access blocked / prevented), encrypted and versioned. */
import { arr, at, obj, str } from "../lib/read.ts";
import type { ResourceView, StackPolicyDefinition, Violation } from "../types.ts";

export const AWS_BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const AWS_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const AWS_SSE = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const AWS_VERSIONING = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
const AWS_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
export const GCP_BUCKET = "gcp:storage/bucket:Bucket";
const GCP_MEMBERS = ["gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding"];
const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

export interface ModelBucketConfig {
  /** Require a customer-managed KMS key (aws:kms / Cloud KMS) instead of provider-managed encryption. @default false */
  requireCustomerManagedKeys: boolean;
}

export const modelBucketPrivate: StackPolicyDefinition<ModelBucketConfig> = {
  kind: "stack",
  name: "model-bucket-private-encrypted-versioned",
  description: "Every bucket is private (public access blocked on S3, prevented on GCS), encrypted at rest and versioned.",
  enforcementLevel: "mandatory",
  remediation:
    "Use the ModelCache component: on S3 it adds a BucketPublicAccessBlock with all four flags true, a server-side " +
    "encryption configuration (aws:kms) and versioning Enabled; on GCS it sets publicAccessPrevention: \"enforced\", " +
    "uniformBucketLevelAccess: true and versioning.enabled: true. Never grant allUsers/allAuthenticatedUsers or public ACLs.",
  defaults: { requireCustomerManagedKeys: false },
  configSchema: {
    requireCustomerManagedKeys: { type: "boolean", default: false, description: "Require customer-managed KMS keys." },
  },
  check: (resources, config) => {
    const out: Violation[] = [];
    for (const b of resources.filter((r) => AWS_BUCKETS.includes(r.type))) out.push(...checkS3(b, resources, config));
    for (const b of resources.filter((r) => r.type === GCP_BUCKET)) out.push(...checkGcs(b, config));
    for (const m of resources.filter((r) => GCP_MEMBERS.includes(r.type))) {
      const members = [str(m.props["member"]), ...arr(m.props["members"]).map(str)].filter((x) => x !== undefined);
      const open = members.filter((x) => PUBLIC_MEMBERS.includes(x));
      if (open.length > 0) out.push({ message: `${m.type.split(":").pop()} ${m.name}: grants ${str(m.props["role"])} to ${open.join(", ")} (public).`, urn: m.urn });
    }
    for (const p of resources.filter((r) => r.type === AWS_BUCKET_POLICY)) {
      if (hasPublicAllow(p.props["policy"])) out.push({ message: `BucketPolicy ${p.name}: allows Principal "*" (public).`, urn: p.urn });
    }
    return out;
  },
};

/**
 * Companion resources (`bucket` prop) that belong to bucket `b`. The engine's property dependencies decide when
 * present (they stay known during preview), then plain dependencies on `b`; otherwise the `bucket` value is
 * compared with b's name or id.
 */
function companions(b: ResourceView, resources: readonly ResourceView[], types: readonly string[]): ResourceView[] {
  let keys: Set<string> | undefined;
  return resources.filter((r) => {
    if (!types.includes(r.type)) return false;
    const deps = r.propertyDependencies?.["bucket"];
    if (deps !== undefined && deps.length > 0) return deps.some((d) => d.urn === b.urn);
    if ((r.dependencies ?? []).some((d) => d.urn === b.urn)) return true;
    keys ??= new Set([str(b.props["bucket"]), b.id].filter((x): x is string => x !== undefined));
    return keys.has(str(r.props["bucket"]) ?? "\0");
  });
}

function checkS3(b: ResourceView, resources: readonly ResourceView[], config: ModelBucketConfig): Violation[] {
  const problems: string[] = [];
  const acl = str(b.props["acl"]);
  if (acl !== undefined && PUBLIC_ACLS.includes(acl)) problems.push(`acl is "${acl}"`);
  const pabs = companions(b, resources, [AWS_PAB]);
  const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
  if (!pabs.some((p) => flags.every((f) => p.props[f] === true))) {
    problems.push(`no BucketPublicAccessBlock with ${flags.join(", ")} all true`);
  }
  const algorithms = [
    str(at(b.props, "serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault", "sseAlgorithm")),
    ...companions(b, resources, AWS_SSE).flatMap((s) =>
      arr(s.props["rules"]).map((rule) => str(at(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")))),
  ].filter((a): a is string => a !== undefined);
  const accepted = config.requireCustomerManagedKeys ? ["aws:kms", "aws:kms:dsse"] : ["AES256", "aws:kms", "aws:kms:dsse"];
  if (!algorithms.some((a) => accepted.includes(a))) {
    problems.push(`no server-side encryption configuration with sseAlgorithm ${accepted.join(" or ")}`);
  }
  const versioned =
    at(b.props, "versioning", "enabled") === true ||
    companions(b, resources, AWS_VERSIONING).some((v) => str(at(v.props, "versioningConfiguration", "status")) === "Enabled");
  if (!versioned) problems.push("versioning is not Enabled");
  return problems.length === 0 ? [] : [{ message: `S3 bucket ${b.name}: ${problems.join("; ")}.`, urn: b.urn }];
}

function checkGcs(b: ResourceView, config: ModelBucketConfig): Violation[] {
  const problems: string[] = [];
  if (str(b.props["publicAccessPrevention"]) !== "enforced") {
    problems.push(`publicAccessPrevention is ${JSON.stringify(b.props["publicAccessPrevention"] ?? null)}, not "enforced"`);
  }
  if (b.props["uniformBucketLevelAccess"] !== true) problems.push("uniformBucketLevelAccess is not true");
  if (at(b.props, "versioning", "enabled") !== true) problems.push("versioning.enabled is not true");
  // GCS always encrypts at rest with Google-managed keys; only a CMEK requirement can fail here.
  if (config.requireCustomerManagedKeys && str(at(b.props, "encryption", "defaultKmsKeyName")) === undefined) {
    problems.push("encryption.defaultKmsKeyName (customer-managed key) is not set");
  }
  return problems.length === 0 ? [] : [{ message: `GCS bucket ${b.name}: ${problems.join("; ")}.`, urn: b.urn }];
}

function hasPublicAllow(policy: unknown): boolean {
  const doc = typeof policy === "string" ? safeParse(policy) : policy;
  return arr(at(doc, "Statement")).some((s) => {
    const principal = at(s, "Principal");
    const isStar = principal === "*" || at(principal, "AWS") === "*" || arr(at(principal, "AWS")).includes("*");
    return str(at(s, "Effect")) === "Allow" && isStar && obj(at(s, "Condition")) === undefined;
  });
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
