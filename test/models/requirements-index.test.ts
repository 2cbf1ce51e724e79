/**
 * Requirements that do not resolve fail at preview, not at the image build: the serving image's pinned
 * requirements are checked against the package index (stack config pythonPackageIndexUrl) through its Simple
 * Repository API. The index here is a PEP 503 directory served by Python's own `http.server` on loopback (the
 * layout pip reads); the real `pip` (the repository's virtualenv) is the oracle: it refuses the same pins, for
 * the same reason. Every other endpoint is unaffected; an unreachable index is an error naming the config key.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { EndpointDeclaration } from "../../components/endpoint-types.ts";
import { releasesOf } from "../../components/model/package-index.ts";
import { freePort } from "../../controller/src/local/local-gateway.ts";
import { requirePythonEnv } from "../../controller/src/local/python-env.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { EXAMPLE_MODELS } from "../../infra/endpoints.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

describe("pinned requirements checked against the package index at preview", () => {
  const work = mkdtempSync(join(tmpdir(), "requirements-index-"));
  let server: ChildProcess;
  let index = "";
  const ep = (name: string, uri: string): EndpointDeclaration => ({ name, model: { uri }, computePool: "cpu", concurrency: { min: 1, max: 2 }, replicas: { min: 1, max: 1 }, resources: { cpu: 0.25, memoryGiB: 0.5 } });
  const plan = (decls: EndpointDeclaration[], packageIndex = index) => evaluateStack("local", { declare: () => decls, fetch: { cwd: ROOT, packageIndex } });

  before(async () => {
    // The index: every project the iris example pins, at its pinned version (plus older scikit-learn releases).
    const simple = join(work, "simple");
    const pins = readFileSync(join(ROOT, EXAMPLE_MODELS.sklearn, "requirements.txt"), "utf8").trim().split("\n").map((l) => l.split("=="));
    const releases: Record<string, string[]> = Object.fromEntries(pins.map(([n, v]) => [n!, [v!]]));
    releases["scikit-learn"] = ["1.7.2", "1.8.0", releases["scikit-learn"]![0]!];
    for (const [name, versions] of Object.entries(releases)) {
      mkdirSync(join(simple, name), { recursive: true });
      const file = (v: string) => `${name.replace(/-/g, "_")}-${v}-py3-none-any.whl`;
      writeFileSync(join(simple, name, "index.html"), `<!DOCTYPE html><html><body>\n${versions.map((v) => `<a href="../../files/${file(v)}#sha256=${"0".repeat(64)}">${file(v)}</a><br/>`).join("\n")}\n</body></html>\n`);
    }
    const port = await freePort();
    index = `http://127.0.0.1:${port}/simple/`;
    server = spawn(requirePythonEnv().python, ["-m", "http.server", "--bind", "127.0.0.1", "--directory", work, String(port)], { stdio: "ignore" });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${index}numpy/`)).ok) break;
      } catch { /* not up */ }
      if (i > 100) throw new Error("http.server did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(() => {
    server?.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  });

  it("file names → releases (wheels, sdists, normalized names)", () => {
    assert.deepEqual([...releasesOf("Scikit_Learn", ["scikit_learn-1.9.1-cp311-cp311-manylinux_2_17_x86_64.whl", "scikit-learn-1.8.0.tar.gz", "scikit_learn-1.7.2-1-py3-none-any.whl#sha256=ab", "numpy-2.0.0.tar.gz"])].sort(), ["1.7.2", "1.8.0", "1.9.1"]);
  });

  it("a release the index lacks and a project it lacks fail the plan, as pip refuses them; the example beside them is fine", { timeout: 180_000 }, async () => {
    // The shipped model resolves against this index.
    await plan([ep("fine", EXAMPLE_MODELS.sklearn)]);
    const future = join(work, "future-sklearn");
    cpSync(join(ROOT, EXAMPLE_MODELS.sklearn), future, { recursive: true });
    writeFileSync(join(future, "requirements.txt"), readFileSync(join(future, "requirements.txt"), "utf8").replace(/scikit-learn==[0-9.]+/, "scikit-learn==99.0.0").trimEnd() + "\nprivate-features==0.3.1\n");
    await assert.rejects(plan([ep("fine", EXAMPLE_MODELS.sklearn), ep("future", future)]), (e: Error & { errors?: { subject: string }[] }) => {
      assert.equal(e.name, "DeclarationError");
      assert.match(e.message, new RegExp(`endpoint "future": field "model.uri \\(requirements\\)" has value "scikit-learn==99\\.0\\.0" \\(.*future-sklearn: ${index.replace(/[./]/g, "\\$&")} has no release 99\\.0\\.0 of scikit-learn \\(it lists 1\\.7\\.2, 1\\.8\\.0, 1\\.9\\.1\\)\\); allowed: a release the package index has`));
      assert.match(e.message, /endpoint "future": field "model\.uri \(requirements\)" has value "private-features==0\.3\.1" \(.* has no project private-features\)/);
      assert.deepEqual([...new Set((e.errors ?? []).map((x) => x.subject))], ["future"]);
      return true;
    });
    // pip, reading the same index, refuses both for the same reasons (it never gets to download anything).
    const pip = (req: string) => spawnSync(requirePythonEnv().bin("pip"), ["download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "--dest", join(work, "dl"), "--index-url", index, req], { encoding: "utf8", timeout: 120_000 });
    const noRelease = pip("scikit-learn==99.0.0");
    assert.notEqual(noRelease.status, 0);
    assert.match(noRelease.stderr, /from versions: 1\.7\.2, 1\.8\.0, 1\.9\.1\)[\s\S]*No matching distribution found for scikit-learn==99\.0\.0/);
    const noProject = pip("private-features==0.3.1");
    assert.notEqual(noProject.status, 0);
    assert.match(noProject.stderr, /from versions: none\)[\s\S]*No matching distribution found for private-features==0\.3\.1/);
  });

  it("an unreachable index is an error naming the config key", { timeout: 60_000 }, async () => {
    const closed = `http://127.0.0.1:${await freePort()}/simple/`;
    await assert.rejects(plan([ep("fine", EXAMPLE_MODELS.sklearn)], closed),
      new RegExp(`config key "autopilot-serving:pythonPackageIndexUrl": field "pythonPackageIndexUrl" has value "${closed.replace(/[./]/g, "\\$&")}" \\(the package index .* is unreachable \\(ECONNREFUSED\\)\\)`));
  });
});
