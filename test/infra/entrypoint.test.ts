/**
 * `infra/index.ts` — the module `pulumi up` loads (Pulumi.yaml `main`) — evaluates under mocks in a fresh
 * process, reading config the way the engine hands it over (the PULUMI_CONFIG environment variable), and exports
 * gatewayUrl, grafanaUrl and endpointUrls.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
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
  const m = await import(${JSON.stringify(new URL("../../infra/index.ts", import.meta.url).pathname)});
  return { gatewayUrl: m.gatewayUrl, grafanaUrl: m.grafanaUrl, endpointUrls: m.endpointUrls };
});
await pulumi.runtime.waitForRPCs();
console.log(JSON.stringify({ outputs, resources: monitor.registered.length }));
`;

describe("infra/index.ts as the Pulumi entry point", () => {
  it("evaluates with config from PULUMI_CONFIG and exports the URLs", async () => {
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      cwd: new URL("../..", import.meta.url).pathname,
      env: { ...process.env, PULUMI_CONFIG: JSON.stringify(readStackFile("staging-aws")) },
      maxBuffer: 16 << 20,
    });
    const res = JSON.parse(stdout.trim().split("\n").pop()!) as { outputs: { gatewayUrl: string; grafanaUrl: string; endpointUrls: Record<string, string> }; resources: number };
    assert.equal(res.outputs.gatewayUrl, "https://serving.staging.example.com");
    assert.match(res.outputs.grafanaUrl, /^http:\/\/kps-grafana\./);
    assert.deepEqual(Object.keys(res.outputs.endpointUrls).sort(), ["fraud-classifier", "llm-chat", "support-agent", "text-embedder"]);
    assert.ok(res.resources > 100);
  });
});
