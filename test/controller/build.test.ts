/**
 * What can be checked of the image without a Docker engine: the two entry points compile with the build
 * tsconfig the Dockerfile uses and start from the built JavaScript (`--help`, a config error), every file the
 * Dockerfile copies exists, the runtime dependency list covers every package the built code imports, and the
 * image runs as non-root on Node 24.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";

const root = resolve(import.meta.dirname, "../..");
const dockerfile = readFileSync(join(root, "controller/Dockerfile"), "utf8");
let out = "";

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe("controller image (controller/Dockerfile)", () => {
  before(() => {
    out = mkdtempSync(join(tmpdir(), "apa-build-"));
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "controller/src/kube/tsconfig.build.json"), "--outDir", out], {
      cwd: root,
      encoding: "utf8",
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module" }));
    symlinkSync(join(root, "node_modules"), join(out, "node_modules"));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  const run = (file: string, args: string[]) =>
    spawnSync(process.execPath, [join(out, file), ...args], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env["PATH"] ?? "" } });

  it("the controller starts from the built output: --help exits 0, a bad flag value exits 2 naming it", () => {
    const help = run("controller/src/kube/main.js", ["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: apa-controller/);
    const bad = run("controller/src/kube/main.js", ["--gateway-url", "http://gw/metrics", "--lease-duration-ms", "1"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid config leaseDurationMs: --lease-duration-ms \(APA_LEASE_DURATION_MS\) = \\"1\\": must be an integer from 2000 to 60000/);
  });

  it("the gateway agent starts from the built output: --help exits 0, a bad flag value exits 2 naming it", () => {
    const help = run("controller/src/gateway/agent-main.js", ["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: gateway-agent/);
    const bad = run("controller/src/gateway/agent-main.js", ["--gateway-replicas", "0"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid config gatewayReplicas: --gateway-replicas \(GW_REPLICAS\) = \\"0\\": must be an integer from 1 to 1000/);
  });

  it("the Triton adapter starts from the built output: prepare makes a repository from the example model; serve --help", () => {
    const repo = join(out, "triton-repository");
    const prep = run("controller/src/serving/adapter-main.js", ["prepare", "--model-dir", join(root, "examples/models/iris-onnx"), "--repository", repo, "--model-name", "iris"]);
    assert.equal(prep.status, 0, prep.stderr);
    assert.ok(existsSync(join(repo, "iris", "config.pbtxt")) && existsSync(join(repo, "iris", "1", "model.onnx")));
    const refused = run("controller/src/serving/adapter-main.js", ["prepare", "--model-dir", join(root, "examples/models/iris-sklearn"), "--repository", repo, "--model-name", "iris"]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /flavors python_function, sklearn; Triton serves MLflow models with the onnx flavor/);
    const help = run("controller/src/serving/adapter-main.js", ["serve", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: adapter-main serve/);
  });

  it("CMD and the documented agent command point at built files", () => {
    const cmd = /CMD \["([^"]+)"\]/.exec(dockerfile)?.[1];
    assert.equal(cmd, "dist/controller/src/kube/main.js");
    assert.ok(dockerfile.includes("dist/controller/src/gateway/agent-main.js"));
    assert.ok(dockerfile.includes("dist/controller/src/serving/adapter-main.js"));
    for (const f of ["controller/src/kube/main.js", "controller/src/gateway/agent-main.js", "controller/src/serving/adapter-main.js"]) assert.ok(existsSync(join(out, f)), f);
  });

  it("every COPY source of the build stage exists in the repository", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? "").split(/\s+/));
    assert.deepEqual(sources, ["package.json", "package-lock.json", "tsconfig.json", "controller/src"]);
    for (const s of sources) assert.ok(existsSync(join(root, s)), s);
    assert.ok(existsSync(join(root, "controller/src/kube/tsconfig.build.json")));
  });

  it("the runtime dependency list covers every package the built code imports, pinned by the lockfile", () => {
    const listed = JSON.parse(`[${/const names = \[([^\]]+)\]/.exec(dockerfile)?.[1] ?? ""}]`) as string[];
    const imported = new Set<string>();
    for (const f of walk(join(out, "controller")).filter((p) => p.endsWith(".js"))) {
      for (const m of readFileSync(f, "utf8").matchAll(/(?:(?<=[\s}])from\s*|\bimport\s*\(?\s*)"([^".][^"]*)"/g)) {
        const spec = m[1] ?? "";
        if (spec.startsWith("node:")) continue;
        imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec));
      }
    }
    assert.deepEqual([...imported].sort(), [...listed].sort());
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string }> };
    for (const n of listed) assert.ok(lock.packages[`node_modules/${n}`]?.version, `${n} in package-lock.json`);
  });

  it("multi-stage, Node 24 slim, non-root numeric user, no shell-form entrypoint", () => {
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(froms, ["node:24-bookworm-slim", "node:24-bookworm-slim"]);
    assert.match(dockerfile, /^USER 1000:1000$/m);
    assert.match(dockerfile, /^ENTRYPOINT \["node"\]$/m);
  });
});
