/**
 * Unknown keys in an endpoint declaration (`sloP99ms` for `sloP99Ms`): TypeScript catches them only where the
 * declaration is a typed literal, so the planner refuses them too, with the closest known key.
 */
import type { FieldError } from "./types.ts";

/** Known keys by object path (`versions[]`: each version). `model` is checked by its own rules. */
export const DECLARATION_KEYS: Readonly<Record<string, readonly string[]>> = {
  "": ["name", "model", "runtime", "computePool", "gpus", "concurrency", "replicas", "provisionedConcurrency", "scaleToZero", "sloP99Ms", "payloadLogging", "versions", "port", "metricsPort", "resources"],
  runtime: ["kind", "image"],
  concurrency: ["min", "max"],
  replicas: ["min", "max"],
  resources: ["cpu", "memoryGiB"],
  "versions[]": ["version", "digest", "weight"],
};

/** Edit distance (insert, delete, substitute; case differences cost nothing extra beyond one step). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key a misspelling most likely means, if one is close. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same !== undefined) return same;
  const prefix = known.find((k) => k.length >= 3 && (lower.startsWith(k.toLowerCase()) || k.toLowerCase().startsWith(lower)));
  if (prefix !== undefined) return prefix;
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (best === undefined || d < best.d) best = { key: k, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

function unknownIn(obj: unknown, path: string, known: readonly string[], subject: string, out: FieldError[]): void {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return;
  for (const [k, v] of Object.entries(obj)) {
    if (known.includes(k)) continue;
    const guess = didYouMean(k, known);
    out.push({
      subject, field: path === "" ? k : `${path}.${k}`, value: v,
      allowed: `the fields ${known.join(", ")}`,
      reason: guess !== undefined ? `unknown field; did you mean "${guess}"?` : "unknown field",
    });
  }
}

/** One FieldError per key the declaration's objects do not have. */
export function unknownDeclarationKeys(d: unknown, subject: string): FieldError[] {
  const out: FieldError[] = [];
  unknownIn(d, "", DECLARATION_KEYS[""]!, subject, out);
  const o = (d ?? {}) as Record<string, unknown>;
  for (const part of ["runtime", "concurrency", "replicas", "resources"]) unknownIn(o[part], part, DECLARATION_KEYS[part]!, subject, out);
  if (Array.isArray(o["versions"])) o["versions"].forEach((v, i) => unknownIn(v, `versions[${i}]`, DECLARATION_KEYS["versions[]"]!, subject, out));
  return out;
}
