/**
 * Publishing to GCS for real against fake-gcs-server (github.com/fsouza/fake-gcs-server, the GCS JSON API, built
 * from its Go module into .tools/go-tools by tools/go-tools/build.ts) on loopback, reached the way the program
 * reaches GCS (its JSON API; `STORAGE_EMULATOR_HOST` points it at the server, a bearer token as
 * GOOGLE_OAUTH_ACCESS_TOKEN would give): the ModelPublication provider as Pulumi's host runs it (gs://, files then
 * the manifest, read back through the API and checked with coreutils' `sha256sum -c`; a second run uploads
 * nothing; delete empties the prefix), `autopilot models push --store gs://…` as a process, and the published
 * prefix used as a `gs://` model reference (its digest is the published one), and a large file's parallel
 * composite upload (parts in flight together, composed in two levels, read back byte for byte, no temporary left,
 * also when a part fails).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { manifestDigest, manifestText } from "../../components/model/manifest.ts";
import type { ModelPublicationInputs } from "../../components/model/model-publication.ts";
import { resolveEndpoints } from "../../components/model/resolve-endpoints.ts";
import { listLocalFiles } from "../../components/model/sources/local-files.ts";
import { GCS_UPLOAD_TMP_PREFIX, openStore, type StoreLocation } from "../../components/model/sources/object-store.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requireGoTool } from "../../tools/go-tools/build.ts";
import { hostedProvider } from "./hosted-provider.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "controller", "src", "cli", "autopilot.mjs");
const TOKEN = "test-token";

describe("model publication to GCS (fake-gcs-server on loopback)", () => {
  let server: ChildProcess;
  let api = "";
  let log = "";
  let work = "";
  const store: StoreLocation = { kind: "gcs", bucket: "models", gcsToken: TOKEN };
  const names = async (prefix: string): Promise<string[]> => {
    const body = (await (await fetch(`${api}/storage/v1/b/models/o?prefix=${encodeURIComponent(prefix)}`)).json()) as { items?: { name: string }[] };
    return (body.items ?? []).map((o) => o.name).sort();
  };
  /** Downloads every object under `prefix` through the JSON API into `dir`. */
  const download = async (prefix: string, dir: string) => {
    for (const name of await names(prefix)) {
      const dst = join(dir, name.slice(prefix.length));
      mkdirSync(dirname(dst), { recursive: true });
      const res = await fetch(`${api}/storage/v1/b/models/o/${encodeURIComponent(name)}?alt=media`);
      assert.equal(res.status, 200, name);
      writeFileSync(dst, Buffer.from(await res.arrayBuffer()));
    }
  };
  const inputs = async (dir: string, endpoint: string, version: string): Promise<ModelPublicationInputs> => {
    const files = await listLocalFiles(dir);
    return { endpoint, version, digest: manifestDigest(manifestText(files)), source: dir, dir, files, store };
  };

  before(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    server = spawn(requireGoTool("fake-gcs-server"), ["-scheme", "http", "-host", "127.0.0.1", "-port", String(port), "-backend", "memory", "-public-host", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    server.stdout?.on("data", (d: Buffer) => { log += d.toString(); });
    server.stderr?.on("data", (d: Buffer) => { log += d.toString(); });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${api}/storage/v1/b`, { signal: AbortSignal.timeout(1000) })).ok) break;
      } catch { /* not up yet */ }
      if (i > 150 || server.exitCode !== null) throw new Error(`fake-gcs-server did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await fetch(`${api}/storage/v1/b?project=test`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "models" }) });
    assert.equal(created.status, 200, await created.text());
    process.env["STORAGE_EMULATOR_HOST"] = api;
    work = mkdtempSync(join(tmpdir(), "publish-gcs-"));
  });
  after(() => {
    server?.kill("SIGTERM");
    if (work !== "") rmSync(work, { recursive: true, force: true });
  });

  it("the hosted provider publishes to gs://: files and manifest read back and verified; unchanged = no upload; delete empties it", { timeout: 120_000 }, async () => {
    const provider = await hostedProvider();
    const dir = join(work, "iris");
    cpSync(join(ROOT, "examples/models/iris-sklearn"), dir, { recursive: true });
    const i = await inputs(dir, "fraud", "c-gcs");
    const created = await provider.create!(i);
    assert.equal(created.id, "gs://models/fraud/c-gcs/");
    assert.equal(created.outs.uploadedFiles, 7);
    assert.deepEqual(await names("fraud/c-gcs/"), [...i.files.map((f) => `fraud/c-gcs/${f.path}`), "fraud/c-gcs/SHA256SUMS"].sort());
    const got = join(work, "got");
    await download("fraud/c-gcs/", got);
    execFileSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: got });
    assert.equal(`sha256:${createHash("sha256").update(readFileSync(join(got, "SHA256SUMS"))).digest("hex")}`, i.digest);
    const again = await provider.update!(created.id, created.outs, i);
    assert.equal(again.outs!.uploadedFiles, 0, "unchanged content is not uploaded again");
    await provider.delete!(created.id, created.outs);
    assert.deepEqual(await names("fraud/c-gcs/"), []);
  });

  it("autopilot models push --store gs://… publishes and prints the digest; the prefix then resolves as a gs:// model with that digest", { timeout: 180_000 }, async () => {
    const env = { ...process.env, STORAGE_EMULATOR_HOST: api, GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN, AUTOPILOT_MODEL_CACHE: join(work, "cache"), HOME: work };
    const push = (...extra: string[]) => spawnSync(process.execPath, [CLI, "models", "push", "examples/models/iris-onnx", "--endpoint", "embedder", "--version", "v7", "--store", "gs://models", ...extra], { cwd: ROOT, encoding: "utf8", env, timeout: 120_000 });
    const r = push();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^published embedder\/v7 \(onnx, from .*iris-onnx\) at gs:\/\/models\/embedder\/v7\/: \d+ files, \d+ bytes uploaded\n/);
    const digest = r.stdout.trim().split("\n").pop()!;
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const again = push("--json");
    assert.equal(again.status, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { unchanged: boolean }).unchanged, true);
    const got = join(work, "pushed");
    await download("embedder/v7/", got);
    execFileSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: got });
    // The published prefix as a model reference: fetched through the same API, its digest is the published manifest's.
    const resolved = await resolveEndpoints([{ name: "from-gcs", model: { uri: "gs://models/embedder/v7/" }, computePool: "cpu", concurrency: { min: 1, max: 2 }, replicas: { min: 1, max: 1 } }], { cacheRoot: join(work, "cache"), storeFor: (kind, bucket) => ({ kind, bucket, gcsToken: TOKEN }) });
    assert.equal(resolved.endpoints[0]!.versions[0]!.digest, digest);
    assert.equal(resolved.endpoints[0]!.model.flavor, "onnx");
    const noBucket = spawnSync(process.execPath, [CLI, "models", "push", "examples/models/iris-onnx", "--endpoint", "embedder", "--store", "gs://no-such-bucket"], { cwd: ROOT, encoding: "utf8", env, timeout: 120_000 });
    assert.equal(noBucket.status, 4, noBucket.stderr);
    assert.match(noBucket.stderr, /on gs:\/\/no-such-bucket failed: HTTP 404/);
  });
  it("a file above the threshold goes up as parallel parts, composed 32 at a time, temporaries deleted; a failed part leaves nothing", { timeout: 120_000 }, async () => {
    const KiB = 1024;
    const tuning = { multipartThresholdBytes: 1024 * KiB, partBytes: 256 * KiB, concurrency: 4 };
    const bytes = 42 * 256 * KiB - 1000; // 42 parts: two compose groups of ≤ 32, then the final compose of those two
    const data = randomBytes(bytes);
    const file = join(work, "weights.bin");
    writeFileSync(file, data);
    // Counts the part uploads in flight together (the store reaches GCS through the global fetch).
    const realFetch = globalThis.fetch;
    let inFlight = 0;
    let maxInFlight = 0;
    let partRequests = 0;
    /** A part name whose upload the network "fails" (HTTP 503, the server never sees it). */
    let failPart: string | undefined;
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const isPart = String(input).includes(`name=${encodeURIComponent(GCS_UPLOAD_TMP_PREFIX)}`);
      if (isPart && failPart !== undefined && String(input).endsWith(encodeURIComponent(failPart))) return new Response("injected failure", { status: 503 });
      if (isPart) {
        partRequests++;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
      }
      try {
        return await realFetch(input, init);
      } finally {
        if (isPart) inFlight--;
      }
    }) as typeof fetch;
    const client = openStore(store);
    try {
      assert.equal(await client.putFile("big/v1/weights.bin", file, bytes, tuning), 42);
      assert.equal(partRequests, 42);
      assert.ok(maxInFlight >= 2 && maxInFlight <= 4, `parts in flight together: ${maxInFlight} (concurrency 4)`);
      const res = await realFetch(`${api}/storage/v1/b/models/o/${encodeURIComponent("big/v1/weights.bin")}?alt=media`);
      assert.equal(res.status, 200);
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(got.length, bytes);
      assert.equal(createHash("sha256").update(got).digest("hex"), createHash("sha256").update(data).digest("hex"));
      assert.deepEqual(await names(GCS_UPLOAD_TMP_PREFIX), [], "no temporary part or intermediate is left");
      // Below the threshold: one request, no temporaries.
      assert.equal(await client.putFile("big/v1/small.bin", file, 1000, { ...tuning, multipartThresholdBytes: 1001 }), 1);
      // A part that fails fails the upload: no new part starts, the ones in flight end, every part stored is deleted
      // and the object is not created.
      failPart = "part-0007";
      partRequests = 0;
      await assert.rejects(client.putFile("big/v2/weights.bin", file, bytes, tuning), /uploading part 7\/42 of big\/v2\/weights\.bin on gs:\/\/models failed: HTTP 503 injected failure/);
      assert.ok(partRequests < 42, `${partRequests} part uploads were sent after the failure`);
      assert.deepEqual(await names("big/v2/"), []);
      assert.deepEqual(await names(GCS_UPLOAD_TMP_PREFIX), [], "a failed upload leaves no temporary");
      // A versioned bucket (as the stacks' model buckets are): the temporaries' generations are deleted outright,
      // none is kept as a noncurrent version.
      const made = await realFetch(`${api}/storage/v1/b?project=test`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "versioned", versioning: { enabled: true } }) });
      assert.equal(made.status, 200, await made.text());
      failPart = undefined;
      const versioned = openStore({ ...store, bucket: "versioned" });
      assert.equal(await versioned.putFile("big/v1/weights.bin", file, bytes, tuning), 42);
      const versions = (await (await realFetch(`${api}/storage/v1/b/versioned/o?versions=true&prefix=${encodeURIComponent(GCS_UPLOAD_TMP_PREFIX)}`)).json()) as { items?: { name: string }[] };
      assert.deepEqual((versions.items ?? []).map((o) => o.name), [], "no noncurrent version of a temporary is kept");
      const all = (await (await realFetch(`${api}/storage/v1/b/versioned/o?versions=true`)).json()) as { items?: { name: string }[] };
      assert.deepEqual((all.items ?? []).map((o) => o.name), ["big/v1/weights.bin"]);
    } finally {
      globalThis.fetch = realFetch;
      client.close();
    }
  });
});
