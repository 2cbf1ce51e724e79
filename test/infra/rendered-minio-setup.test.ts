/**
 * The local store's `minio-setup` Job, run exactly as rendered (pod-sandbox.ts: its command, env from the
 * rendered Secrets, the platform UID, read-only root, the rendered users Secret mounted) against a TEST DOUBLE of
 * the MinIO client: `mc` cannot be had here (no registry serves it), so a shell stand-in accepts exactly the
 * command forms of mc RELEASE.2024-11-21 used by the script, keeps the server state it would create, answers
 * "not ready" twice before the server is up, and — like servers before RELEASE.2024-10 — fails a re-attach with
 * "already in effect". What it shows: the script's order, idempotency and failure handling, and the exact
 * policies and credentials it creates; what it cannot show (real mc/MinIO behaviour) is in docs/infra.md.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { MINIO_URL } from "../../components/model-cache/minio-spec.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { declareEndpoints } from "../../infra/endpoints.ts";
import { kubeObjects, type Obj } from "./helpers.ts";
import { runContainer, sandboxSkip, scratchDir, volumeDir } from "./pod-sandbox.ts";
import { containerOf, resolveEnv, sandboxRun } from "./rendered-container.ts";

/** The mc stand-in (state under /mc-state: alias, buckets, policies, users, attachments). */
const MC_DOUBLE = `#!/bin/sh
# TEST DOUBLE of the MinIO client for test/infra/rendered-minio-setup.test.ts.
set -eu
s=/mc-state
bad() { echo "mc-double: unsupported call: mc $*" >&2; exit 2; }
case "$*" in
  "alias set "*)
    [ "$#" -eq 6 ] || bad "$@"
    printf '%s %s %s\\n' "$4" "$5" "$6" > "$s/alias-$3" ;;
  "ready "*)
    [ -f "$s/alias-$2" ] || bad "$@"
    n=$(cat "$s/ready-calls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$s/ready-calls"
    [ "$n" -gt 2 ] || { echo "mc: <ERROR> server not ready" >&2; exit 1; } ;;
  "mb --ignore-existing --with-versioning "*)
    b="\${4#*/}"; mkdir -p "$s/buckets/$b"; touch "$s/buckets/$b/.versioned" ;;
  "version enable "*)
    b="\${3#*/}"; [ -d "$s/buckets/$b" ] || { echo "mc: <ERROR> bucket $b does not exist" >&2; exit 1; }; touch "$s/buckets/$b/.versioned" ;;
  "admin policy create "*)
    [ "$#" -eq 6 ] || bad "$@"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$6" || { echo "mc: <ERROR> invalid policy JSON" >&2; exit 1; }
    mkdir -p "$s/policies"; cp "$6" "$s/policies/$5" ;;
  "admin user add "*)
    [ "$#" -eq 6 ] || bad "$@"
    mkdir -p "$s/users"; printf '%s' "$6" > "$s/users/$5" ;;
  "admin policy attach "*)
    [ "$#" -eq 7 ] && [ "$6" = "--user" ] || bad "$@"
    [ -f "$s/policies/$5" ] && [ -f "$s/users/$7" ] || { echo "mc: <ERROR> no such policy or user" >&2; exit 1; }
    mkdir -p "$s/attached"
    if [ -f "$s/attached/$7" ]; then echo "mc: <ERROR> Unable to make user/group policy association. The specified policy change is already in effect." >&2; exit 1; fi
    echo "$5" > "$s/attached/$7" ;;
  *) bad "$@" ;;
esac
`;

describe("rendered minio-setup Job (TEST DOUBLE mc)", { skip: sandboxSkip }, () => {
  const scratch = scratchDir("rendered-minio-setup");
  after(() => scratch.cleanup());

  it("creates the versioned bucket and one read-only user per endpoint, limited to its prefix, and is idempotent", async () => {
    const objs = kubeObjects(await evaluateStack("local")).map((x) => x.obj);
    const job = objs.find((o) => o.kind === "Job" && o.metadata.name === "minio-setup")!;
    const secrets: Record<string, Record<string, string>> = {};
    for (const s of objs.filter((o: Obj) => o.kind === "Secret" && o.metadata.namespace === "autopilot-cache")) secrets[s.metadata.name] = s.stringData;
    const bin = mkdtempSync(path.join(scratch.dir, "bin-"));
    writeFileSync(path.join(bin, "mc"), MC_DOUBLE);
    chmodSync(path.join(bin, "mc"), 0o755);
    chmodSync(bin, 0o755);
    const state = volumeDir(scratch.dir, "emptyDir");
    const users = volumeDir(scratch.dir, "secret", 1000, secrets["minio-users"]!);
    const rc = containerOf(job, "setup");
    const runOnce = () => {
      const base = sandboxRun(rc, resolveEnv(rc.container, secrets), { tmp: volumeDir(scratch.dir, "emptyDir", 1000), users });
      // The stand-in mc on the image's PATH, and its state (neither is part of the pod).
      return runContainer({ ...base, mounts: [...base.mounts, { path: "/usr/local/bin", hostDir: bin, readOnly: true }, { path: "/mc-state", hostDir: state }] }, scratch.dir);
    };

    const first = runOnce();
    assert.equal(first.code, 0, first.stderr);
    const endpoints = declareEndpoints({ environment: "dev" }).map((d) => d.name);
    assert.match(first.stdout, new RegExp(`bucket models and ${endpoints.length} read-only endpoint users and the payload-log writer ready`));
    assert.equal(readFileSync(path.join(state, "alias-store"), "utf8").split(" ")[0], MINIO_URL);
    assert.ok(readFileSync(path.join(state, "buckets/models/.versioned"), "utf8") === "");
    for (const e of endpoints) {
      const doc = JSON.parse(readFileSync(path.join(state, "policies", `read-${e}`), "utf8")) as { Statement: { Action: string[]; Resource: string[]; Condition?: unknown }[] };
      assert.deepEqual(doc.Statement.map((s) => s.Action), [["s3:GetObject"], ["s3:ListBucket"]]);
      assert.deepEqual(doc.Statement[0]!.Resource, [`arn:aws:s3:::models/${e}/*`]);
      assert.deepEqual(doc.Statement[1]!.Condition, { StringLike: { "s3:prefix": [`${e}/*`] } });
      assert.equal(readFileSync(path.join(state, "users", `ep-${e}`), "utf8"), secrets["minio-users"]![e]);
      // The endpoint's own Secret carries the same credential the setup Job gave its user.
      const own = objs.find((o) => o.kind === "Secret" && o.metadata.namespace === `ep-${e}` && o.metadata.name === "model-store-credentials")!;
      assert.deepEqual(own.stringData, { AWS_ACCESS_KEY_ID: `ep-${e}`, AWS_SECRET_ACCESS_KEY: secrets["minio-users"]![e] });
      assert.equal(readFileSync(path.join(state, "attached", `ep-${e}`), "utf8").trim(), `read-${e}`);
    }
    // The gateway's payload-log writer: PutObject under payload-logs/ only, with the key the gateway's Secret holds.
    const writer = JSON.parse(readFileSync(path.join(state, "policies", "write-payload-logs"), "utf8")) as { Statement: unknown[] };
    assert.deepEqual(writer.Statement, [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: ["arn:aws:s3:::models/payload-logs/*"] }]);
    const gatewayKey = objs.find((o) => o.kind === "Secret" && o.metadata.namespace === "autopilot-gateway" && o.metadata.name === "payload-log-credentials")!;
    assert.equal(readFileSync(path.join(state, "users", "gateway-payload-writer"), "utf8"), gatewayKey.stringData.AWS_SECRET_ACCESS_KEY);
    assert.equal(readFileSync(path.join(state, "attached", "gateway-payload-writer"), "utf8").trim(), "write-payload-logs");
    // A replaced Job runs again over the same server state.
    const second = runOnce();
    assert.equal(second.code, 0, second.stderr);
  });

  it("the Job is an ordinary resource (never a Helm hook) that endpoints wait for", async () => {
    const ev = await evaluateStack("local");
    const job = ev.resources.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    assert.equal((job.inputs.metadata as Obj).annotations?.["helm.sh/hook"], undefined);
    const dep = ev.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && String((r.inputs.metadata as Obj).name).startsWith("fraud-classifier-c-"))!;
    assert.ok(dep.dependencies.includes(job.urn), "the endpoint's pods start after the store has its user");
  });
});
