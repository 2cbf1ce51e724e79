/**
 * Resolves every endpoint's model references before anything is planned or created: parses each URI, fetches the
 * version (registry, run, store or directory; sources/fetch-model.ts), reads what its files say
 * (describe-model.ts) and returns the endpoints in their resolved form (flavor, size, version labels and
 * computed digests) with the versions to publish. One bad endpoint never stops the others: every problem is
 * collected and thrown together as one DeclarationError, before any resource exists.
 */
import type { EndpointDeclaration, ResolvedEndpoint } from "../endpoint-types.ts";
import { DeclarationError, type FieldError } from "../types.ts";
import { type DescribedModel, describeModel } from "./describe-model.ts";
import { MODEL_URI_FORMS, parseModelUri } from "./model-uri.ts";
import { type FetchContext, fetchModel } from "./sources/fetch-model.ts";

/** A resolved version with the local directory its files are in (what the publication uploads). */
export interface ModelVersionSource extends DescribedModel {
  readonly endpoint: string;
  readonly dir: string;
  readonly weight: number;
  /** The declaration field it came from (`model.uri`, `trafficSplit[1].uri`). */
  readonly field: string;
}

export interface ResolvedStack {
  readonly endpoints: ResolvedEndpoint[];
  /** Versions by endpoint name, in traffic-split order. */
  readonly models: Readonly<Record<string, readonly ModelVersionSource[]>>;
}

const OVERRIDES = ["uri", "flavor", "format", "parameterCount", "dtype", "bytes"];

/** Resolves one declaration; returns its errors instead of throwing. */
export async function resolveEndpoint(d: EndpointDeclaration, ctx: FetchContext): Promise<{ endpoint?: ResolvedEndpoint; versions?: ModelVersionSource[]; errors: FieldError[] }> {
  const name = String(d.name);
  const errors: FieldError[] = [];
  const add = (field: string, value: unknown, allowed: string, reason?: string) =>
    errors.push({ subject: name, field, value, allowed, ...(reason !== undefined ? { reason } : {}) });
  const model = d.model as unknown as Record<string, unknown> | undefined;
  if (model === undefined || model === null || typeof model !== "object") {
    add("model", model, `{ uri: ${MODEL_URI_FORMS} }`);
    return { errors };
  }
  for (const k of Object.keys(model)) if (!OVERRIDES.includes(k)) add(`model.${k}`, model[k], `no such field (allowed: ${OVERRIDES.join(", ")})`);
  const legacy = d as unknown as Record<string, unknown>;
  if (legacy["versions"] !== undefined) add("versions", legacy["versions"], "unset: versions and digests come from the model (use trafficSplit: [{ uri, weight }] for a canary)");
  if (model["bytes"] !== undefined && !(Number.isInteger(model["bytes"]) && (model["bytes"] as number) > 0)) add("model.bytes", model["bytes"], "a positive integer number of bytes");
  if (model["parameterCount"] !== undefined && !(Number.isInteger(model["parameterCount"]) && (model["parameterCount"] as number) > 0)) add("model.parameterCount", model["parameterCount"], "a positive integer");

  const targets = d.trafficSplit ?? [{ uri: d.model.uri, weight: 100 }];
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > 4) {
    add("trafficSplit", d.trafficSplit, "1 to 4 entries { uri, weight }");
    return { errors };
  }
  const field = (i: number) => (d.trafficSplit === undefined ? "model.uri" : `trafficSplit[${i}].uri`);
  targets.forEach((t, i) => {
    const w = t?.weight;
    if (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 100) add(`trafficSplit[${i}].weight`, w, "an integer from 0 to 100");
    for (const k of Object.keys(t ?? {})) if (k !== "uri" && k !== "weight") add(`trafficSplit[${i}].${k}`, (t as unknown as Record<string, unknown>)[k], "no such field (allowed: uri, weight)");
  });
  const total = targets.reduce((s, t) => s + (typeof t?.weight === "number" ? t.weight : 0), 0);
  if (total !== 100) add("trafficSplit[].weight", targets.map((t) => t?.weight), "weights that sum to 100", `they sum to ${total}`);
  const refs = targets.map((t, i) => {
    const p = parseModelUri(t?.uri);
    if (!p.ok) add(field(i), t?.uri, MODEL_URI_FORMS, p.reason);
    return p.ok ? p.ref : undefined;
  });
  if (errors.length > 0) return { errors };

  const versions: ModelVersionSource[] = [];
  await Promise.all(refs.map(async (ref, i) => {
    try {
      const fetched = await fetchModel(ref!, ctx);
      const described = describeModel(name, field(i), d.model, ref!, fetched);
      if (!described.ok) errors.push(...described.errors);
      else versions[i] = { ...described.model, endpoint: name, dir: fetched.dir, weight: targets[i]!.weight, field: field(i) };
    } catch (e) {
      add(field(i), ref!.uri, MODEL_URI_FORMS, (e as Error).message);
    }
  }));
  if (errors.length > 0) return { errors };
  const labels = new Map<string, number>();
  versions.forEach((v, i) => {
    const j = labels.get(v.version);
    if (j !== undefined) add(field(i), targets[i]!.uri, "references to different model versions", `it resolves to ${v.version}, as ${field(j)} does`);
    labels.set(v.version, i);
    if (v.flavor !== versions[0]!.flavor) add(field(i), targets[i]!.uri, `a model of flavor ${versions[0]!.flavor} (every version of an endpoint has one runtime)`, `it is ${v.flavor}`);
  });
  if (errors.length > 0) return { errors };
  const first = versions[0]!;
  const biggest = versions.reduce((a, v) => (v.bytes > a.bytes ? v : a));
  const bytes = biggest.bytes;
  const { model: _m, trafficSplit: _t, ...settings } = d;
  const endpoint: ResolvedEndpoint = {
    ...settings,
    model: {
      flavor: first.flavor,
      bytes,
      ...(first.format !== undefined ? { format: first.format } : {}),
      ...(first.parameterCount !== undefined ? { parameterCount: first.parameterCount } : {}),
      ...(first.dtype !== undefined ? { dtype: first.dtype } : {}),
      sizeFrom: biggest.sizeFrom,
    },
    versions: versions.map((v) => ({ version: v.version, digest: v.digest, weight: v.weight })),
  };
  return { endpoint, versions, errors };
}

/** Resolves every declaration (in parallel); throws one DeclarationError listing every problem. */
export async function resolveEndpoints(decls: readonly EndpointDeclaration[], ctx: FetchContext = {}): Promise<ResolvedStack> {
  const results = await Promise.all(decls.map((d) => resolveEndpoint(d, ctx)));
  const errors = results.flatMap((r) => r.errors);
  if (errors.length > 0) throw new DeclarationError("endpoint", errors);
  const models: Record<string, ModelVersionSource[]> = {};
  for (const r of results) models[r.endpoint!.name] = r.versions!;
  return { endpoints: results.map((r) => r.endpoint!), models };
}
