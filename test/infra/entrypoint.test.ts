/**
 * `infra/main.mjs` — the module `pulumi up` loads (Pulumi.yaml `main`) — evaluates under mocks in a fresh
 * process, reading config the way the engine hands it over (the PULUMI_CONFIG environment variable, built by the
 * CLI's config rules from Pulumi.<stack>.yaml), and exports gatewayUrl, gatewayCaCertificate, grafanaUrl and
 * endpointUrls. On a Node that cannot run the TypeScript program it stops with the command to use instead.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { readStackFile } from "../../infra/evaluate.ts";

const run = promisify(execFile);
const SCRIPT = `
import * as pulumi from "@pulumi/pulumi";
import { RecordingMonitor } from ${JSON.stringify(new URL("../../infra/mock-monitor.ts", import.meta.url).pathname)};
const monitor = new RecordingMonitor();
pulumi.runtime.setMockOptions(monitor, "autopilot-serving", "staging-aws", false);
const outputs = await pulumi.runtime.runInPulumiStack(async () => {
  const m = await import(${JSON.stringify(new URL("../../infra/main.mjs", import.meta.url).pathname)});
  return { gatewayUrl: m.gatewayUrl, gatewayCaCertificate: m.gatewayCaCertificate, grafanaUrl: m.grafanaUrl, endpointUrls: m.endpointUrls };
});
await pulumi.runtime.waitForRPCs();
console.log(JSON.stringify({ outputs, resources: monitor.registered.length }));
`;

describe("infra/main.mjs as the Pulumi entry point", () => {
  it("Pulumi.yaml names it, and no nodeargs a Node 20 would reject", () => {
    const project = readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8");
    assert.match(project, /^main: infra\/main\.mjs$/m);
    assert.doesNotMatch(project, /nodeargs/);
  });

  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((p) => existsSync(p) && Number(execFileSync(p, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" })) < 23);
  it("an old node on PATH gets the command to run instead", { skip: oldNode === undefined ? "no Node < 23 on this machine" : false }, async () => {
    await assert.rejects(run(oldNode!, ["--input-type=module", "-e", `await import(${JSON.stringify(new URL("../../infra/main.mjs", import.meta.url).pathname)})`]), (e: { stderr: string }) => {
      assert.match(e.stderr, /autopilot-serving needs Node >= 23\.6 .* Run Pulumi with the Node that `npm ci` installed: PATH="\$PWD\/node_modules\/\.bin:\$PATH" pulumi up/);
      return true;
    });
  });

  it("evaluates with config from PULUMI_CONFIG and exports the URLs", async () => {
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      cwd: new URL("../..", import.meta.url).pathname,
      env: { ...process.env, PULUMI_CONFIG: JSON.stringify(readStackFile("staging-aws")) },
      maxBuffer: 16 << 20,
    });
    const res = JSON.parse(stdout.trim().split("\n").pop()!) as { outputs: { gatewayUrl: string; grafanaUrl: string; endpointUrls: Record<string, string> }; resources: number };
    assert.equal(res.outputs.gatewayUrl, "https://serving.staging.example.com");
    assert.match(res.outputs.grafanaUrl, /^http:\/\/kps-grafana\./);
    assert.match((res.outputs as { gatewayCaCertificate?: string }).gatewayCaCertificate ?? "", /BEGIN CERTIFICATE/);
    assert.deepEqual(Object.keys(res.outputs.endpointUrls).sort(), ["fraud-classifier", "llm-chat", "text-embedder"]);
    assert.ok(res.resources > 100);
  });
});
