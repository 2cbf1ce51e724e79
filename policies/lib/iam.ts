/** AWS IAM policy documents as they appear in `aws.iam.Policy` / `RolePolicy` inputs (JSON string or object). */
import { arr, at, obj, str } from "./read.ts";

export interface Statement {
  readonly index: number;
  readonly effect: string;
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  readonly condition: Record<string, unknown> | undefined;
}

/** Parses a policy document; `undefined` when it is not valid JSON or has no Statement. */
export function parsePolicyDocument(policy: unknown): Statement[] | undefined {
  let doc = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return undefined;
    }
  }
  const raw = at(doc, "Statement");
  const statements = Array.isArray(raw) ? raw : obj(raw) !== undefined ? [raw] : undefined;
  if (statements === undefined) return undefined;
  return statements.map((s, index) => ({
    index,
    effect: str(at(s, "Effect")) ?? "",
    actions: list(at(s, "Action")),
    notActions: list(at(s, "NotAction")),
    resources: list(at(s, "Resource")),
    notResources: list(at(s, "NotResource")),
    condition: obj(at(s, "Condition")),
  }));
}

function list(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return arr(v).filter((x): x is string => typeof x === "string");
}
