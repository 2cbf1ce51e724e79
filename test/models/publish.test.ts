/**
 * Publishing a version into an S3-compatible store (moto's server from the virtualenv, on loopback): the
 * ModelPublication provider run the way Pulumi's dynamic-provider host runs it (serialized by Pulumi's closure
 * serializer, loaded from that text), the files and manifest read back and verified with Debian's AWS CLI v2 and
 * coreutils' sha256sum, content addressing (a second publication uploads nothing), parallel multipart for a large
 * file, and the refusals: a file changed since its digest was computed (nothing uploaded), stale objects removed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { manifestDigest, manifestText } from "../../components/model/manifest.ts";
import type { ModelPublicationInputs } from "../../components/model/model-publication.ts";
import { publishVersion } from "../../components/model/publish.ts";
import { listLocalFiles } from "../../components/model/sources/local-files.ts";
import type { StoreLocation } from "../../components/model/sources/object-store.ts";
import { startS3Server, type S3Server } from "../gateway/s3-server.ts";
import { hostedProvider } from "./hosted-provider.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const AWS = "/usr/bin/aws";

describe("model publication into an S3-compatible store (moto on loopback, AWS CLI v2)", () => {
  let s3: S3Server;
  let work = "";
  let store: StoreLocation;
  const awsEnv = () => ({ ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1", HOME: work });
  const aws = (...args: string[]) => execFileSync(AWS, ["--endpoint-url", s3.endpoint, ...args], { env: awsEnv(), encoding: "utf8" });
  const keysUnder = (prefix: string): string[] => {
    const out = aws("s3api", "list-objects-v2", "--bucket", "models", "--prefix", prefix, "--output", "json").trim();
    return out === "" ? [] : ((JSON.parse(out) as { Contents?: { Key: string }[] }).Contents ?? []).map((o) => o.Key).sort();
  };
  const inputs = async (dir: string, endpoint: string, version: string): Promise<ModelPublicationInputs> => {
    const files = await listLocalFiles(dir);
    return { endpoint, version, digest: manifestDigest(manifestText(files)), source: dir, dir, files, store };
  };

  before(async () => {
    s3 = await startS3Server();
    await s3.createBucket("models");
    work = mkdtempSync(join(tmpdir(), "publish-"));
    store = { kind: "s3", bucket: "models", endpointUrl: s3.endpoint, region: "us-east-1", credentials: s3.credentials };
  });
  after(async () => {
    await s3?.stop();
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("the hosted provider uploads the files and, last, the manifest; AWS CLI + sha256sum verify them; a second run uploads nothing", { timeout: 180_000 }, async () => {
    const provider = await hostedProvider();
    const dir = join(work, "iris");
    cpSync(join(ROOT, "examples/models/iris-sklearn"), dir, { recursive: true });
    const i = await inputs(dir, "fraud", "c-test");
    const created = await provider.create!(i);
    assert.equal(created.id, "s3://models/fraud/c-test/");
    assert.equal(created.outs.uploadedFiles, 7);
    const got = join(work, "got");
    aws("s3", "cp", "--recursive", "--only-show-errors", "s3://models/fraud/c-test/", got);
    execFileSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: got });
    assert.equal(`sha256:${createHash("sha256").update(readFileSync(join(got, "SHA256SUMS"))).digest("hex")}`, i.digest);
    const again = await provider.update!(created.id, created.outs, i);
    assert.equal(again.outs!.uploadedFiles, 0, "unchanged content is not uploaded again");
    const diff = await provider.diff!(created.id, created.outs, { ...i, dir: "/elsewhere" });
    assert.equal(diff.changes, false, "same digest, other staging directory: no change");
    assert.equal((await provider.diff!(created.id, created.outs, { ...i, digest: `sha256:${"0".repeat(64)}` })).changes, true);
    await provider.delete!(created.id, created.outs);
    assert.deepEqual(keysUnder("fraud/c-test/"), []);
  });

  it("a large file goes up in parallel multipart parts and reads back intact", { timeout: 180_000 }, async () => {
    const dir = join(work, "big");
    execFileSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "weights.bin"), randomBytes(12 << 20));
    writeFileSync(join(dir, "MLmodel"), "flavors:\n  onnx: {data: weights.bin}\n");
    const i = await inputs(dir, "big", "c-big");
    const r = await publishVersion(store, i, { multipartThresholdBytes: 5 << 20, partBytes: 5 << 20, concurrency: 3 });
    assert.equal(r.parts, 4, "3 parts of the 12 MiB file + 1 single-request file");
    const head = JSON.parse(aws("s3api", "head-object", "--bucket", "models", "--key", "big/c-big/weights.bin")) as { ETag: string; ContentLength: number };
    assert.match(head.ETag, /-3"$/, "S3's multipart ETag counts 3 parts");
    assert.equal(head.ContentLength, 12 << 20);
    const got = join(work, "big-got");
    aws("s3", "cp", "--recursive", "--only-show-errors", "s3://models/big/c-big/", got);
    execFileSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: got });
  });

  it("a file changed since its digest was computed stops the publication with nothing uploaded", { timeout: 60_000 }, async () => {
    const dir = join(work, "changing");
    cpSync(join(ROOT, "examples/models/iris-onnx"), dir, { recursive: true });
    const i = await inputs(dir, "changing", "c-1");
    writeFileSync(join(dir, "model.onnx"), "not the model any more");
    await assert.rejects(publishVersion(store, i), /changing\/c-1: .*model\.onnx changed since its digest was computed \(sha256 [0-9a-f]{64}, planned [0-9a-f]{64}\); nothing was uploaded/);
    assert.deepEqual(keysUnder("changing/"), []);
  });

  it("republishing a label with other content replaces it: stale objects removed, new manifest last", { timeout: 60_000 }, async () => {
    const a = join(work, "a");
    cpSync(join(ROOT, "examples/models/iris-sklearn"), a, { recursive: true });
    await publishVersion(store, await inputs(a, "relabel", "v1"));
    const b = join(work, "b");
    cpSync(join(ROOT, "examples/models/iris-onnx"), b, { recursive: true });
    const ib = await inputs(b, "relabel", "v1");
    const r = await publishVersion(store, ib);
    assert.equal(r.deleted, 1, "model.skops is not in the new manifest");
    assert.deepEqual(keysUnder("relabel/v1/"), [...ib.files.map((f) => `relabel/v1/${f.path}`), "relabel/v1/SHA256SUMS"].sort());
  });

  it("an unreachable store is an error naming the store and the operation", { timeout: 60_000 }, async () => {
    const dir = join(work, "iris");
    await assert.rejects(publishVersion({ ...store, endpointUrl: "http://127.0.0.1:9" }, await inputs(dir, "x", "v1")), /reading x\/v1\/SHA256SUMS on s3:\/\/models at http:\/\/127\.0\.0\.1:9 failed/);
  });
});
