/**
 * The serving image of an MLflow-served model version: the pinned Python base of the model's own Python minor
 * version plus the model's pinned requirements (and the MLflow that wrote it), so `mlflow models serve
 * --env-manager local` runs in the environment the model was logged with. Pure: model facts in, Dockerfile and
 * content-addressed tag out. Identical environments give identical Dockerfiles, hence one tag and one image.
 */
import { createHash } from "node:crypto";
import type { FieldError } from "../types.ts";
import type { DescribedModel } from "./describe-model.ts";

/** Python bases by minor version, pinned by exact tag (set `imageDigests` `python3.11` etc. to pin by digest). */
export const PYTHON_BASES: Readonly<Record<string, string>> = {
  "3.9": "docker.io/library/python:3.9.23-slim-bookworm",
  "3.10": "docker.io/library/python:3.10.18-slim-bookworm",
  "3.11": "docker.io/library/python:3.11.13-slim-bookworm",
  "3.12": "docker.io/library/python:3.12.11-slim-bookworm",
  "3.13": "docker.io/library/python:3.13.7-slim-bookworm",
};

export interface ServingImageSpec {
  /** Content-addressed tag: `py<minor>-<sha256 of the Dockerfile, 16 hex>`. */
  readonly tag: string;
  readonly dockerfile: string;
  readonly base: string;
  readonly python: string;
  readonly requirements: readonly string[];
}

export type ServingImageResult = { readonly ok: true; readonly spec: ServingImageSpec } | { readonly ok: false; readonly error: FieldError };

/** The image spec of one version; `field` names the declaration field the version came from. */
export function servingImageSpec(endpoint: string, field: string, model: DescribedModel, digests: Readonly<Record<string, string>> = {}): ServingImageResult {
  const python = model.requirements?.python;
  const minor = python !== undefined ? /^(\d+\.\d+)/.exec(python)?.[1] : undefined;
  const fail = (value: unknown, allowed: string, reason: string): ServingImageResult => ({ ok: false, error: { subject: endpoint, field, value, allowed, reason } });
  if (minor === undefined) return fail(model.resolvedFrom, "an MLflow model whose python_env.yaml, conda.yaml or MLmodel names its Python version", "the serving image is built for the model's own Python");
  const baseTag = PYTHON_BASES[minor];
  if (baseTag === undefined) return fail(python, `Python ${Object.keys(PYTHON_BASES).join(", ")}`, `${model.resolvedFrom} was logged with Python ${python}`);
  const digest = digests[`python${minor}`];
  const base = digest !== undefined ? `${baseTag}@${digest}` : baseTag;
  const reqs = [...(model.requirements?.requirements ?? [])];
  if (!reqs.some((r) => r.startsWith("mlflow==") || r.startsWith("mlflow-skinny=="))) {
    if (model.mlflowVersion === undefined) return fail(model.resolvedFrom, "a model whose requirements or MLmodel pin its MLflow version", "the image's MLflow must be the one the model was logged with");
    reqs.push(`mlflow==${model.mlflowVersion}`);
  }
  reqs.sort();
  const quoted = reqs.map((r) => `'${r.replace(/'/g, "")}'`).join(" \\\n      ");
  const dockerfile = [
    "# syntax=docker/dockerfile:1",
    `FROM ${base}`,
    "ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1",
    `RUN pip install \\\n      ${quoted}`,
    'ENTRYPOINT ["mlflow"]',
    "",
  ].join("\n");
  const hash = createHash("sha256").update(dockerfile).digest("hex").slice(0, 16);
  return { ok: true, spec: { tag: `py${minor}-${hash}`, dockerfile, base, python: python!, requirements: reqs } };
}

/** The serving images a stack needs: one per distinct environment, and which one each endpoint version runs. */
export interface ServingImagePlan {
  readonly images: Readonly<Record<string, ServingImageSpec>>;
  /** endpoint → version → image tag. */
  readonly byVersion: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Plans the images of every version served by the MLflow scoring server with the platform's image (an explicit
 * `runtime.image` is the user's own). Returns the errors instead of throwing.
 */
export function planServingImages(
  endpoints: readonly { readonly name: string; readonly runtimeKind: string; readonly ownImage: boolean; readonly versions: readonly DescribedModel[]; readonly fields: readonly string[] }[],
  digests: Readonly<Record<string, string>> = {},
): { plan: ServingImagePlan; errors: FieldError[] } {
  const images: Record<string, ServingImageSpec> = {};
  const byVersion: Record<string, Record<string, string>> = {};
  const errors: FieldError[] = [];
  for (const e of endpoints) {
    if (e.runtimeKind !== "mlflow" || e.ownImage) continue;
    e.versions.forEach((v, i) => {
      const r = servingImageSpec(e.name, e.fields[i] ?? "model.uri", v, digests);
      if (!r.ok) {
        errors.push(r.error);
        return;
      }
      images[r.spec.tag] = r.spec;
      (byVersion[e.name] ??= {})[v.version] = r.spec.tag;
    });
  }
  return { plan: { images, byVersion }, errors };
}
