/**
 * Object stores the platform reads models from and publishes them to: S3 and S3-compatible servers (MinIO, an
 * external store; @aws-sdk/client-s3) and GCS (its JSON API over fetch). Adapter: network I/O only.
 *
 * Uploads: a file of `multipartThresholdBytes` or more goes up in parts of `partBytes`, `concurrency` parts at a
 * time. S3: a multipart upload (parts grown so a file never needs more than 9,000). GCS: a parallel composite
 * upload — each part a temporary object under `GCS_UPLOAD_TMP_PREFIX` (parts grown so a file never needs more than
 * 1,024, GCS's component limit), composed 32 at a time (the compose request's limit) into the final object, the
 * temporaries' generations deleted after (outright, also on a versioned bucket). An upload that fails is aborted (S3) or its temporaries deleted (GCS, once every
 * request in flight has ended), so no part is left behind. Below the threshold a file is one streamed request.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from "@aws-sdk/client-s3";

/** Where a store is and how this process authenticates to it. */
export interface StoreLocation {
  readonly kind: "s3" | "gcs";
  readonly bucket: string;
  /** S3-compatible endpoint (MinIO, moto, an external store); absent = AWS S3. */
  readonly endpointUrl?: string;
  readonly region?: string;
  /** S3 credentials; absent = the AWS SDK's default chain (environment, profile, instance role). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** GCS OAuth token; absent = GOOGLE_OAUTH_ACCESS_TOKEN, else `gcloud auth print-access-token`. */
  readonly gcsToken?: string;
}

export interface UploadTuning {
  /** @default 64 MiB */
  readonly multipartThresholdBytes?: number;
  /** @default 16 MiB (S3's minimum is 5 MiB) */
  readonly partBytes?: number;
  /** Parts in flight per file. @default 8 */
  readonly concurrency?: number;
}

/** One object below a prefix. */
export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
}

export interface ObjectStore {
  /** `s3://bucket` / `gs://bucket` (plus the endpoint), for messages. */
  readonly describe: string;
  list(prefix: string): Promise<StoredObject[]>;
  /** An object's bytes as a stream; throws when absent. */
  get(key: string): Promise<Readable>;
  /** An object's text, or undefined when it does not exist. */
  getText(key: string): Promise<string | undefined>;
  /** Uploads a local file (multipart above the threshold). Returns the number of parts (1 = single request). */
  putFile(key: string, path: string, bytes: number, tuning?: UploadTuning): Promise<number>;
  putText(key: string, text: string): Promise<void>;
  /** Deletes objects (absent ones are no error). */
  delete(keys: readonly string[]): Promise<void>;
  close(): void;
}

export class StoreError extends Error {}

const MiB = 1 << 20;

/** Bucket-level prefix of a GCS parallel composite upload's temporary objects (outside every model prefix). */
export const GCS_UPLOAD_TMP_PREFIX = "autopilot-tmp/parallel-composite-uploads/";
/** Source objects one GCS compose request takes. */
const GCS_COMPOSE_MAX_SOURCES = 32;
/** Components a GCS composite object may have. */
const GCS_MAX_COMPONENTS = 1024;

/**
 * Runs `task(0..count-1)` with at most `concurrency` in flight. On the first failure no new task starts; it resolves
 * or rejects (with the first error) only once every started task has ended.
 */
async function eachInParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    for (let i = next++; i < count && failure === undefined; i = next++) {
      try {
        await task(i);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  }));
  if (failure !== undefined) throw failure.error;
}

function s3Store(loc: StoreLocation): ObjectStore {
  const client = new S3Client({
    region: loc.region ?? "us-east-1",
    ...(loc.endpointUrl !== undefined ? { endpoint: loc.endpointUrl, forcePathStyle: true } : {}),
    ...(loc.credentials !== undefined ? { credentials: { ...loc.credentials } } : {}),
  });
  const describe = `s3://${loc.bucket}${loc.endpointUrl !== undefined ? ` at ${loc.endpointUrl}` : ""}`;
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
      throw new StoreError(`${what} on ${describe} failed: ${err.name ?? "error"}${err.$metadata?.httpStatusCode !== undefined ? ` (HTTP ${err.$metadata.httpStatusCode})` : ""}: ${err.message ?? String(e)}`);
    }
  };
  return {
    describe,
    async list(prefix) {
      const out: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await wrap(`listing ${prefix}`, () => client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ContinuationToken: token })));
        for (const o of page.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith("/")) out.push({ key: o.Key, bytes: o.Size ?? 0 });
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return out;
    },
    async get(key) {
      const r = await wrap(`reading ${key}`, () => client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key })));
      return r.Body as Readable;
    },
    async getText(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key }));
        return await r.Body!.transformToString();
      } catch (e) {
        const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (err.name === "NoSuchKey" || err.$metadata?.httpStatusCode === 404) return undefined;
        return wrap(`reading ${key}`, () => Promise.reject(e));
      }
    },
    async putFile(key, path, bytes, tuning = {}) {
      const threshold = tuning.multipartThresholdBytes ?? 64 * MiB;
      if (bytes < threshold) {
        await wrap(`uploading ${key}`, () => client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: key, Body: createReadStream(path), ContentLength: bytes })));
        return 1;
      }
      const partBytes = Math.max(tuning.partBytes ?? 16 * MiB, Math.ceil(bytes / 9000));
      const parts = Math.ceil(bytes / partBytes);
      const created = await wrap(`starting the multipart upload of ${key}`, () => client.send(new CreateMultipartUploadCommand({ Bucket: loc.bucket, Key: key })));
      const uploadId = created.UploadId!;
      const etags: string[] = new Array(parts);
      const fh = await open(path, "r");
      try {
        let next = 0;
        await Promise.all(Array.from({ length: Math.min(tuning.concurrency ?? 8, parts) }, async () => {
          for (let i = next++; i < parts; i = next++) {
            const len = Math.min(partBytes, bytes - i * partBytes);
            const buf = Buffer.allocUnsafe(len);
            const { bytesRead } = await fh.read(buf, 0, len, i * partBytes);
            if (bytesRead !== len) throw new StoreError(`${path} changed while it was uploaded (part ${i + 1} short)`);
            const r = await wrap(`uploading part ${i + 1}/${parts} of ${key}`, () => client.send(new UploadPartCommand({ Bucket: loc.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: buf, ContentLength: len })));
            etags[i] = r.ETag!;
          }
        }));
        await wrap(`completing the multipart upload of ${key}`, () => client.send(new CompleteMultipartUploadCommand({
          Bucket: loc.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        })));
        return parts;
      } catch (e) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: loc.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
        throw e;
      } finally {
        await fh.close();
      }
    },
    async putText(key, text) {
      await wrap(`uploading ${key}`, () => client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: key, Body: text, ContentType: "text/plain" })));
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        await wrap(`deleting ${batch.length} objects`, () => client.send(new DeleteObjectsCommand({ Bucket: loc.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
      }
    },
    close() {
      client.destroy();
    },
  };
}

function gcsToken(loc: StoreLocation): string {
  if (loc.gcsToken !== undefined) return loc.gcsToken;
  const env = process.env["GOOGLE_OAUTH_ACCESS_TOKEN"];
  if (env !== undefined && env !== "") return env;
  try {
    return execFileSync("gcloud", ["auth", "print-access-token"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    throw new StoreError(`gs://${loc.bucket}: no GCS credentials (set GOOGLE_OAUTH_ACCESS_TOKEN or log in with gcloud)`);
  }
}

function gcsStore(loc: StoreLocation): ObjectStore {
  const api = process.env["STORAGE_EMULATOR_HOST"] ?? "https://storage.googleapis.com";
  const describe = `gs://${loc.bucket}`;
  let token: string | undefined;
  const auth = () => ({ authorization: `Bearer ${(token ??= gcsToken(loc))}` });
  const req = async (what: string, url: string, init: RequestInit = {}, allow404 = false): Promise<Response | undefined> => {
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers: { ...auth(), ...(init.headers as Record<string, string> | undefined) } });
    } catch (e) {
      throw new StoreError(`${what} on ${describe} failed: ${(e as Error).message}`);
    }
    if (allow404 && res.status === 404) return undefined;
    if (!res.ok) throw new StoreError(`${what} on ${describe} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res;
  };
  const obj = (key: string) => `${api}/storage/v1/b/${loc.bucket}/o/${encodeURIComponent(key)}`;
  /** Concatenates `sources` (in order) into `destination`. */
  const compose = (what: string, sources: readonly string[], destination: string): Promise<Response | undefined> =>
    req(what, `${obj(destination)}/compose`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ sourceObjects: sources.map((name) => ({ name })), destination: { bucket: loc.bucket } }),
    });
  return {
    describe,
    async list(prefix) {
      const out: StoredObject[] = [];
      let page: string | undefined;
      do {
        const q = new URLSearchParams({ prefix, ...(page !== undefined ? { pageToken: page } : {}) });
        const body = (await (await req(`listing ${prefix}`, `${api}/storage/v1/b/${loc.bucket}/o?${q}`))!.json()) as { items?: { name: string; size: string }[]; nextPageToken?: string };
        for (const o of body.items ?? []) if (!o.name.endsWith("/")) out.push({ key: o.name, bytes: Number(o.size) });
        page = body.nextPageToken;
      } while (page !== undefined);
      return out;
    },
    async get(key) {
      const res = await req(`reading ${key}`, `${obj(key)}?alt=media`);
      return Readable.fromWeb(res!.body! as import("node:stream/web").ReadableStream);
    },
    async getText(key) {
      const res = await req(`reading ${key}`, `${obj(key)}?alt=media`, {}, true);
      return res === undefined ? undefined : await res.text();
    },
    async putFile(key, path, bytes, tuning = {}) {
      const upload = (what: string, name: string, start: number, length: number) =>
        req(what, `${api}/upload/storage/v1/b/${loc.bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {
          method: "POST", body: Readable.toWeb(length === 0 ? Readable.from([]) : createReadStream(path, { start, end: start + length - 1 })) as never,
          headers: { "content-length": String(length) }, duplex: "half",
        } as RequestInit);
      const threshold = tuning.multipartThresholdBytes ?? 64 * MiB;
      if (bytes < threshold) {
        await upload(`uploading ${key}`, key, 0, bytes);
        return 1;
      }
      const partBytes = Math.max(tuning.partBytes ?? 16 * MiB, Math.ceil(bytes / GCS_MAX_COMPONENTS));
      const parts = Math.ceil(bytes / partBytes);
      const concurrency = tuning.concurrency ?? 8;
      const tmp = `${GCS_UPLOAD_TMP_PREFIX}${randomUUID()}/`;
      // Every temporary a request was sent for (one whose answer was lost may still exist), with the generation the
      // store gave it: deleting that generation removes it outright, where a plain delete on a versioned bucket would
      // keep it as a noncurrent version until the lifecycle rule expires it.
      const attempted: { name: string; generation?: string }[] = [];
      const track = async (name: string, request: () => Promise<Response | undefined>) => {
        const entry: { name: string; generation?: string } = { name };
        attempted.push(entry);
        const body = (await (await request())!.json()) as { generation?: string | number };
        if (body.generation !== undefined) entry.generation = String(body.generation);
      };
      try {
        let level = Array.from({ length: parts }, (_, i) => `${tmp}part-${String(i + 1).padStart(4, "0")}`);
        await eachInParallel(parts, concurrency, async (i) => {
          const start = i * partBytes;
          await track(level[i]!, () => upload(`uploading part ${i + 1}/${parts} of ${key}`, level[i]!, start, Math.min(partBytes, bytes - start)));
        });
        // Compose 32 sources at a time until one request makes the final object.
        for (let depth = 1; level.length > GCS_COMPOSE_MAX_SOURCES; depth++) {
          const sources = level;
          const groups = Math.ceil(sources.length / GCS_COMPOSE_MAX_SOURCES);
          level = Array.from({ length: groups }, (_, g) => `${tmp}compose-${depth}-${String(g + 1).padStart(4, "0")}`);
          await eachInParallel(groups, concurrency, async (g) => {
            await track(level[g]!, () => compose(`composing ${key} (level ${depth}, group ${g + 1}/${groups})`, sources.slice(g * GCS_COMPOSE_MAX_SOURCES, (g + 1) * GCS_COMPOSE_MAX_SOURCES), level[g]!));
          });
        }
        await (await compose(`composing ${key} from ${parts} parts`, level, key))!.body?.cancel();
        return parts;
      } finally {
        // Best effort, every temporary tried: a failed upload's own error is the one reported.
        await eachInParallel(attempted.length, concurrency, (i) => {
          const { name, generation } = attempted[i]!;
          return req(`deleting the upload part ${name}`, `${obj(name)}${generation !== undefined ? `?generation=${generation}` : ""}`, { method: "DELETE" }, true).then(() => undefined, () => undefined);
        });
      }
    },
    async putText(key, text) {
      await req(`uploading ${key}`, `${api}/upload/storage/v1/b/${loc.bucket}/o?uploadType=media&name=${encodeURIComponent(key)}`, { method: "POST", body: text, headers: { "content-type": "text/plain" } });
    },
    async delete(keys) {
      for (const k of keys) await req(`deleting ${k}`, obj(k), { method: "DELETE" }, true);
    },
    close() {},
  };
}

/** A client for `loc`. */
export function openStore(loc: StoreLocation): ObjectStore {
  return loc.kind === "gcs" ? gcsStore(loc) : s3Store(loc);
}
