/**
 * The package as a user gets it: `npm pack` (which builds dist/ first), the tarball installed into scratch Pulumi
 * programs in a temporary directory outside the repository (examples/platform and examples/team-endpoints copied
 * there), type-checked against the package's .d.ts files with the examples' own tsconfig, then run under Pulumi's
 * mocks (the package's `autopilot-serving/testing`, a TEST DOUBLE of the engine). The team stack's
 * StackReference reads the platform run's own outputs. Offline: the tarball is unpacked into the programs'
 * node_modules and its dependencies come from the repository's node_modules (a link above the programs).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../..");
const node = process.execPath;
let scratch = "";
let tarball = "";

interface Resource { type: string; name: string; parent: string; custom: boolean; inputs: Record<string, unknown>; provider: string; dependencies: string[] }
interface Run { resources: Resource[]; outputs: Record<string, unknown> }

const RUNNER = `import { readFileSync, writeFileSync } from "node:fs";
import { evaluateProgram } from "autopilot-serving/testing";
const opts = JSON.parse(readFileSync(process.argv[2], "utf8"));
const run = await evaluateProgram(() => import("./index.ts"), opts);
writeFileSync(process.argv[3], JSON.stringify(run));
`;

/** Copies an example next to the unpacked tarball, then type-checks it and runs it under mocks. */
function prepare(example: string): string {
  const dir = join(scratch, example);
  cpSync(join(root, "examples", example), dir, { recursive: true });
  const pkg = join(dir, "node_modules", "autopilot-serving");
  mkdirSync(pkg, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", pkg, "--strip-components=1"]);
  writeFileSync(join(dir, "run-mocks.ts"), RUNNER);
  return dir;
}

function stackConfig(dir: string, stack: string): Record<string, string> {
  const project = (parse(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as { name: string }).name;
  const raw = (parse(readFileSync(join(dir, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;
  assert.ok(Object.keys(raw).every((k) => k.startsWith(`${project}:`)));
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function evaluate(dir: string, opts: Record<string, unknown>): Run {
  writeFileSync(join(dir, "opts.json"), JSON.stringify(opts));
  const r = spawnSync(node, ["run-mocks.ts", "opts.json", "run.json"], { cwd: dir, encoding: "utf8", timeout: 240_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as Run;
}

const ofType = (run: Run, type: string) => run.resources.filter((r) => r.type === type);
const named = (run: Run, type: string, name: string) => {
  const r = run.resources.find((x) => x.type === type && x.name === name);
  assert.ok(r, `${type} ${name} registered; have ${ofType(run, type).map((x) => x.name).join(", ")}`);
  return r;
};
const spec = (r: Resource) => r.inputs["spec"] as Record<string, any>;

describe("the packed package in a user's Pulumi programs", () => {
  let platformRun: Run;
  let teamRun: Run;
  let platformDir = "";
  let teamDir = "";

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "autopilot-pack-"));
    const packed = spawnSync("npm", ["pack", "--pack-destination", scratch, "--json"], { cwd: root, encoding: "utf8", timeout: 400_000, env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env["PATH"] ?? ""}` } });
    assert.equal(packed.status, 0, packed.stderr);
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(scratch, info[0]!.filename);
    // Dependencies resolve from a node_modules above the programs: the repository's, linked (offline).
    symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));
    platformDir = prepare("platform");
    teamDir = prepare("team-endpoints");
  });
  after(() => {
    if (scratch !== "") rmSync(scratch, { recursive: true, force: true });
  });

  it("the tarball holds JavaScript and .d.ts files only under dist/, for every subpath it exports", () => {
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n").map((f) => f.replace(/^package\//, ""));
    // Besides dist/: the README, package.json and the CLI's JavaScript launcher (the `autopilot` bin; it runs dist/controller/src/cli/).
    assert.deepEqual(files.filter((f) => !f.startsWith("dist/")).sort(), ["README.md", "controller/src/cli/autopilot.mjs", "package.json"]);
    assert.ok(files.includes("dist/controller/src/cli/main.js"), "the CLI is built");
    assert.deepEqual(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), []);
    const pkg = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as { version: string; exports: Record<string, { types: string; default: string } | string>; private?: boolean };
    assert.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.equal(pkg.private, undefined);
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      assert.ok(files.includes(target.default.slice(2)), `${sub}: ${target.default} packed`);
      assert.ok(files.includes(target.types.slice(2)), `${sub}: ${target.types} packed`);
    }
    assert.deepEqual(Object.keys(pkg.exports).sort(), [".", "./components", "./controller", "./package.json", "./testing"]);
  });

  it("every subpath imports from the installed package (no TypeScript under node_modules)", () => {
    const r = spawnSync(node, ["--input-type=module", "-e", `
      const subs = ["autopilot-serving", "autopilot-serving/components", "autopilot-serving/controller", "autopilot-serving/testing"];
      for (const s of subs) { const m = await import(s); console.log(s, Object.keys(m).length); }
      const c = await import("autopilot-serving/controller");
      console.log(c.servingEndpointCrd().metadata.name, typeof c.decide);`], { cwd: platformDir, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /servingendpoints\.serving\.autopilot\.dev function/);
  });

  it("the installed package's `autopilot` bin runs the built CLI", () => {
    const bin = join(platformDir, "node_modules", "autopilot-serving", "controller", "src", "cli", "autopilot.mjs");
    const help = spawnSync(node, [bin, "models", "push", "--help"], { cwd: platformDir, encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: autopilot models push \[options\] <uri>/);
    const bad = spawnSync(node, [bin, "models", "push", "hf://x", "--endpoint", "e", "--store", "s3://models"], { cwd: platformDir, encoding: "utf8" });
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /the scheme "hf:" is not supported/);
  });

  it("both examples type-check against the package's declarations with their own tsconfig", () => {
    for (const dir of [platformDir, teamDir]) {
      const r = spawnSync(node, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")], { cwd: dir, encoding: "utf8", timeout: 300_000 });
      assert.equal(r.status, 0, `${dir}: ${r.stdout}${r.stderr}`);
    }
  });

  it("examples/platform under mocks: a platform and an endpoint, and the outputs team stacks read", () => {
    platformRun = evaluate(platformDir, { project: "serving-platform", stack: "prod", config: stackConfig(platformDir, "prod") });
    named(platformRun, "autopilot:platform:ServingPlatform", "serving");
    assert.equal(ofType(platformRun, "aws:eks/cluster:Cluster").length, 1);
    assert.equal(ofType(platformRun, "aws:s3/bucket:Bucket").length, 1);
    const ep = named(platformRun, "autopilot:endpoint:ServingEndpoint", "iris");
    const dep = platformRun.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && /^iris-c-[0-9a-f]{12}-deployment$/.test(r.name))!;
    assert.ok(dep, "the iris version's Deployment, labelled by its content");
    assert.equal(ofType(platformRun, "pulumi-nodejs:dynamic/autopilot:ModelPublication").length, 1, "the model is published by the program");
    assert.ok(dep.parent.endsWith("::iris") && ep.custom === false);
    const pod = spec(dep)["template"].spec;
    assert.deepEqual(pod.nodeSelector, { "serving.autopilot.dev/pool": "cpu" });
    const cr = named(platformRun, "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint", "iris-cr");
    assert.deepEqual(spec(cr)["concurrency"], { min: 4, max: 32 });
    const out = platformRun.outputs as { platform: any; kubeconfig: string; irisUrl: string };
    assert.equal(out.platform.schema, "autopilot-serving/platform@1");
    assert.equal(out.platform.cloud, "aws");
    assert.equal(out.platform.modelStore.kind, "s3");
    assert.match(out.platform.modelStore.bucketArn, /^arn:aws:s3:::/);
    assert.deepEqual(out.platform.pools.map((p: { poolName: string }) => p.poolName), ["cpu", "gpu"]);
    assert.deepEqual(out.platform.pools[1].tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.match(out.kubeconfig, /mock-eks\.invalid/);
    assert.match(out.irisUrl, /^https:\/\/.+\/serving-endpoints\/iris\/invocations$/);
  });

  it("examples/team-endpoints under mocks: endpoints on the referenced platform, nothing of the platform created", () => {
    const o = platformRun.outputs;
    teamRun = evaluate(teamDir, {
      project: "team-endpoints", stack: "prod", config: stackConfig(teamDir, "prod"),
      stackOutputs: { "example-org/serving-platform/prod": { outputs: { platform: o["platform"], kubeconfig: o["kubeconfig"], modelStoreSecret: o["modelStoreSecret"] }, secretOutputNames: ["kubeconfig", "modelStoreSecret"] } },
    });
    assert.deepEqual(teamRun.resources.filter((r) => /eks\/cluster|s3\/bucket|ServingPlatform|Gateway|ApaController/.test(r.type)), []);
    named(teamRun, "autopilot:platform:PlatformReference", "platform");
    const k8s = named(teamRun, "pulumi:providers:kubernetes", "platform-k8s");
    assert.equal(k8s.inputs["kubeconfig"], o["kubeconfig"]);
    const store = (o["platform"] as { modelStore: { bucket: string; eksClusterName: string } }).modelStore;
    for (const name of ["fraud-scorer", "onnx-scorer"]) {
      const assoc = named(teamRun, "aws:eks/podIdentityAssociation:PodIdentityAssociation", `${name}-pod-identity`);
      assert.equal(assoc.inputs["clusterName"], store.eksClusterName);
      assert.equal(assoc.inputs["namespace"], `ep-${name}`);
      assert.ok(assoc.provider.includes("platform-aws"), assoc.provider);
    }
    const gpuPod = spec(teamRun.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name.startsWith("onnx-scorer-c-"))!)["template"].spec;
    assert.equal(gpuPod.nodeSelector["serving.autopilot.dev/pool"], "gpu");
    assert.ok(gpuPod.tolerations.some((t: { key: string }) => t.key === "nvidia.com/gpu"));
    const cr = named(teamRun, "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint", "fraud-scorer-cr");
    assert.equal(cr.provider.split("::")[3], "platform-k8s");
    assert.match(JSON.stringify(spec(cr)), new RegExp(`s3://${store.bucket}/fraud-scorer/c-[0-9a-f]{12}/`));
    assert.equal(spec(cr)["sloP99Ms"] ?? spec(cr)["slo"]?.p99Ms ?? 50, 50);
    assert.match(String(teamRun.outputs["fraudScorerUrl"]), /\/serving-endpoints\/fraud-scorer\/invocations$/);
  });

  it("a team stack's misspelled field fails at plan time naming the field and the likely one", () => {
    const src = readFileSync(join(teamDir, "index.ts"), "utf8");
    writeFileSync(join(teamDir, "index.ts"), src.replace("sloP99Ms: 50", "sloP99ms: 50"));
    writeFileSync(join(teamDir, "opts.json"), JSON.stringify({
      project: "team-endpoints", stack: "prod", config: stackConfig(teamDir, "prod"),
      stackOutputs: { "example-org/serving-platform/prod": { outputs: platformRun.outputs } },
    }));
    const r = spawnSync(node, ["run-mocks.ts", "opts.json", "bad.json"], { cwd: teamDir, encoding: "utf8", timeout: 240_000 });
    writeFileSync(join(teamDir, "index.ts"), src);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /endpoint "fraud-scorer": field "sloP99ms" has value 50 \(unknown field; did you mean "sloP99Ms"\?\)/);
    assert.ok(!readdirSync(teamDir).includes("bad.json"));
  });
});
