/**
 * The model reference users write (`model.uri`), parsed. Pure: text in, typed value out.
 *
 * Forms: `models:/<name>/<version>` and `models:/<name>@<alias>` (MLflow Model Registry), `runs:/<run-id>/<path>`
 * (an MLflow run's artifact), `s3://<bucket>/<prefix>`, `gs://<bucket>/<prefix>`, and a local directory (absolute,
 * relative to the working directory, or `file://`).
 */

/** A parsed model reference. */
export type ModelUri =
  | { readonly kind: "registry-version"; readonly uri: string; readonly name: string; readonly version: number }
  | { readonly kind: "registry-alias"; readonly uri: string; readonly name: string; readonly alias: string }
  | { readonly kind: "run"; readonly uri: string; readonly runId: string; readonly path: string }
  | { readonly kind: "s3" | "gcs"; readonly uri: string; readonly bucket: string; readonly prefix: string }
  | { readonly kind: "local"; readonly uri: string; readonly path: string };

/** What `model.uri` accepts, for error messages. */
export const MODEL_URI_FORMS =
  "models:/<name>/<version>, models:/<name>@<alias>, runs:/<run-id>/<path>, s3://<bucket>/<prefix>, gs://<bucket>/<prefix>, or a local directory";

export type ParsedModelUri = { readonly ok: true; readonly ref: ModelUri } | { readonly ok: false; readonly reason: string };

const NAME = /^[^/@\s][^/@]*$/;
const ALIAS = /^[A-Za-z0-9_-]{1,255}$/;
const RUN_ID = /^[0-9a-f]{32}$/;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/;

/** Parses `uri`; a failure says why (the caller names the field and lists MODEL_URI_FORMS). */
export function parseModelUri(uri: unknown): ParsedModelUri {
  const bad = (reason: string): ParsedModelUri => ({ ok: false, reason });
  if (typeof uri !== "string" || uri.trim() === "") return bad("a model reference is required");
  if (uri.startsWith("models:/")) {
    const rest = uri.slice("models:/".length);
    const at = rest.indexOf("@");
    if (at >= 0) {
      const name = rest.slice(0, at);
      const alias = rest.slice(at + 1);
      if (!NAME.test(name)) return bad(`"${name}" is not a registered model name`);
      if (!ALIAS.test(alias)) return bad(`"${alias}" is not an alias (letters, digits, '_' and '-')`);
      return { ok: true, ref: { kind: "registry-alias", uri, name, alias } };
    }
    const slash = rest.lastIndexOf("/");
    const name = slash > 0 ? rest.slice(0, slash) : rest;
    const version = slash > 0 ? rest.slice(slash + 1) : "";
    if (!NAME.test(name)) return bad(`"${name}" is not a registered model name`);
    if (!/^[1-9][0-9]{0,8}$/.test(version)) {
      return bad(version === "" ? "a registry reference needs a version or an alias" : `"${version}" is not a version number (stages such as Production are not supported: use an alias)`);
    }
    return { ok: true, ref: { kind: "registry-version", uri, name, version: Number(version) } };
  }
  if (uri.startsWith("runs:/")) {
    const rest = uri.slice("runs:/".length);
    const slash = rest.indexOf("/");
    const runId = slash >= 0 ? rest.slice(0, slash) : rest;
    const path = slash >= 0 ? rest.slice(slash + 1).replace(/\/+$/, "") : "";
    if (!RUN_ID.test(runId)) return bad(`"${runId}" is not a run id (32 lowercase hex digits)`);
    if (path === "" || path.split("/").some((p) => p === ".." || p === "")) return bad("a run reference needs the model's artifact path, e.g. runs:/<run-id>/model");
    return { ok: true, ref: { kind: "run", uri, runId, path } };
  }
  const store = /^(s3|gs):\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (store !== null) {
    const bucket = store[2]!;
    if (!BUCKET.test(bucket)) return bad(`"${bucket}" is not a bucket name`);
    const key = store[3]!.replace(/\/+$/, "");
    if (key.split("/").some((p) => p === "..")) return bad("the prefix must not contain '..'");
    return { ok: true, ref: { kind: store[1] === "s3" ? "s3" : "gcs", uri, bucket, prefix: key === "" ? "" : `${key}/` } };
  }
  if (uri.startsWith("file://")) {
    const path = decodeURIComponent(uri.slice("file://".length));
    if (!path.startsWith("/")) return bad("a file:// reference must be absolute (file:///path)");
    return { ok: true, ref: { kind: "local", uri, path } };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  if (scheme !== null && scheme[1]!.length > 1) return bad(`the scheme "${scheme[1]}:" is not supported`);
  return { ok: true, ref: { kind: "local", uri, path: uri } };
}

/** True when the reference names something a registry or store resolves (not a local directory). */
export function isRemote(ref: ModelUri): boolean {
  return ref.kind !== "local";
}
