/**
 * Policy 10: model access is least-privilege — read-only, on one prefix, no wildcard actions or resources. The one
 * writer the platform has, the gateway's payload-log writer, may only create objects under the payload-log prefix
 * (S3 `s3:PutObject` on `<bucket>/<payload prefix>*`; GCS `roles/storage.objectCreator` with a condition on it).
 */
import { arr, at, globMatch, str } from "../lib/read.ts";
import { parsePolicyDocument, type Statement } from "../lib/iam.ts";
import type { ResourcePolicyDefinition, ResourceView, Violation } from "../types.ts";

const AWS_POLICIES = ["aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"];
const AWS_ROLE = "aws:iam/role:Role";
const AWS_ATTACHMENTS = [
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment",
];
const GCP_MEMBERS = ["gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding"];
/** Grants above the bucket: project, folder and organization IAM (member/binding, and the whole-policy form). */
const GCP_WIDE_GRANTS = ["projects", "folder", "organizations"].flatMap((scope) => [
  `gcp:${scope}/iAMMember:IAMMember`, `gcp:${scope}/iAMBinding:IAMBinding`,
]);
const GCP_WIDE_POLICIES = ["gcp:projects/iAMPolicy:IAMPolicy", "gcp:folder/iAMPolicy:IAMPolicy", "gcp:organizations/iAMPolicy:IAMPolicy"];

export interface ModelAccessConfig {
  /** S3 actions a model-reading identity may have. */
  readOnlyActions: string[];
  /** GCS roles a model-reading identity may have. */
  readOnlyRoles: string[];
  /** Key prefix (ending in `/`) where the payload-log writer may create objects. */
  payloadLogPrefix: string;
  /** S3 actions the payload-log writer may have, only on objects under `payloadLogPrefix`. */
  payloadWriteActions: string[];
  /** GCS roles the payload-log writer may have, only with a condition on `payloadLogPrefix`. */
  payloadWriteRoles: string[];
  /** AWS managed policies (name after `arn:aws:iam::aws:policy/`) that reach every bucket; never attached. */
  broadManagedPolicies: string[];
  /** Roles (globs) that reach every bucket when granted on a project, folder or organization. */
  projectWideStorageRoles: string[];
}

const defaults: ModelAccessConfig = {
  readOnlyActions: ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"],
  readOnlyRoles: ["roles/storage.objectViewer"],
  payloadLogPrefix: "payload-logs/",
  payloadWriteActions: ["s3:PutObject"],
  payloadWriteRoles: ["roles/storage.objectCreator"],
  broadManagedPolicies: [
    "AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess",
    "AmazonS3OutpostsFullAccess", "AmazonS3OutpostsReadOnlyAccess", "job-function/DataScientist", "job-function/SystemAdministrator",
  ],
  projectWideStorageRoles: ["roles/owner", "roles/editor", "roles/viewer", "roles/storage.*"],
};

export const modelAccessLeastPrivilege: ResourcePolicyDefinition<ModelAccessConfig> = {
  kind: "resource",
  name: "model-access-least-privilege",
  description: "Identities that touch the model store are read-only on one model prefix (the payload-log writer: create-only under the payload-log prefix): no wildcard actions or resources.",
  enforcementLevel: "mandatory",
  remediation:
    "Grant only s3:GetObject on arn:aws:s3:::<bucket>/<endpoint prefix>/* and s3:ListBucket on the bucket with an " +
    "s3:prefix condition of \"<endpoint prefix>/*\" (GCS: roles/storage.objectViewer with an IAM condition " +
    "resource.name.startsWith(\"projects/_/buckets/<bucket>/objects/<endpoint prefix>/\")); the ModelCache " +
    "component's grantRead() builds exactly that. The gateway's payload-log writer may hold only s3:PutObject on " +
    "arn:aws:s3:::<bucket>/payload-logs/* (GCS: roles/storage.objectCreator with the condition on payload-logs/), as " +
    "grantPayloadWrite() builds it.",
  defaults,
  configSchema: {
    readOnlyActions: { type: "array", items: { type: "string" }, default: defaults.readOnlyActions, description: "S3 actions allowed for model readers." },
    readOnlyRoles: { type: "array", items: { type: "string" }, default: defaults.readOnlyRoles, description: "GCS roles allowed for model readers." },
    payloadLogPrefix: { type: "string", default: defaults.payloadLogPrefix, description: "Key prefix where the payload-log writer may create objects." },
    payloadWriteActions: { type: "array", items: { type: "string" }, default: defaults.payloadWriteActions, description: "S3 actions allowed for the payload-log writer, on that prefix only." },
    payloadWriteRoles: { type: "array", items: { type: "string" }, default: defaults.payloadWriteRoles, description: "GCS roles allowed for the payload-log writer, with a condition on that prefix only." },
    broadManagedPolicies: {
      type: "array", items: { type: "string" }, default: defaults.broadManagedPolicies,
      description: "AWS managed policy names that reach every bucket (never attached).",
    },
    projectWideStorageRoles: {
      type: "array", items: { type: "string" }, default: defaults.projectWideStorageRoles,
      description: "Role globs that reach every bucket when granted above the bucket (project, folder, organization).",
    },
  },
  types: [...AWS_POLICIES, AWS_ROLE, ...AWS_ATTACHMENTS, ...GCP_MEMBERS, ...GCP_WIDE_GRANTS, ...GCP_WIDE_POLICIES],
  check: (r, config) => {
    if (AWS_POLICIES.includes(r.type)) return checkAws(r.props["policy"], `${r.type.split(":").pop()} ${r.name}`, config);
    if (r.type === AWS_ROLE) return checkRole(r, config);
    if (AWS_ATTACHMENTS.includes(r.type)) return checkManaged(`${r.type.split(":").pop()} ${r.name}`, [str(r.props["policyArn"])], config);
    if (GCP_MEMBERS.includes(r.type)) return checkGcp(r, config);
    return checkGcpWide(r, config);
  },
};

/** A Role's inline policies and managed policy ARNs. */
function checkRole(r: ResourceView, config: ModelAccessConfig): Violation[] {
  const who = `Role ${r.name}`;
  const out = checkManaged(who, arr(r.props["managedPolicyArns"]).map(str), config);
  arr(r.props["inlinePolicies"]).forEach((p, i) => {
    const policy = at(p, "policy");
    if (policy !== undefined && policy !== "") out.push(...checkAws(policy, `${who} inlinePolicies[${i}] "${str(at(p, "name")) ?? ""}"`, config));
  });
  return out;
}

function checkManaged(who: string, arns: readonly (string | undefined)[], config: ModelAccessConfig): Violation[] {
  return arns.flatMap((arn) => {
    const m = /^arn:aws[\w-]*:iam::aws:policy\/(.+)$/.exec(arn ?? "");
    const name = m?.[1]?.replace(/^service-role\//, "");
    return name !== undefined && config.broadManagedPolicies.includes(name)
      ? [{ message: `${who}: attaches the AWS managed policy ${name}, which reaches every bucket (the model store included).` }]
      : [];
  });
}

/** Project-, folder- and organization-level grants of roles that reach every bucket. */
function checkGcpWide(r: ResourceView, config: ModelAccessConfig): Violation[] {
  const who = `${r.type.split(":").pop()} ${r.name}`;
  const scope = r.type.split(":")[1]?.split("/")[0] ?? "project";
  let roles: { role: string; where: string }[];
  if (GCP_WIDE_POLICIES.includes(r.type)) {
    const raw = r.props["policyData"];
    let doc: unknown = raw;
    if (typeof raw === "string") {
      try {
        doc = JSON.parse(raw);
      } catch {
        return [{ message: `${who}: policyData is not valid JSON.` }];
      }
    }
    roles = arr(at(doc, "bindings")).map((b, i) => ({ role: str(at(b, "role")) ?? "", where: ` bindings[${i}]` }));
  } else roles = [{ role: str(r.props["role"]) ?? "", where: "" }];
  return roles.filter((x) => config.projectWideStorageRoles.some((g) => globMatch(g, x.role))).map((x) => ({
    message: `${who}${x.where}: grants ${x.role} on the whole ${scope === "projects" ? "project" : scope === "organizations" ? "organization" : scope}, which reaches every bucket (the model store included); grant roles/storage.objectViewer on the model bucket with a prefix condition instead.`,
  }));
}

function checkAws(policy: unknown, who: string, config: ModelAccessConfig): Violation[] {
  const statements = parsePolicyDocument(policy);
  if (statements === undefined) return [{ message: `${who}: policy is not a valid IAM policy document.` }];
  const touchesS3 = (s: Statement) => [...s.actions, ...s.notActions].some((a) => a === "*" || a.toLowerCase().startsWith("s3:"));
  const out: Violation[] = [];
  for (const s of statements.filter((s) => s.effect === "Allow" && touchesS3(s))) {
    const where = `${who} Statement[${s.index}]`;
    if (s.notActions.length > 0) out.push({ message: `${where}: NotAction with Allow grants everything else.` });
    if (s.notResources.length > 0) out.push({ message: `${where}: NotResource with Allow grants every other resource.` });
    const wild = s.actions.filter((a) => a.includes("*"));
    if (wild.length > 0) out.push({ message: `${where}: wildcard action ${wild.join(", ")}.` });
    const write = s.actions.filter((a) => !a.includes("*") && !config.readOnlyActions.includes(a));
    if (write.length > 0 && isPayloadWrite(s, config)) continue;
    if (write.length > 0) out.push({ message: `${where}: ${write.join(", ")} is not read-only (allowed: ${config.readOnlyActions.join(", ")}).` });
    for (const res of s.resources) {
      const problem = resourceProblem(res, s);
      if (problem !== undefined) out.push({ message: `${where}: Resource "${res}" ${problem}.` });
    }
  }
  return out;
}

/** A statement of the payload-log writer: only its write actions, only on objects under the payload-log prefix. */
function isPayloadWrite(s: Statement, config: ModelAccessConfig): boolean {
  const prefix = config.payloadLogPrefix;
  return s.actions.length > 0 && s.actions.every((a) => config.payloadWriteActions.includes(a)) && s.resources.length > 0 &&
    s.resources.every((res) => {
      const m = /^arn:aws[\w-]*:s3:::([^/*]+)\/(.*)$/.exec(res);
      return m !== null && prefix !== "" && m[2]!.startsWith(prefix) && !m[2]!.slice(0, -1).includes("*");
    });
}

/** Why an S3 resource ARN is broader than one model prefix, or undefined when it is fine. */
function resourceProblem(res: string, s: Statement): string | undefined {
  if (res === "*") return "is a wildcard over every resource";
  const m = /^arn:aws[\w-]*:s3:::([^/]+)(?:\/(.*))?$/.exec(res);
  if (m === null) return res.includes("*") ? "contains a wildcard" : undefined;
  const bucket = m[1] ?? "";
  const key = m[2];
  if (bucket.includes("*")) return "wildcards the bucket name";
  if (key === undefined) {
    // Bucket-level ARN: only listing, and only under one prefix.
    const prefixes = [at(s.condition, "StringLike", "s3:prefix"), at(s.condition, "StringEquals", "s3:prefix")]
      .flatMap((p) => (Array.isArray(p) ? p : [p])).map(str).filter((p): p is string => p !== undefined);
    if (prefixes.length === 0 || prefixes.some((p) => p === "*" || p === "" || p.startsWith("*"))) {
      return "lists the whole bucket; add a Condition StringLike s3:prefix \"<model prefix>/*\"";
    }
    return undefined;
  }
  const prefix = key.replace(/\/?\*$/, "");
  if (prefix === "" || prefix.includes("*")) return "covers the whole bucket instead of one model prefix";
  return undefined;
}

function checkGcp(r: ResourceView, config: ModelAccessConfig): Violation[] {
  const who = `${r.type.split(":").pop()} ${r.name}`;
  const out: Violation[] = [];
  const role = str(r.props["role"]) ?? "";
  const expression = str(at(r.props, "condition", "expression")) ?? "";
  const m = /resource\.name\.startsWith\(\s*["']projects\/_\/buckets\/[^/"']+\/objects\/([^"']*)["']\s*\)/.exec(expression);
  const writer = config.payloadWriteRoles.includes(role);
  if (writer && (m?.[1] ?? "") !== config.payloadLogPrefix) {
    out.push({ message: `${who}: role "${role}" creates objects; allowed only with the condition resource.name.startsWith("projects/_/buckets/<bucket>/objects/${config.payloadLogPrefix}") (the payload-log writer).` });
    return out;
  }
  if (!writer && !config.readOnlyRoles.includes(role)) {
    out.push({ message: `${who}: role "${role}" is not read-only (allowed: ${config.readOnlyRoles.join(", ")}; ${config.payloadWriteRoles.join(", ")} on the payload-log prefix only).` });
  }
  const prefix = (m?.[1] ?? "").replace(/\/$/, "");
  if (prefix === "" || prefix.includes("*")) {
    out.push({
      message: `${who}: no IAM condition limiting access to one model prefix ` +
        `(expected resource.name.startsWith("projects/_/buckets/<bucket>/objects/<prefix>/")).`,
    });
  }
  return out;
}
