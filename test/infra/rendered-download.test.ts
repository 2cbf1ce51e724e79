/**
 * The model-fetch init container of a rendered endpoint Deployment, run exactly as rendered (command, args, env,
 * user, group, no capabilities, read-only root; pod-sandbox.ts) with Debian's AWS CLI v2 against a real
 * S3-compatible server (moto) at the rendered store URL — `http://minio.autopilot-cache.svc:9000`, resolved inside
 * a network namespace. The node cache is a host directory owned as the node-cache preparer leaves it.
 * Covers: the version prefix (`<endpoint>/<version>/`), manifest and file verification, a tampered object, a
 * wrong digest, a missing manifest, unlisted files, a second pod skipping the download, the disk reserve.
 * Bounded: loopback in a private namespace, a few small objects.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import type { ResolvedEndpoint } from "../../components/endpoint-types.ts";
import { MINIO_PORT, MINIO_URL } from "../../components/model-cache/minio-spec.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { kubeObjects, type Obj } from "./helpers.ts";
import { modelVersion, S3Fixture } from "./model-store-fixture.ts";
import { runContainer, sandboxSkip, scratchDir, volumeDir } from "./pod-sandbox.ts";
import { containerOf, resolveEnv, sandboxRun } from "./rendered-container.ts";

const ENDPOINT = "fraud-classifier";
const good = modelVersion({ "MLmodel": "flavors:\n  sklearn: {}\n", "model.pkl": Buffer.from("pickled weights 0123456789"), "sub/conda.yaml": "deps: []\n" });

/** The local stack with the example endpoint declaring the versions these tests publish. */
async function renderWith(versions: ResolvedEndpoint["versions"], bytes?: number): Promise<{ dep: Obj; secrets: Record<string, Record<string, string>> }> {
  const ev = await evaluateStack("local", {
    editResolved: (eps) => eps.map((d) => (d.name === ENDPOINT ? { ...d, versions, ...(bytes !== undefined ? { model: { ...d.model, bytes } } : {}) } : d)),
  });
  const objs = kubeObjects(ev).map((x) => x.obj);
  const dep = objs.find((o) => o.kind === "Deployment" && o.metadata.name === `${ENDPOINT}-${versions[0]!.version}`)!;
  const secrets: Record<string, Record<string, string>> = {};
  for (const s of objs.filter((o) => o.kind === "Secret" && o.metadata.namespace === dep.metadata.namespace)) secrets[s.metadata.name] = s.stringData;
  return { dep, secrets };
}

describe("rendered model-fetch init container (real AWS CLI v2, S3-compatible server on loopback)", { skip: sandboxSkip }, () => {
  const scratch = scratchDir("rendered-download");
  const s3 = new S3Fixture("127.0.0.1", MINIO_PORT, [], [MINIO_URL]);
  let bucket = "";

  before(async () => {
    await s3.start();
    const { dep } = await renderWith([{ version: "v3", digest: good.digest, weight: 90 }, { version: "v4", digest: good.digest, weight: 10 }]);
    bucket = resolveEnv(containerOf(dep, "fetch-model").container, { "model-store-credentials": { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" } }).MODEL_BUCKET!;
    s3.createBucket(bucket);
    s3.publish(bucket, `${ENDPOINT}/v3/`, good, scratch.dir);
  });
  after(() => {
    s3.close();
    scratch.cleanup();
  });

  /** A node's cache directory for the endpoint, as the preparer leaves it (platform UID, 0750). */
  const nodeCache = () => {
    const d = volumeDir(scratch.dir, "hostPathCreate");
    chownSync(d, 1000, 1000);
    execFileSync("chmod", ["0750", d]);
    return d;
  };
  const fetch = (dep: Obj, secrets: Record<string, Record<string, string>>, cache: string) => {
    const rc = containerOf(dep, "fetch-model");
    return runContainer(sandboxRun(rc, resolveEnv(rc.container, secrets), { "model-cache": cache, tmp: volumeDir(scratch.dir, "emptyDir", 1000) }, {
      netns: s3.ns.name, hosts: { "minio.autopilot-cache.svc": "127.0.0.1" },
    }), scratch.dir);
  };

  it("renders MODEL_PREFIX as <endpoint>/<version>/ and downloads, verifies and completes the version; a second pod on the node skips it", async () => {
    const { dep, secrets } = await renderWith([{ version: "v3", digest: good.digest, weight: 100 }]);
    const env = resolveEnv(containerOf(dep, "fetch-model").container, secrets);
    assert.equal(env.MODEL_PREFIX, `${ENDPOINT}/v3/`);
    assert.equal(env.AWS_ENDPOINT_URL, `http://minio.autopilot-cache.svc:${MINIO_PORT}`);
    const cache = nodeCache();
    const first = fetch(dep, secrets, cache);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /model downloaded to \/cache\/sha256-/);
    const dest = path.join(cache, `sha256-${good.digest.slice(7)}`);
    assert.ok(existsSync(path.join(dest, ".complete")));
    assert.equal(readFileSync(path.join(dest, "sub/conda.yaml"), "utf8"), "deps: []\n");
    const second = fetch(dep, secrets, cache);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /model cached on this node/);
  });

  it("a tampered object fails the pod with the reason on stderr and leaves nothing behind", async () => {
    const tampered = modelVersion({ "model.pkl": "original bytes" });
    s3.publish(bucket, `${ENDPOINT}/t1/`, tampered, scratch.dir);
    s3.put(bucket, `${ENDPOINT}/t1/model.pkl`, "swapped bytes!", scratch.dir);
    const { dep, secrets } = await renderWith([{ version: "t1", digest: tampered.digest, weight: 100 }]);
    const cache = nodeCache();
    const r = fetch(dep, secrets, cache);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /model\.pkl: FAILED/);
    assert.match(r.stderr, /fetch-model: files under s3:\/\/.*\/fraud-classifier\/t1\/ do not match their SHA256SUMS/);
    assert.deepEqual(readdirSync(cache).filter((f) => f.startsWith("sha256-")), []);
    assert.deepEqual(readdirSync(path.join(cache, ".partial")), [], "no partial download left");
  });

  it("a manifest that does not hash to the declared digest is refused", async () => {
    const { dep, secrets } = await renderWith([{ version: "v3", digest: `sha256:${"0".repeat(64)}`, weight: 100 }]);
    const r = fetch(dep, secrets, nodeCache());
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`fetch-model: manifest s3://.*/fraud-classifier/v3/SHA256SUMS has digest ${good.digest} but the endpoint declares sha256:0{64}`));
  });

  it("a version without its manifest is refused, naming where the manifest was expected", async () => {
    s3.publish(bucket, `${ENDPOINT}/nomanifest/`, good, scratch.dir, { withManifest: false });
    const { dep, secrets } = await renderWith([{ version: "nomanifest", digest: good.digest, weight: 100 }]);
    const r = fetch(dep, secrets, nodeCache());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /fetch-model: no manifest at s3:\/\/.*\/fraud-classifier\/nomanifest\/SHA256SUMS/);
  });

  it("files the manifest does not list are refused", async () => {
    s3.publish(bucket, `${ENDPOINT}/extra/`, good, scratch.dir, { extra: { "unlisted.bin": "??" } });
    const { dep, secrets } = await renderWith([{ version: "extra", digest: good.digest, weight: 100 }]);
    const r = fetch(dep, secrets, nodeCache());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds 4 files but its manifest lists 3/);
  });

  it("refuses a download that would leave less than 15% of the node filesystem free (never DiskPressure)", async () => {
    const mountPoint = path.join(scratch.dir, "small-fs");
    mkdirSync(mountPoint);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0750,uid=1000,gid=1000", "small-node-fs", mountPoint]);
    try {
      const { dep, secrets } = await renderWith([{ version: "v3", digest: good.digest, weight: 100 }], 3_800_000);
      assert.equal(resolveEnv(containerOf(dep, "fetch-model").container, secrets).MODEL_BYTES, "3800000");
      const r = fetch(dep, secrets, mountPoint);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /fetch-model: not enough node disk for fraud-classifier\/v3: it needs 3711 KiB, \d+ KiB are free and 614 KiB \(15% of the filesystem\) stay free/);
    } finally {
      execFileSync("umount", [mountPoint]);
    }
  });

  it("the init container reports failures through its termination message", async () => {
    const { dep } = await renderWith([{ version: "v3", digest: good.digest, weight: 100 }]);
    assert.equal(containerOf(dep, "fetch-model").container.terminationMessagePolicy, "FallbackToLogsOnError");
  });
});

/**
 * The GCS variant (prod-gcp): the same rendered init container with the gcloud image's command, run against a
 * TEST DOUBLE of `gcloud storage cp` (no GCS emulator or gcloud CLI can be had here) that copies objects from a
 * directory standing for the bucket. It exercises the manifest-driven download (the prefix-conditioned role cannot
 * list the bucket), the 8-way parallel copy and the verification; GCS and Workload Identity themselves are on the
 * real-apply checklist.
 */
const GCLOUD_DOUBLE = `#!/bin/sh
# TEST DOUBLE of gcloud for test/infra/rendered-download.test.ts: only "gcloud storage cp gs://<bucket>/<key> <file>".
set -eu
[ "$1 $2" = "storage cp" ] && [ "$#" -eq 4 ] || { echo "gcloud-double: unsupported: gcloud $*" >&2; exit 2; }
[ -n "\${CLOUDSDK_CONFIG:-}" ] && mkdir -p "$CLOUDSDK_CONFIG"
src="/gcs-double/\${3#gs://}"
[ -f "$src" ] || { echo "ERROR: (gcloud.storage.cp) The following URLs matched no objects or files: $3" >&2; exit 1; }
cp "$src" "$4"
`;

describe("rendered model-fetch init container on GCS (TEST DOUBLE gcloud)", { skip: sandboxSkip }, () => {
  const scratch = scratchDir("rendered-download-gcs");
  after(() => scratch.cleanup());

  it("downloads the files the manifest lists, verifies them, and refuses a tampered one", async () => {
    const v = modelVersion({ "model.onnx": "onnx bytes", "config.pbtxt": "name: \"m\"\n" });
    const render = async (digest: string) => {
      const ev = await evaluateStack("prod-gcp", { editResolved: (eps) => eps.map((d) => (d.name === ENDPOINT ? { ...d, versions: [{ version: "v3", digest, weight: 100 }] } : d)) });
      return kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "Deployment" && o.metadata.name === `${ENDPOINT}-v3`)!;
    };
    const dep = await render(v.digest);
    const rc = containerOf(dep, "fetch-model");
    assert.match(String(rc.container.image), /google-cloud-cli/);
    const env = resolveEnv(rc.container, {});
    assert.equal(env.MODEL_PREFIX, `${ENDPOINT}/v3/`);
    const bucketDir = volumeDir(scratch.dir, "hostPathCreate");
    const publish = (files: Record<string, string>) => {
      for (const [f, c] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(bucketDir, env.MODEL_BUCKET!, env.MODEL_PREFIX!, f)), { recursive: true });
        writeFileSync(path.join(bucketDir, env.MODEL_BUCKET!, env.MODEL_PREFIX!, f), c);
      }
    };
    publish({ ...(v.files as Record<string, string>), SHA256SUMS: v.manifest });
    const bin = volumeDir(scratch.dir, "hostPathCreate");
    writeFileSync(path.join(bin, "gcloud"), GCLOUD_DOUBLE);
    chmodSync(path.join(bin, "gcloud"), 0o755);
    const fetchGcs = (cache: string) => {
      const base = sandboxRun(rc, env, { "model-cache": cache, tmp: volumeDir(scratch.dir, "emptyDir", 1000) });
      return runContainer({ ...base, mounts: [...base.mounts, { path: "/usr/local/bin", hostDir: bin, readOnly: true }, { path: "/gcs-double", hostDir: bucketDir, readOnly: true }] }, scratch.dir);
    };
    const cache = volumeDir(scratch.dir, "hostPathCreate");
    chownSync(cache, 1000, 1000);
    const ok = fetchGcs(cache);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readFileSync(path.join(cache, `sha256-${v.digest.slice(7)}`, "config.pbtxt"), "utf8"), "name: \"m\"\n");
    publish({ "model.onnx": "tampered" });
    const cache2 = volumeDir(scratch.dir, "hostPathCreate");
    chownSync(cache2, 1000, 1000);
    const bad = fetchGcs(cache2);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /fetch-model: files under gs:\/\/.*\/fraud-classifier\/v3\/ do not match their SHA256SUMS/);
  });
});
