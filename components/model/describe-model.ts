/**
 * From a model's files (listed and hashed by a source adapter) and the declaration's optional overrides to what
 * the platform serves: flavor, size, dtype, requirements, manifest, digest and version label. Pure. Every refusal
 * is a FieldError naming the endpoint, the field, the value and what is allowed.
 */
import { MODEL_DTYPES, MODEL_FLAVORS, type ModelDtype, type ModelFlavor, type ModelReference } from "../endpoint-types.ts";
import type { FieldError } from "../types.ts";
import { checkManifestPath, manifestDigest, manifestText, type ModelFile, versionLabel } from "./manifest.ts";
import {
  ModelFileError, type MlmodelFacts, parseMlmodel, parsePythonRequirements, parseTransformersConfig,
  platformFlavor, type PythonRequirements, SERVED_MLFLOW_FLAVOR_NAMES, type TransformersFacts,
} from "./model-files.ts";
import type { ModelUri } from "./model-uri.ts";

/** A model version's files as a source adapter found them, with the text of its small metadata files. */
export interface ModelListing {
  readonly files: readonly ModelFile[];
  /** Text of a metadata file (MLmodel, requirements.txt, python_env.yaml, conda.yaml, config.json), if present. */
  readonly text: (path: string) => string | undefined;
  /** Registry version number the reference resolved to (models:/…). */
  readonly registryVersion?: number;
  /** Where the files were read from, after resolution (e.g. `models:/iris/3`). */
  readonly resolvedFrom: string;
}

/** Files whose text `describeModel` reads. */
export const METADATA_FILES = ["MLmodel", "requirements.txt", "python_env.yaml", "conda.yaml", "config.json", "model/config.json", "model.safetensors.index.json"] as const;

/** A model version as the platform serves it. */
export interface DescribedModel {
  readonly flavor: ModelFlavor;
  readonly format?: string;
  readonly bytes: number;
  readonly parameterCount?: number;
  readonly dtype?: ModelDtype;
  /** MLflow flavors in MLmodel ([] without one). */
  readonly mlflowFlavors: readonly string[];
  readonly mlflowVersion?: string;
  readonly requirements?: PythonRequirements;
  readonly manifest: string;
  readonly digest: string;
  readonly version: string;
  readonly resolvedFrom: string;
  readonly files: readonly ModelFile[];
  /** What the flavor and size were taken from, for the plan. */
  readonly reason: string;
  /** The declaration field the size came from and what said it (runtime selection names it when the model is too big). */
  readonly sizeFrom: { readonly field: string; readonly source: string };
}

export type Described = { readonly ok: true; readonly model: DescribedModel } | { readonly ok: false; readonly errors: FieldError[] };

/** Describes one version. `field` is the declaration field the version came from (`model.uri`, `trafficSplit[1].uri`). */
export function describeModel(endpoint: string, field: string, overrides: ModelReference, ref: ModelUri, listing: ModelListing): Described {
  const errors: FieldError[] = [];
  const add = (f: string, value: unknown, allowed: string, reason?: string) =>
    errors.push({ subject: endpoint, field: f, value, allowed, ...(reason !== undefined ? { reason } : {}) });
  const fail = (): Described => ({ ok: false, errors });

  if (listing.files.length === 0) {
    add(field, ref.uri, "a model with at least one file", `nothing found at ${listing.resolvedFrom}`);
    return fail();
  }
  for (const f of listing.files) {
    const bad = checkManifestPath(f.path);
    if (bad !== undefined) add(field, ref.uri, "files with plain relative names", bad);
  }
  let mlmodel: MlmodelFacts | undefined;
  let config: TransformersFacts | undefined;
  let requirements: PythonRequirements | undefined;
  try {
    const mlText = listing.text("MLmodel");
    if (mlText !== undefined) mlmodel = parseMlmodel(mlText);
    const cfgText = listing.text("model/config.json") ?? listing.text("config.json");
    if (cfgText !== undefined) config = parseTransformersConfig(cfgText);
    if (mlmodel !== undefined) requirements = parsePythonRequirements(listing.text, mlmodel);
  } catch (e) {
    if (!(e instanceof ModelFileError)) throw e;
    add(field, ref.uri, "a readable MLflow model", `${listing.resolvedFrom}: ${e.message}`);
    return fail();
  }

  let flavor: ModelFlavor | undefined;
  let reason: string;
  if (overrides.flavor !== undefined) {
    if (!MODEL_FLAVORS.includes(overrides.flavor)) {
      add("model.flavor", overrides.flavor, MODEL_FLAVORS.join(", "));
      return fail();
    }
    flavor = overrides.flavor;
    reason = `flavor ${flavor} (declared)`;
  } else if (mlmodel !== undefined) {
    flavor = platformFlavor(mlmodel.flavors);
    if (flavor === undefined) {
      add(`${field} (MLmodel flavors)`, mlmodel.flavors, `a model with one of the flavors ${SERVED_MLFLOW_FLAVOR_NAMES}`,
        `${listing.resolvedFrom} has no flavor the platform serves`);
      return fail();
    }
    reason = `flavor ${flavor} from MLmodel (${mlmodel.flavors.join(", ")})`;
  } else if (config?.generative === true) {
    flavor = "llm";
    reason = `flavor llm from config.json (${config.architectures.join(", ")})`;
  } else {
    add(field, ref.uri, `an MLflow model (a directory with an MLmodel file), a Hugging Face causal LM (config.json), or set model.flavor`,
      `${listing.resolvedFrom} has no MLmodel file`);
    return fail();
  }

  if (overrides.dtype !== undefined && !MODEL_DTYPES.includes(overrides.dtype)) add("model.dtype", overrides.dtype, MODEL_DTYPES.join(", "));
  const parameterCount = overrides.parameterCount ?? config?.parameterCount;
  const dtype = overrides.dtype ?? config?.dtype;
  const fileBytes = listing.files.reduce((s, f) => s + f.bytes, 0);
  const bytes = overrides.bytes ?? (flavor === "llm" || flavor === "transformers" ? fileBytes : (mlmodel?.modelSizeBytes ?? fileBytes));
  // Runtime selection sizes from parameters × dtype when both are known, else from the bytes.
  const sizeField = parameterCount !== undefined && dtype !== undefined
    ? (overrides.parameterCount !== undefined ? "model.parameterCount" : `${field} (config.json parameters × dtype)`)
    : overrides.bytes !== undefined ? "model.bytes"
      : flavor !== "llm" && flavor !== "transformers" && mlmodel?.modelSizeBytes !== undefined ? `${field} (MLmodel model_size_bytes)` : `${field} (total size of the files)`;
  if (parameterCount !== undefined && overrides.parameterCount === undefined) reason += `; ${parameterCount} parameters from config.json`;
  if (requirements !== undefined && requirements.unpinned.length > 0 && (flavor !== "llm" && flavor !== "onnx" && flavor !== "custom")) {
    add(`${field} (requirements)`, requirements.unpinned, "requirements pinned to one version each (name==version), from the package index",
      `${listing.resolvedFrom}: a serving image cannot be built reproducibly from these`);
  }
  if (errors.length > 0) return fail();
  const manifest = manifestText(listing.files);
  const digest = manifestDigest(manifest);
  return {
    ok: true,
    model: {
      flavor,
      ...(overrides.format !== undefined ? { format: overrides.format } : {}),
      bytes,
      ...(parameterCount !== undefined ? { parameterCount } : {}),
      ...(dtype !== undefined ? { dtype } : {}),
      mlflowFlavors: mlmodel?.flavors ?? [],
      ...(mlmodel?.mlflowVersion !== undefined ? { mlflowVersion: mlmodel.mlflowVersion } : {}),
      ...(requirements !== undefined ? { requirements } : {}),
      manifest, digest,
      version: versionLabel(ref, listing.registryVersion, digest),
      resolvedFrom: listing.resolvedFrom,
      files: listing.files,
      reason,
      sizeFrom: { field: sizeField, source: sizeField.includes("(") ? listing.resolvedFrom : "declared" },
    },
  };
}
