/**
 * The node-cache preparer's two containers, run exactly as the rendered DaemonSet gives them (pod-sandbox.ts):
 * `prepare` as root with only CAP_CHOWN, `gc` as the platform UID with no capabilities, both on a host directory
 * that stands for the node's /var/lib/autopilot/models (root-owned 0755, as the kubelet creates a
 * DirectoryOrCreate hostPath). Each container loops; the tests wait for its pass line and stop it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { declareEndpoints, EXAMPLE_MODELS } from "../../infra/endpoints.ts";
import { kubeObjects, type Obj } from "./helpers.ts";
import { runContainer, sandboxSkip, scratchDir, startContainer, volumeDir } from "./pod-sandbox.ts";
import { containerOf, resolveEnv, sandboxRun } from "./rendered-container.ts";

const extra: EndpointDeclaration = {
  name: "late-endpoint", model: { uri: EXAMPLE_MODELS.sklearn, bytes: 1_000_000 }, computePool: "cpu",
  concurrency: { min: 1, max: 4 }, replicas: { min: 1, max: 2 }, resources: { cpu: 0.1, memoryGiB: 0.25 },
};

async function daemonSet(declare?: (ctx: Parameters<typeof declareEndpoints>[0]) => EndpointDeclaration[]): Promise<Obj> {
  const ev = await evaluateStack("local", declare !== undefined ? { declare } : {});
  return kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "DaemonSet" && o.metadata.name === "node-cache-prep")!;
}

const owner = (p: string) => { const s = statSync(p); return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`; };

describe("rendered node-cache preparer (as root with only CAP_CHOWN, and as the platform UID)", { skip: sandboxSkip }, () => {
  const scratch = scratchDir("rendered-node-cache");
  after(() => scratch.cleanup());

  const run = async (ds: Obj, container: "prepare" | "gc", root: string, ready: RegExp) => {
    const rc = containerOf(ds, container);
    const c = await startContainer(sandboxRun(rc, resolveEnv(rc.container, {}), { "cache-root": root }, { timeoutMs: 60_000 }), scratch.dir, ready);
    await c.kill();
    return c.output();
  };

  it("prepare hands every endpoint directory to the platform UID, survives a restart, and creates later endpoints' directories", async () => {
    const root = volumeDir(scratch.dir, "hostPathCreate");
    const ds = await daemonSet();
    const names = declareEndpoints({ environment: "dev" }).map((d) => d.name);
    assert.match(await run(ds, "prepare", root, /endpoint directories ready/), new RegExp(`node-cache: ${names.length} endpoint directories ready`));
    for (const n of names) assert.equal(owner(path.join(root, n)), "1000:1000 750", n);
    // A restart finds the directories already handed over (chown-then-chmod failed here: root without CAP_FOWNER).
    assert.match(await run(ds, "prepare", root, /endpoint directories ready/), /endpoint directories ready/);
    const later = await daemonSet((ctx) => [...declareEndpoints(ctx), extra]);
    assert.match(await run(later, "prepare", root, /endpoint directories ready/), new RegExp(`${names.length + 1} endpoint directories ready`));
    assert.equal(owner(path.join(root, "late-endpoint")), "1000:1000 750");
  });

  it("the fetch step (platform UID, no capabilities) can write into a prepared directory", async () => {
    const root = volumeDir(scratch.dir, "hostPathCreate");
    const ds = await daemonSet();
    await run(ds, "prepare", root, /endpoint directories ready/);
    const ev = await evaluateStack("local");
    const dep = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "Deployment" && o.metadata.name.startsWith("fraud-classifier-"))!;
    const rc = containerOf(dep, "fetch-model");
    const r = runContainer({ ...sandboxRun(rc, {}, { "model-cache": path.join(root, "fraud-classifier"), tmp: volumeDir(scratch.dir, "emptyDir", 1000) }), argv: ["/bin/sh", "-c", "mkdir /cache/.partial && touch /cache/.partial/probe && echo ok"] }, scratch.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ok");
  });

  it("gc deletes versions no endpoint declares after the grace period, keeps declared ones, and empties undeclared endpoints", async () => {
    const root = volumeDir(scratch.dir, "hostPathCreate");
    const ds = await daemonSet();
    await run(ds, "prepare", root, /endpoint directories ready/);
    const declared = String(kubeObjects(await evaluateStack("local")).map((x) => x.obj).find((o) => o.kind === "Deployment" && o.metadata.name.startsWith("fraud-classifier-"))!
      .spec.template.metadata.annotations["serving.autopilot.dev/model-digest"]).slice(7);
    const mk = (rel: string) => {
      mkdirSync(path.join(root, rel), { recursive: true });
      writeFileSync(path.join(root, rel, ".complete"), "");
      execFileSync("chown", ["-R", "1000:1000", path.join(root, rel.split("/")[0]!)]);
    };
    mk(`fraud-classifier/sha256-${declared}`);
    mk(`fraud-classifier/sha256-${"9".repeat(64)}`);
    mk(`retired-endpoint/sha256-${"8".repeat(64)}`);
    execFileSync("chmod", ["0750", path.join(root, "retired-endpoint")]);
    // First pass: undeclared versions are marked, nothing is deleted yet.
    assert.match(await run(ds, "gc", root, /gc pass removed 0 entries/), /removed 0/);
    assert.ok(existsSync(path.join(root, `fraud-classifier/sha256-${"9".repeat(64)}/.undeclared`)));
    // Two hours later (the grace period is one hour):
    for (const v of [`fraud-classifier/sha256-${"9".repeat(64)}`, `retired-endpoint/sha256-${"8".repeat(64)}`]) {
      execFileSync("touch", ["-d", "2 hours ago", path.join(root, v, ".undeclared")]);
    }
    assert.match(await run(ds, "gc", root, /gc pass removed \d+ entries/), /gc pass removed 2 entries/);
    assert.deepEqual(readdirSync(path.join(root, "fraud-classifier")).filter((f) => f.startsWith("sha256-")), [`sha256-${declared}`]);
    assert.deepEqual(readdirSync(path.join(root, "retired-endpoint")), []);
    // prepare's next pass removes the emptied directory of the endpoint no longer declared.
    const c = await startContainer(sandboxRun(containerOf(ds, "prepare"), resolveEnv(containerOf(ds, "prepare").container, {}), { "cache-root": root }), scratch.dir, /removed .*retired-endpoint/);
    await c.kill();
    assert.ok(!existsSync(path.join(root, "retired-endpoint")));
  });
});
