/**
 * Publishing a model version into the environment's model cache, in the cache layout (docs/models.md): the
 * version's files under `<endpoint>/<version>/` and, written last, its `SHA256SUMS` manifest, so a pod never sees a
 * manifest before the files it lists. Content addressed: when the prefix already holds this exact manifest nothing
 * is uploaded. Before uploading, every file is hashed again: a file that changed since the digest was computed
 * stops the publication with nothing written. Objects under the prefix that the manifest does not list are deleted
 * (the pods' download refuses a prefix with files outside its manifest). Used by the Pulumi resource
 * (model-publication.ts) and the CLI (`autopilot models push`). Adapter.
 */
import { join } from "node:path";
import { MANIFEST_NAME, manifestDigest, manifestText, type ModelFile } from "./manifest.ts";
import { sha256File } from "./sources/local-files.ts";
import { type ObjectStore, openStore, type StoreLocation, type UploadTuning } from "./sources/object-store.ts";

/** What to publish. */
export interface PublishRequest {
  readonly endpoint: string;
  readonly version: string;
  /** Directory holding the files. */
  readonly dir: string;
  readonly files: readonly ModelFile[];
  /** The digest the plan computed; the files must still hash to it. */
  readonly digest: string;
}

export interface PublishResult {
  readonly digest: string;
  /** `s3://bucket/<endpoint>/<version>/`. */
  readonly url: string;
  /** Files uploaded (0 when the version was already there). */
  readonly uploadedFiles: number;
  readonly uploadedBytes: number;
  /** Multipart parts across all files (a single-request file counts 1). */
  readonly parts: number;
  /** Stale objects removed from the prefix. */
  readonly deleted: number;
  readonly unchanged: boolean;
}

export class PublishError extends Error {}

/** `<endpoint>/<version>/`. */
export function versionPrefix(endpoint: string, version: string): string {
  return `${endpoint}/${version}/`;
}

/** Publishes into an open store. */
export async function publishTo(store: ObjectStore, req: PublishRequest, tuning: UploadTuning = {}): Promise<PublishResult> {
  const prefix = versionPrefix(req.endpoint, req.version);
  const url = `${store.describe.split(" ")[0]}/${prefix}`;
  const manifest = manifestText(req.files);
  if (manifestDigest(manifest) !== req.digest) {
    throw new PublishError(`${req.endpoint}/${req.version}: the file list hashes to ${manifestDigest(manifest)}, not the planned ${req.digest}`);
  }
  const remote = await store.getText(`${prefix}${MANIFEST_NAME}`);
  if (remote === manifest) return { digest: req.digest, url, uploadedFiles: 0, uploadedBytes: 0, parts: 0, deleted: 0, unchanged: true };
  // The files must still be what the plan hashed.
  let next = 0;
  const files = [...req.files];
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, async () => {
    for (let i = next++; i < files.length; i = next++) {
      const f = files[i]!;
      const got = await sha256File(join(req.dir, f.path)).catch((e: Error) => { throw new PublishError(`${req.endpoint}/${req.version}: cannot read ${join(req.dir, f.path)}: ${e.message}`); });
      if (got !== f.sha256) {
        throw new PublishError(`${req.endpoint}/${req.version}: ${join(req.dir, f.path)} changed since its digest was computed (sha256 ${got}, planned ${f.sha256}); nothing was uploaded — run the preview again`);
      }
    }
  }));
  // A manifest from an earlier publication goes first, so no reader trusts it while files change under it.
  if (remote !== undefined) await store.delete([`${prefix}${MANIFEST_NAME}`]);
  let parts = 0;
  next = 0;
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, async () => {
    for (let i = next++; i < files.length; i = next++) {
      const f = files[i]!;
      const n = await store.putFile(`${prefix}${f.path}`, join(req.dir, f.path), f.bytes, tuning);
      parts += n;
    }
  }));
  const listed = new Set(files.map((f) => `${prefix}${f.path}`));
  const stale = (await store.list(prefix)).map((o) => o.key).filter((k) => !listed.has(k) && k !== `${prefix}${MANIFEST_NAME}`);
  if (stale.length > 0) await store.delete(stale);
  await store.putText(`${prefix}${MANIFEST_NAME}`, manifest);
  return {
    digest: req.digest, url, uploadedFiles: files.length, uploadedBytes: files.reduce((s, f) => s + f.bytes, 0), parts, deleted: stale.length, unchanged: false,
  };
}

/** Opens the store, publishes, closes. */
export async function publishVersion(location: StoreLocation, req: PublishRequest, tuning: UploadTuning = {}): Promise<PublishResult> {
  const store = openStore(location);
  try {
    return await publishTo(store, req, tuning);
  } finally {
    store.close();
  }
}

/** Removes a published version (its manifest first). */
export async function unpublishVersion(location: StoreLocation, endpoint: string, version: string): Promise<number> {
  const store = openStore(location);
  try {
    const prefix = versionPrefix(endpoint, version);
    await store.delete([`${prefix}${MANIFEST_NAME}`]);
    const keys = (await store.list(prefix)).map((o) => o.key);
    if (keys.length > 0) await store.delete(keys);
    return keys.length;
  } finally {
    store.close();
  }
}
