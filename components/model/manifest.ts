/**
 * A model version's manifest (the cache layout contract, docs/models.md): `SHA256SUMS` in `sha256sum` format, one
 * line per file, paths relative to the version directory, sorted by path; the version's digest is the sha256 of
 * the manifest's bytes. The version label follows the source: `v<N>` for a registry version, `r-<run id>` for
 * a run, `c-<digest>` (content) for a directory or a store prefix. Pure.
 */
import { createHash } from "node:crypto";
import type { ModelUri } from "./model-uri.ts";

/** Name of the manifest beside a version's files. */
export const MANIFEST_NAME = "SHA256SUMS";

/** One file of a version. */
export interface ModelFile {
  /** Relative POSIX path inside the version directory. */
  readonly path: string;
  readonly bytes: number;
  /** Lowercase hex sha256 of the content. */
  readonly sha256: string;
}

/** Refuses paths the manifest format or the download script cannot carry. */
export function checkManifestPath(p: string): string | undefined {
  if (p === "" || p.startsWith("/") || p.split("/").some((s) => s === "" || s === "." || s === "..")) return `"${p}" is not a relative path`;
  if (/[\n\r\\]/.test(p)) return `"${p}" contains a newline or backslash`;
  if (p === MANIFEST_NAME) return `"${p}" is the manifest's own name`;
  return undefined;
}

/** The manifest text of `files` (sorted by path, code-unit order). */
export function manifestText(files: readonly ModelFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sorted.map((f) => `${f.sha256}  ${f.path}\n`).join("");
}

/** `sha256:<hex>` of a manifest. */
export function manifestDigest(manifest: string): string {
  return `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
}

/** Parses a manifest back into (path, sha256) pairs; undefined when a line is not `<64 hex>  <path>`. */
export function parseManifest(text: string): { path: string; sha256: string }[] | undefined {
  const out: { path: string; sha256: string }[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m === null) return undefined;
    out.push({ sha256: m[1]!, path: m[2]! });
  }
  return out;
}

/**
 * The version label of a resolved source. Registry versions keep their number; runs their id's first 12 digits;
 * anything else is named by its content. Every label fits the endpoint's version rule (≤ 15 characters).
 */
export function versionLabel(ref: ModelUri, resolvedVersion: number | undefined, digest: string): string {
  if ((ref.kind === "registry-alias" || ref.kind === "registry-version") && resolvedVersion !== undefined) return `v${resolvedVersion}`;
  if (ref.kind === "run") return `r-${ref.runId.slice(0, 12)}`;
  return `c-${digest.replace(/^sha256:/, "").slice(0, 12)}`;
}
