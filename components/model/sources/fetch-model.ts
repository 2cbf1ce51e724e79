/**
 * Brings a model version onto this machine so its files can be hashed and published: a local directory is used
 * in place; registry, run and store references are resolved and downloaded into a staging cache
 * (`<cacheRoot>/sha256-<hex>/`, keyed by the manifest digest). A registry version (immutable in MLflow) is
 * downloaded once: `<cacheRoot>/index/` maps (tracking server, name, version) to its digest. Adapter: file system
 * and network.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { manifestDigest, manifestText, type ModelFile } from "../manifest.ts";
import type { ModelListing } from "../describe-model.ts";
import type { ModelUri } from "../model-uri.ts";
import { listLocalFiles, readLocalText } from "./local-files.ts";
import { downloadArtifact, listArtifacts, type MlflowServer, RegistryError, resolveRegistryModel, resolveRunModel } from "./mlflow-registry.ts";
import { type ObjectStore, openStore, type StoreLocation } from "./object-store.ts";

/** What fetching needs from its caller. */
export interface FetchContext {
  /** The MLflow tracking server for `models:/` and `runs:/` references. */
  readonly registry?: MlflowServer;
  /** Read access to `s3://` / `gs://` sources (endpoint, region, credentials). @default AWS defaults / gcloud */
  readonly storeFor?: (kind: "s3" | "gcs", bucket: string) => StoreLocation;
  /** Opens the client of an `s3://` / `gs://` source (the offline evaluation passes a test double). @default openStore */
  readonly openSourceStore?: (kind: "s3" | "gcs", bucket: string) => ObjectStore;
  /** Staging cache for downloaded models. @default $AUTOPILOT_MODEL_CACHE or ~/.cache/autopilot-serving/models */
  readonly cacheRoot?: string;
  /** Base of relative directories. @default process.cwd() */
  readonly cwd?: string;
  /** Simple Repository API URL of the Python package index the serving images install from: their pinned
   * requirements are checked against it before anything is created. @default not checked */
  readonly packageIndex?: string;
}

/** A model version on this machine. */
export interface FetchedModel extends ModelListing {
  /** The directory holding its files. */
  readonly dir: string;
}

export class FetchError extends Error {}

export function defaultCacheRoot(): string {
  return process.env["AUTOPILOT_MODEL_CACHE"] ?? join(homedir(), ".cache", "autopilot-serving", "models");
}

function listing(dir: string, files: readonly ModelFile[], resolvedFrom: string, registryVersion?: number): FetchedModel {
  return { dir, files, text: (p) => readLocalText(dir, p), resolvedFrom, ...(registryVersion !== undefined ? { registryVersion } : {}) };
}

/** Hashes a freshly downloaded directory and moves it to its content address (an existing copy wins). */
async function settle(cacheRoot: string, tmp: string): Promise<{ dir: string; files: ModelFile[]; digest: string }> {
  const files = await listLocalFiles(tmp);
  const digest = manifestDigest(manifestText(files));
  const dir = join(cacheRoot, `sha256-${digest.slice("sha256:".length)}`);
  if (existsSync(dir)) rmSync(tmp, { recursive: true, force: true });
  else renameSync(tmp, dir);
  return { dir, files, digest };
}

function indexFile(cacheRoot: string, key: string): string {
  return join(cacheRoot, "index", createHash("sha256").update(key).digest("hex"));
}

/** A cached copy recorded for `key`, if it still hashes to its digest's manifest (the file list is re-read). */
async function cached(cacheRoot: string, key: string): Promise<{ dir: string; files: ModelFile[] } | undefined> {
  const f = indexFile(cacheRoot, key);
  if (!existsSync(f)) return undefined;
  const digest = readFileSync(f, "utf8").trim();
  const dir = join(cacheRoot, `sha256-${digest.replace(/^sha256:/, "")}`);
  if (!existsSync(dir)) return undefined;
  const files = await listLocalFiles(dir);
  return manifestDigest(manifestText(files)) === digest ? { dir, files } : undefined;
}

async function download(files: readonly { path: string }[], tmp: string, open: (path: string) => Promise<Readable>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, async () => {
    for (let i = next++; i < files.length; i = next++) {
      const dst = join(tmp, files[i]!.path);
      mkdirSync(dirname(dst), { recursive: true });
      await pipeline(await open(files[i]!.path), createWriteStream(dst));
    }
  }));
}

function newTmp(cacheRoot: string): string {
  const tmp = join(cacheRoot, ".partial", randomBytes(8).toString("hex"));
  mkdirSync(tmp, { recursive: true });
  return tmp;
}

/** Downloads from an artifact location (proxy, store, or local path). */
async function fetchArtifactDir(ctx: FetchContext, cacheRoot: string, artifactUri: string, uri: string): Promise<{ dir: string; files: ModelFile[] }> {
  if (artifactUri.startsWith("mlflow-artifacts:")) {
    const registry = ctx.registry!;
    const listed = await listArtifacts(registry, artifactUri, uri);
    if (listed.length === 0) throw new FetchError(`${uri}: the tracking server lists no files at ${artifactUri}`);
    const tmp = newTmp(cacheRoot);
    try {
      await download(listed, tmp, async (p) => Readable.fromWeb(await downloadArtifact(registry, artifactUri, p, uri) as import("node:stream/web").ReadableStream));
      return await settle(cacheRoot, tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const store = /^(s3|gs):\/\/([^/]+)\/?(.*)$/.exec(artifactUri);
  if (store !== null) return fetchStorePrefix(ctx, cacheRoot, store[1] === "s3" ? "s3" : "gcs", store[2]!, store[3]!.replace(/\/*$/, "/"), uri);
  const local = artifactUri.startsWith("file://") ? decodeURIComponent(artifactUri.slice("file://".length)) : artifactUri;
  if (local.startsWith("/") && existsSync(local)) return { dir: local, files: await listLocalFiles(local) };
  throw new FetchError(`${uri}: its files are at ${artifactUri}, which this machine cannot read (serve artifacts through the tracking server: mlflow server --serve-artifacts)`);
}

async function fetchStorePrefix(ctx: FetchContext, cacheRoot: string, kind: "s3" | "gcs", bucket: string, prefix: string, uri: string): Promise<{ dir: string; files: ModelFile[] }> {
  const store: ObjectStore = ctx.openSourceStore?.(kind, bucket) ?? openStore(ctx.storeFor?.(kind, bucket) ?? { kind, bucket });
  try {
    const objects = (await store.list(prefix === "/" ? "" : prefix)).map((o) => ({ ...o, path: o.key.slice(prefix === "/" ? 0 : prefix.length) }));
    if (objects.length === 0) throw new FetchError(`${uri}: ${store.describe} holds no objects under ${prefix}`);
    const tmp = newTmp(cacheRoot);
    try {
      await download(objects, tmp, (p) => store.get(`${prefix === "/" ? "" : prefix}${p}`));
      return await settle(cacheRoot, tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } finally {
    store.close();
  }
}

/** Resolves and fetches one model reference. Errors say which reference and what failed. */
export async function fetchModel(ref: ModelUri, ctx: FetchContext = {}): Promise<FetchedModel> {
  const cacheRoot = ctx.cacheRoot ?? defaultCacheRoot();
  if (ref.kind === "local") {
    const dir = resolve(ctx.cwd ?? process.cwd(), ref.path);
    if (!existsSync(dir)) throw new FetchError(`${ref.uri}: no such directory (${dir})`);
    if (!statSync(dir).isDirectory()) throw new FetchError(`${ref.uri}: not a directory (a model is a directory with an MLmodel file)`);
    return listing(dir, await listLocalFiles(dir), dir);
  }
  mkdirSync(cacheRoot, { recursive: true });
  if (ref.kind === "s3" || ref.kind === "gcs") {
    const got = await fetchStorePrefix(ctx, cacheRoot, ref.kind, ref.bucket, ref.prefix === "" ? "/" : ref.prefix, ref.uri);
    return listing(got.dir, got.files, ref.uri);
  }
  const registry = ctx.registry;
  if (registry === undefined || registry.trackingUri === "") {
    throw new FetchError(`${ref.uri}: no MLflow tracking server is configured (stack config mlflowTrackingUri, or MLFLOW_TRACKING_URI for the CLI)`);
  }
  try {
    if (ref.kind === "run") {
      const key = `${registry.trackingUri}|run|${ref.runId}|${ref.path}`;
      const hit = await cached(cacheRoot, key);
      if (hit !== undefined) return listing(hit.dir, hit.files, ref.uri);
      const at = await resolveRunModel(registry, ref.runId, ref.path, ref.uri);
      const got = await fetchArtifactDir(ctx, cacheRoot, at, ref.uri);
      remember(cacheRoot, key, got);
      return listing(got.dir, got.files, ref.uri);
    }
    const reg = ref as Extract<ModelUri, { kind: "registry-alias" | "registry-version" }>;
    const v = await resolveRegistryModel(registry, reg.kind === "registry-alias" ? { name: reg.name, alias: reg.alias } : { name: reg.name, version: reg.version }, ref.uri);
    const from = `models:/${v.name}/${v.version}`;
    const key = `${registry.trackingUri}|model|${v.name}|${v.version}`;
    const hit = await cached(cacheRoot, key);
    if (hit !== undefined) return listing(hit.dir, hit.files, from, v.version);
    const got = await fetchArtifactDir(ctx, cacheRoot, v.artifactUri, ref.uri);
    remember(cacheRoot, key, got);
    return listing(got.dir, got.files, from, v.version);
  } catch (e) {
    if (e instanceof RegistryError || e instanceof FetchError) throw e;
    throw new FetchError(`${ref.uri}: ${(e as Error).message}`);
  }
}

function remember(cacheRoot: string, key: string, got: { dir: string; files: ModelFile[] }): void {
  if (!got.dir.startsWith(cacheRoot)) return;
  const f = indexFile(cacheRoot, key);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, `${manifestDigest(manifestText(got.files))}\n`);
}
