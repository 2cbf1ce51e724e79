/**
 * Every shell script the program renders into a pod is run, exactly as rendered, by a test: this file lists the
 * containers that run `sh -c` in any example stack and fails when one is not covered — a new script comes with
 * its test. The prepull init containers (`sh -c "exit 0"`) are run here.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj } from "./helpers.ts";
import { runContainer, sandboxSkip, scratchDir, volumeDir } from "./pod-sandbox.ts";
import { containerOf, resolveEnv, sandboxRun } from "./rendered-container.ts";

/** `<kind>/<container>` (prepull containers by prefix) → the test that runs it as rendered. */
const COVERED: Record<string, string> = {
  "Deployment/fetch-model": "rendered-download.test.ts (S3-compatible with the real AWS CLI; GCS with a test-double gcloud)",
  "DaemonSet/prepare": "rendered-node-cache.test.ts",
  "DaemonSet/gc": "rendered-node-cache.test.ts",
  "Job/setup": "rendered-minio-setup.test.ts (test-double mc)",
  "DaemonSet/pull-": "this file",
};

const shellContainers = (objs: Obj[]) => objs.filter((o) => ["Deployment", "DaemonSet", "Job", "StatefulSet"].includes(o.kind)).flatMap((o) =>
  [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers]
    .filter((c: Obj) => /(^|\/)sh$/.test(String(c.command?.[0] ?? "")) && c.command?.[1] === "-c")
    .map((c: Obj) => ({ obj: o, container: c as Obj, key: `${o.kind}/${String(c.name).startsWith("pull-") ? "pull-" : c.name}` })));

describe("rendered shell scripts", () => {
  for (const stack of EXAMPLE_STACKS) {
    it(`${stack}: every container running sh -c is run as rendered by a test`, async () => {
      const found = shellContainers(kubeObjects(await evaluated(stack)).map((x) => x.obj));
      assert.ok(found.length >= 4);
      for (const f of found) assert.ok(COVERED[f.key] !== undefined, `${f.obj.kind} ${f.obj.metadata.namespace}/${f.obj.metadata.name} container ${f.container.name} runs a script no test runs`);
    });
  }

  describe("prepull init containers", { skip: sandboxSkip }, () => {
    const scratch = scratchDir("rendered-prepull");
    after(() => scratch.cleanup());
    it("exit 0 as the platform UID with a read-only root", async () => {
      const ds = kubeObjects(await evaluated("local")).map((x) => x.obj).find((o) => o.kind === "DaemonSet" && String(o.metadata.name).startsWith("prepull-"))!;
      for (const c of ds.spec.template.spec.initContainers as Obj[]) {
        const rc = containerOf(ds, c.name);
        const r = runContainer(sandboxRun(rc, resolveEnv(rc.container, {}), { tmp: volumeDir(scratch.dir, "emptyDir") }), scratch.dir);
        assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      }
    });
  });
});
